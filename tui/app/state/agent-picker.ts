/**
 * Choosing a goal's agent backend in the TUI: a one-line picker under the panes, opened with the
 * backends the daemon listed (`agents.list`). The first choice is none of the goal's own (it runs
 * with the config's default, named in its label); then every backend, the missing ones marked.
 * Pure: the keys move the cursor, Enter takes `pickedAgent`, which `goal.update` sends.
 */
import type { AgentInfo, Goal } from '../../../protocol/index.ts';

export interface AgentChoice {
  /** The backend's name; null: none of the goal's own (the config's default). */
  name: string | null;
  label: string;
  /** Whether the daemon found it (a missing one may still be chosen: the goal will say what to install). */
  installed: boolean;
}

export interface AgentPicker {
  goalId: number;
  choices: readonly AgentChoice[];
  /** The choice under the cursor. */
  index: number;
  /** The goal's choice when the picker opened: Enter on it changes nothing. */
  current: string | null;
}

/** The picker for `goal`, its cursor on the goal's agent now. A name the daemon does not list is kept as a choice of its own. */
export function openAgentPicker(goal: Goal, agents: readonly AgentInfo[], defaultAgent: string): AgentPicker {
  const current = goal.agent ?? null;
  const choices: AgentChoice[] = [
    { name: null, label: `default (${defaultAgent})`, installed: true },
    ...agents.map((agent) => ({ name: agent.name, label: agent.name, installed: agent.installed })),
  ];
  if (current !== null && !choices.some((choice) => choice.name === current)) {
    choices.push({ name: current, label: current, installed: false });
  }
  const index = Math.max(
    0,
    choices.findIndex((choice) => choice.name === current),
  );
  return { goalId: goal.id, choices, index, current };
}

export type AgentPickerAction = { kind: 'move'; step: 1 | -1 };

export function reduceAgentPicker(picker: AgentPicker, action: AgentPickerAction): AgentPicker {
  switch (action.kind) {
    case 'move': {
      const count = picker.choices.length;
      if (count === 0) return picker;
      return { ...picker, index: (picker.index + action.step + count) % count };
    }
  }
}

/** What Enter sets: the name under the cursor (null: the config's default again); undefined when it is the goal's already. */
export function pickedAgent(picker: AgentPicker): string | null | undefined {
  const choice = picker.choices[picker.index];
  if (!choice || choice.name === picker.current) return undefined;
  return choice.name;
}
