/**
 * How a terminal alerts its user to a notification (the daemon's `notification` event): the bell,
 * and a desktop notification asked of the terminal itself, OSC 9 (`ESC ] 9 ; text BEL`: iTerm2,
 * kitty, Ghostty, WezTerm …) and OSC 777 (`ESC ] 777 ; notify ; title ; body BEL`: urxvt, VTE,
 * foot, Ghostty, WezTerm …). Inside tmux the notification is wrapped for its passthrough
 * (`ESC P tmux; … ESC \`, every ESC inside doubled; tmux 3.3+ forwards it with `allow-passthrough
 * on`); the bell stays outside, so tmux sees it as its own (monitor-bell, the window's bell flag).
 *
 * Pure: the sequence is built here, the TUI writes it (run.tsx). The text comes from goal titles,
 * which anyone can write: every field is cleaned (controls, ESC and BEL become spaces, `;` becomes
 * `,`: it separates OSC 777's fields, and a terminal may read `9;4;…` as a command) and clipped.
 */
import { clipUnits, oneLine } from '../../protocol/text.ts';

const ESC = '\u001b';
const BEL = '\u0007';
/** String terminator (ESC \): ends tmux's passthrough. */
const ST = `${ESC}\\`;

/** A desktop notification's title and body at most, in UTF-16 units (a desktop shows a few words). */
export const ALERT_TITLE_MAX = 80;
export const ALERT_BODY_MAX = 200;

/** The ways a terminal can be asked for a desktop notification. */
export type DesktopProtocol = 'osc9' | 'osc777';

/** What the terminal the TUI runs in can take. */
export interface AlertTerminal {
  /** Inside tmux ($TMUX set): desktop notifications go through its passthrough. */
  tmux: boolean;
  /** The protocols to write a desktop notification in. */
  desktop: readonly DesktopProtocol[];
}

/**
 * Terminals known to show a notification for both protocols take one of them: written both ways,
 * they would show it twice. Any other terminal (or one behind tmux, whose TERM_PROGRAM is tmux's)
 * gets both; a terminal ignores the OSC it does not know.
 */
const ONE_PROTOCOL: Readonly<Record<string, readonly DesktopProtocol[]>> = {
  'iTerm.app': ['osc9'],
  ghostty: ['osc777'],
  WezTerm: ['osc777'],
};

/** The terminal as its environment describes it. */
export function alertTerminal(env: NodeJS.ProcessEnv): AlertTerminal {
  const tmux = Boolean(env.TMUX);
  const program = tmux ? undefined : env.TERM_PROGRAM;
  return { tmux, desktop: (program !== undefined && ONE_PROTOCOL[program]) || ['osc9', 'osc777'] };
}

/** Untrusted text as one field of an OSC sequence: one line, no controls, no `;`, at most `max` units. */
export function alertField(text: string, max: number): string {
  const clean = oneLine(text.replace(/;/g, ','));
  return clean.length > max ? `${clipUnits(clean, max - 1)}…` : clean;
}

/** What a notification asks of a terminal (the `notification` event's data). */
export interface AlertRequest {
  title: string;
  body: string;
  /** Ring the bell. */
  bell: boolean;
  /** Show a desktop notification. */
  desktop: boolean;
}

/** The bytes that alert the user of `terminal` to `request`; empty when it asks for neither. */
export function alertSequence(request: AlertRequest, terminal: AlertTerminal): string {
  let sequence = request.bell ? BEL : '';
  if (!request.desktop) return sequence;
  const title = alertField(request.title, ALERT_TITLE_MAX) || 'Ralph';
  const body = alertField(request.body, ALERT_BODY_MAX);
  for (const protocol of terminal.desktop) {
    const osc = protocol === 'osc9' ? `${ESC}]9;${body ? `${title}: ${body}` : title}${BEL}` : `${ESC}]777;notify;${title};${body}${BEL}`;
    sequence += terminal.tmux ? tmuxPassthrough(osc) : osc;
  }
  return sequence;
}

/** `sequence` wrapped so tmux hands it to the terminal outside it. */
export function tmuxPassthrough(sequence: string): string {
  return `${ESC}Ptmux;${sequence.replaceAll(ESC, ESC + ESC)}${ST}`;
}
