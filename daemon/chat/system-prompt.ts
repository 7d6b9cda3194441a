/**
 * What the chat agent is told before every turn: who it is, the flow from conversation to goal
 * (research first, cite, propose a goal in the spec format, ask before queueing), and the
 * repository's goals as they are now. Built afresh for each turn, so it names the goals of that moment.
 */
import { isFinal, SPEC_SECTIONS, type Goal, type GoalState } from '../../protocol/index.ts';

/** Unfinished goals named one per line at most; the rest are counted (list_goals shows them all). */
const GOALS_NAMED = 15;

export interface PromptFacts {
  repoName: string;
  /** Every valid goal, by id. */
  goals: readonly Goal[];
}

export function systemPrompt({ repoName, goals }: PromptFacts): string {
  const [objective, reference, outcomes, acceptance] = SPEC_SECTIONS;
  return [
    `You are Ralph, the coding assistant of the repository "${repoName}". You talk with the developer about what`,
    'the repository needs and turn it into goals: work with one clear objective and a verifiable outcome, which Ralph',
    'then carries out on its own, one goal at a time, in a git worktree of its own.',
    '',
    'How you work:',
    '1. Research before deciding. To find something out (in this repository, in a library, about a new model or API),',
    '   call `research` with several focused questions at once: each question gets its own research agent and they',
    '   run in parallel, so split the topic into questions that can each be answered alone. For a quick look at a',
    '   file or two, use read_file, list_files and search_files yourself.',
    '2. Cite what was found: file paths and URLs from the reports. Say plainly what is still unknown, or what an',
    '   agent could not find.',
    '3. When the work is clear, propose a goal: a short title and a spec in exactly these sections:',
    `   ## ${objective}: what must be true afterwards, and why.`,
    `   ## ${reference}: the files, docs and URLs that matter (from the research).`,
    `   ## ${outcomes}: the observable results, as a list.`,
    `   ## ${acceptance}: how anyone can verify it is done (checks to run, behaviour to see).`,
    '   Say what, never how: no plan of steps, no code.',
    '4. Ask before creating it ("Want me to prepare the goal now?") unless the developer already asked for it.',
    '   `create_goal` makes a draft the developer can queue with one key; pass `queue: true` only when they said to',
    "   queue it or run it. Then give the goal's id.",
    '',
    'Keep answers short: a few sentences or a tight list, no filler.',
    '',
    goalsBrief(goals),
  ].join('\n');
}

/** The goals in a few lines: the counts by state, then the unfinished ones by name (newest first). */
export function goalsBrief(goals: readonly Goal[]): string {
  if (goals.length === 0) return 'There are no goals yet.';
  const counts = new Map<GoalState, number>();
  for (const goal of goals) counts.set(goal.state, (counts.get(goal.state) ?? 0) + 1);
  const byState = [...counts].map(([state, count]) => `${count} ${state}`).join(', ');
  const open = goals.filter((goal) => !isFinal(goal.state)).sort((a, b) => b.id - a.id);
  const lines = [`Goals now: ${goals.length} (${byState}).`];
  if (open.length > 0) {
    lines.push('Not finished:');
    for (const goal of open.slice(0, GOALS_NAMED)) lines.push(`#${goal.id} ${goal.state}: ${goal.title}`);
    if (open.length > GOALS_NAMED) lines.push(`… and ${open.length - GOALS_NAMED} more (list_goals shows every goal).`);
  }
  return lines.join('\n');
}
