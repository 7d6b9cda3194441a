/**
 * The few colors the TUI uses, by role. Chalk (under Ink) ignores NO_COLOR, so the TUI honours it
 * itself (https://no-color.org): with NO_COLOR set to anything non-empty every role is uncolored.
 * Views take colors only from here and never write escape codes themselves.
 */
import { createContext, useContext } from 'react';

export interface Theme {
  accent: string | undefined;
  success: string | undefined;
  warning: string | undefined;
  error: string | undefined;
  /** Code spans and blocks in the chat. */
  code: string | undefined;
}

const COLORS: Theme = { accent: 'cyan', success: 'green', warning: 'yellow', error: 'red', code: 'magenta' };
const NO_COLORS: Theme = { accent: undefined, success: undefined, warning: undefined, error: undefined, code: undefined };

export function themeFor(env: NodeJS.ProcessEnv): Theme {
  return env.NO_COLOR ? NO_COLORS : COLORS;
}

export const ThemeContext = createContext<Theme>(themeFor(process.env));

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
