/**
 * What the research agents and the consolidation call are told, and the consolidated report written
 * without a model (no provider, every agent failed, the daemon stopping).
 */
import type { ResearchAgent, ResearchRun } from '../../protocol/index.ts';

export function researcherInstructions(options: { repoName: string; maxSteps: number; webSearch: boolean; today: string }): string {
  const web = options.webSearch
    ? '- Search the web with web_search, then read the best pages in full with fetch_url.'
    : "- Read pages on the web with fetch_url when you know or can guess their URL (official documentation, changelogs, release notes, a project's repository).";
  return [
    `You are a research agent. A developer working in the repository "${options.repoName}" sent you to answer ONE question.`,
    `Answer it thoroughly and precisely, then write your report. Today is ${options.today}.`,
    '',
    'How to work:',
    '- When the question touches the repository, look there first: list_files, search_files, read_file (paths relative to the repository root). You can read, never change anything.',
    web,
    "- Prefer primary sources (official documentation, the project's own code and changelog) over blog posts and forums.",
    `- You have ${options.maxSteps} steps (model calls). Stay on the question and stop looking as soon as you can answer it well.`,
    '',
    'Your final message is the report, in markdown, with no preamble:',
    '- First the answer, in a few sentences.',
    '- Then the facts that support it, each with its source: a URL, or a repository path (with line numbers where they help).',
    '- Last, a line starting "Not found:" naming what you could not find or verify ("Not found: nothing" when everything was found).',
    'Never invent a source, a version, a price or an API: where you are unsure, say so.',
  ].join('\n');
}

export function questionMessage(question: string): string {
  return `Question: ${question}`;
}

/** Sent when the agent's step budget is spent before it answered: one last call, without tools, for the report. */
export const BUDGET_SPENT =
  'Your step budget is spent: no more tools. Write your report now from what you found, in the report format, ' +
  'and list under "Not found:" what you did not get to.';

export const CONSOLIDATOR_INSTRUCTIONS = [
  'You consolidate the reports of several research agents, each sent to answer one question, into one report for a developer.',
  '',
  '- Start with a short summary of what was found, across the questions.',
  '- Then one section per question (its heading is the question), with the findings that matter, merged and de-duplicated.',
  '- Keep every source (URLs, repository paths) next to the fact it supports. Never add facts or sources the reports do not have.',
  '- Where reports disagree, say so. Where a question has no answer (its agent failed or was cancelled), say plainly that it is unanswered and why.',
  'Write markdown, with no preamble.',
].join('\n');

/** The consolidation call's input: every question with its agent's report, or why there is none. */
export function consolidationMessage(run: Pick<ResearchRun, 'agents'>): string {
  const sections = run.agents.map((agent, index) => {
    const head = `## Question ${index + 1}: ${agent.question}`;
    const status = agent.status === 'done' ? '' : `(The agent ${describeEnd(agent)}.)\n\n`;
    const body = agent.report?.trim() ? agent.report.trim() : 'No report.';
    const sources = agent.sources.length > 0 ? `\n\nSources: ${agent.sources.map((source) => source.ref).join(', ')}` : '';
    return `${head}\n\n${status}${body}${sources}`;
  });
  return `The agents' reports:\n\n${sections.join('\n\n')}`;
}

/** The reason of a cancel a client asked for (other reasons: the daemon stopping). */
export const CANCELLED_ON_REQUEST = 'cancelled on request';

/** "failed: rate limited", "was cancelled", "failed: timed out after 600 s (its partial findings follow)". */
export function describeEnd(agent: Pick<ResearchAgent, 'status' | 'error' | 'report'>): string {
  const partial = agent.report?.trim() ? ' (its partial findings follow)' : '';
  if (agent.status === 'cancelled')
    return `was cancelled${agent.error && agent.error !== CANCELLED_ON_REQUEST ? ` (${agent.error})` : ''}${partial}`;
  if (agent.status === 'failed') return `failed: ${agent.error ?? 'unknown error'}${partial}`;
  return `ended ${agent.status}`;
}

/** The questions without a finished report, as a closing section; '' when every agent finished. */
export function unansweredSection(run: Pick<ResearchRun, 'agents'>): string {
  const missing = run.agents.filter((agent) => agent.status !== 'done');
  if (missing.length === 0) return '';
  const lines = missing.map((agent) => `- ${agent.question} — the agent ${describeEnd(agent)}`);
  return `**Unanswered** (${missing.length} of ${run.agents.length} ${run.agents.length === 1 ? 'question' : 'questions'}):\n${lines.join('\n')}`;
}

/**
 * The consolidated report without a model call: each question with its report (or why there is
 * none), and what is unanswered. `why` says why no model wrote it, when that is worth saying.
 */
export function plainConsolidation(run: Pick<ResearchRun, 'agents'>, why?: string): string {
  const sections = run.agents.map((agent, index) => {
    const head = `## ${index + 1}. ${agent.question}`;
    if (agent.status === 'done') return `${head}\n\n${agent.report?.trim() || '(The agent wrote no report.)'}`;
    const partial = agent.report?.trim() ? `\n\nPartial findings:\n\n${agent.report.trim()}` : '';
    return `${head}\n\nNot answered: the agent ${describeEnd({ ...agent, report: undefined })}.${partial}`;
  });
  const unanswered = unansweredSection(run);
  return [why ? `_${why}_` : '', ...sections, unanswered].filter(Boolean).join('\n\n');
}
