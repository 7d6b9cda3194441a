/** `ralph pipeline pause | resume | status`. */
import type { Goal } from '../../protocol/index.ts';
import { blockersOf, compareForStart } from '../../protocol/goal-order.ts';
import type { CommandHandler } from './commands.ts';
import { formatTable, print, printJson, truncate } from './output.ts';
import { oneLine } from '../terminal-text.ts';
import { withDaemon } from './session.ts';
import { describePipeline } from './status-command.ts';

export const pausePipeline: CommandHandler = async (context) => {
  const { paused } = await withDaemon(context, (client) => client.request('pipeline.pause', {}));
  if (context.json) printJson({ paused });
  else if (paused)
    print('pipeline paused: nothing new starts, and running goals wait after their current iteration (resume with: ralph pipeline resume)');
  else print('pipeline not paused');
};

export const resumePipeline: CommandHandler = async (context) => {
  const { paused } = await withDaemon(context, (client) => client.request('pipeline.resume', {}));
  if (context.json) printJson({ paused });
  else print(paused ? 'pipeline still paused (ralph pipeline status says why)' : 'pipeline resumed');
};

/**
 * Whether the pipeline is paused, the goals it runs now, and what waits in the queue (from the
 * daemon's snapshot): by priority, then oldest first, each goal held by goals it comes after saying so.
 */
export const pipelineStatus: CommandHandler = async (context) => {
  const { pipeline, goals } = await withDaemon(context, async (client) => client.snapshot);
  const goalOf = (id: number) => goals.find((goal) => goal.id === id);
  const queuedGoals = goals.filter((goal) => goal.state === 'queued').sort((a, b) => compareForStart(a, b));
  const queued = queuedGoals.map((goal) => goal.id);
  const held = (goal: Goal) => {
    const ids = blockersOf(goal, goalOf).flatMap((blocker) => (blocker.kind === 'cycle' ? blocker.path.slice(1, -1) : [blocker.id]));
    return ids.length > 0 ? ` waits for ${ids.map((id) => `#${id}`).join(', ')}` : '';
  };
  if (context.json) {
    printJson({ paused: pipeline.paused, running: pipeline.running, queued, ...(pipeline.hold ? { hold: pipeline.hold } : {}) });
    return;
  }
  const byId = new Map(goals.map((goal) => [goal.id, goal]));
  const describe = (id: number) => `#${id} ${truncate(oneLine(byId.get(id)?.title ?? '(unknown goal)'), 60)}`;
  const rows: string[][] = [
    ['pipeline', describePipeline(pipeline)],
    ['running', pipeline.running.length === 0 ? 'none' : describe(pipeline.running[0]!)],
    ...pipeline.running.slice(1).map((id) => ['', describe(id)]),
    ['queued', queued.length === 0 ? 'none' : `${queued.length} (${queuedGoals.map((goal) => `#${goal.id}${held(goal)}`).join(', ')})`],
  ];
  for (const line of formatTable(rows)) print(line);
};
