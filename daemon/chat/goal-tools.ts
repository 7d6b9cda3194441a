/**
 * The chat agent's goal tools: `create_goal {title, spec, queue?}` and `list_goals {}`. Goals are
 * written through the goal store, so every attached client sees them appear (goal.created).
 */
import { z } from 'zod';
import { GOAL_SPEC_MAX, Methods, SPEC_SECTIONS, maxUnits } from '../../protocol/index.ts';
import type { GoalStore } from '../store/goal-store.ts';
import { defineTool, errorResult } from '../tools/tool.ts';
import type { ChatTurn } from './chat-turn.ts';

const GoalCreateParams = Methods['goal.create'].params.shape;

/** The spec sections (`## Objective`, …) the spec lacks, in the order of the format. */
export function missingSpecSections(spec: string): string[] {
  return SPEC_SECTIONS.filter((section) => !new RegExp(`^##[ \\t]+${section}\\b`, 'mi').test(spec));
}

export function createGoalTool(store: Pick<GoalStore, 'create'>, turn: ChatTurn) {
  return defineTool({
    name: 'create_goal',
    description:
      'Create a goal from what was agreed in this conversation. A draft by default: the developer queues it with one key. ' +
      'Pass queue: true only when the developer asked to queue or run it now.',
    parameters: z.object({
      title: GoalCreateParams.title.describe('Short and specific, like a commit subject'),
      spec: maxUnits(z.string(), GOAL_SPEC_MAX).describe(
        `Markdown with exactly the sections ${SPEC_SECTIONS.map((section) => `## ${section}`).join(', ')}: what, never how`,
      ),
      queue: z.boolean().optional().describe('true: queued to run now; false or omitted: a draft'),
    }),
    async execute({ title, spec, queue }) {
      const missing = missingSpecSections(spec);
      if (missing.length > 0) {
        return errorResult(
          `create_goal: the spec lacks the section${missing.length > 1 ? 's' : ''} ${missing.map((section) => `## ${section}`).join(', ')}; ` +
            `write it with ${SPEC_SECTIONS.map((section) => `## ${section}`).join(', ')} and call create_goal again`,
          'create_goal: the spec lacks sections',
        );
      }
      const research = turn.lastResearchRun();
      const goal = await store.create(
        { title, spec, queue: queue ?? false, links: { ...(research !== undefined ? { research } : {}), chat: turn.session } },
        turn.cause,
      );
      return {
        output: JSON.stringify({ id: goal.id, state: goal.state, title: goal.title }),
        summary: `created goal #${goal.id} (${goal.state}): ${goal.title}`,
      };
    },
  });
}

export function listGoalsTool(store: Pick<GoalStore, 'list' | 'invalid'>) {
  return defineTool({
    name: 'list_goals',
    description: 'List every goal of the repository: id, state and title, one per line.',
    parameters: z.object({}),
    async execute() {
      const goals = store.list();
      const invalid = store.invalid();
      const rows = [
        ...goals.map((goal) => ({ id: goal.id, line: `#${goal.id} ${goal.state}: ${goal.title}` })),
        // A goal file that does not parse still holds its id: the model should not talk as if it were free.
        ...invalid.map((broken) => ({ id: broken.id, line: `#${broken.id} invalid: ${broken.error}` })),
      ].sort((a, b) => a.id - b.id);
      if (rows.length === 0) return { output: 'There are no goals yet.', summary: 'no goals' };
      const summary = `${goals.length} goal${goals.length === 1 ? '' : 's'}${invalid.length > 0 ? `, ${invalid.length} invalid` : ''}`;
      return { output: rows.map((row) => row.line).join('\n'), summary };
    },
  });
}
