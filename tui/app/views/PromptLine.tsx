/** A question waiting for an answer, under the panes: "Cancel #3 …? y/n", a new goal's title being typed, a goal's agent being picked. */
import { Text } from 'ink';
import { splitAtCursor } from '../state/input-line.ts';
import type { Prompt } from '../state/ui-state.ts';
import { useTheme } from '../theme.ts';
import { oneLine, takeEnd } from './text.ts';

export function PromptLine({ prompt, width }: { prompt: Prompt; width: number }) {
  const theme = useTheme();
  if (prompt.kind === 'confirm-cancel') {
    return (
      <Text wrap="truncate-end" color={theme.warning}>
        Cancel #{prompt.goalId} “{oneLine(prompt.title)}”? This is final. <Text bold>y</Text>/<Text bold>n</Text>
      </Text>
    );
  }
  if (prompt.kind === 'pick-agent') {
    const { picker } = prompt;
    return (
      <Text wrap="truncate-end">
        <Text color={theme.accent} bold>
          Agent for #{picker.goalId}:
        </Text>
        {picker.choices.map((choice, index) => (
          <Text key={choice.label}>
            {' '}
            <Text inverse={index === picker.index} dimColor={!choice.installed && index !== picker.index}>
              {` ${oneLine(choice.label)}${choice.installed ? '' : ' (missing)'} `}
            </Text>
          </Text>
        ))}
        <Text dimColor>{'  ←/→ choose · Enter sets · Esc cancels'}</Text>
      </Text>
    );
  }
  const label = 'New goal title: ';
  const { before, under, after } = splitAtCursor(prompt.line);
  return (
    <Text wrap="truncate-end">
      <Text color={theme.accent} bold>
        {label}
      </Text>
      {takeEnd(before, Math.max(1, width - label.length - 2))}
      <Text inverse>{under}</Text>
      {after}
      {prompt.line.text === '' ? <Text dimColor>{' Enter creates a draft · Esc cancels'}</Text> : null}
    </Text>
  );
}
