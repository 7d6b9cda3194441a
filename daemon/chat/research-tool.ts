/**
 * The chat agent's `research {questions}`: starts a research run (one agent per question, in
 * parallel) linked to the chat session, waits for it, and hands every agent's report with its
 * sources and status back to the model, which writes the consolidated answer. That answer (the text
 * the reply writes after the call) is saved into the run when the turn ends. Interrupting the turn
 * cancels the run.
 */
import { z } from 'zod';
import { Methods, type EventEnvelope, type ResearchAgent, type ResearchRun } from '../../protocol/index.ts';
import { clip, defineTool, errorResult, type ToolResult } from '../tools/tool.ts';
import type { ChatTurn } from './chat-turn.ts';

/** What the tool needs of the research service (daemon/research/research-service.ts). */
export interface ResearchRunner {
  start(input: { questions: string[]; session?: string; consolidate?: boolean }, cause?: EventEnvelope['cause']): Promise<ResearchRun>;
  /** Resolves with the run once it is final; rejects when `signal` fires first. */
  wait(runId: string, signal?: AbortSignal): Promise<ResearchRun>;
  cancel(runId: string, agentId?: string, cause?: EventEnvelope['cause']): Promise<ResearchRun>;
  setConsolidated(runId: string, text: string): Promise<ResearchRun>;
}

/** Characters of all reports together handed to the model (about 12k tokens), shared out among the agents. */
const REPORTS_BUDGET_CHARS = 48_000;

export function researchTool(research: ResearchRunner, turn: ChatTurn) {
  return defineTool({
    name: 'research',
    description:
      'Send research agents out, one per question, all at once: each searches this repository (and the web, where it can) ' +
      'on its own and reports with its sources. Ask several focused questions in one call rather than one call per question. ' +
      "Returns every agent's report; then write the consolidated answer for the developer.",
    parameters: z.object({
      questions: Methods['research.start'].params.shape.questions.describe('One focused question per agent, each answerable on its own'),
    }),
    async execute({ questions }, ctx): Promise<ToolResult> {
      const started = await research.start({ questions, session: turn.session, consolidate: false }, turn.cause);
      turn.showResearchRun(started.id);
      turn.whenAnswered((answer) => research.setConsolidated(started.id, answer));
      let run: ResearchRun;
      try {
        run = await research.wait(started.id, ctx.signal);
      } catch (error) {
        if (!ctx.signal.aborted) throw error;
        // The turn was interrupted (or the daemon stops): its agents stop with it.
        await research.cancel(started.id, undefined, turn.cause);
        return errorResult(`research: cancelled with the turn (run ${started.id})`);
      }
      return reportsForModel(run);
    },
  });
}

/** The run as the model reads it: each agent's status, question, report and sources; what is missing said plainly. */
export function reportsForModel(run: ResearchRun): ToolResult {
  const budget = Math.floor(REPORTS_BUDGET_CHARS / Math.max(1, run.agents.length));
  const sections = run.agents.map((agent, index) => agentSection(agent, index + 1, budget));
  const tally = tallyOf(run.agents);
  const output = [
    `Research run ${run.id} ${run.status}: ${tally}.`,
    'Write the consolidated answer for the developer from these reports: cite their sources (paths, URLs) and say what is missing.',
    ...sections,
  ].join('\n\n');
  const summary = `research ${run.id}: ${tally}`;
  return run.status === 'done' ? { output, summary } : { output, summary, isError: true };
}

function agentSection(agent: ResearchAgent, number: number, budget: number): string {
  const status = agent.error !== undefined ? `${agent.status}: ${agent.error}` : agent.status;
  const lines = [`### Agent ${number} (${status})`, `Question: ${agent.question}`];
  const report = agent.report?.trim();
  lines.push(report ? clip(report, budget) : 'No report.');
  if (agent.sources.length > 0) lines.push(`Sources: ${agent.sources.map((source) => source.ref).join(', ')}`);
  return lines.join('\n');
}

/** "3 agents: 2 done, 1 failed". */
function tallyOf(agents: readonly ResearchAgent[]): string {
  const counts = new Map<string, number>();
  for (const agent of agents) counts.set(agent.status, (counts.get(agent.status) ?? 0) + 1);
  const parts = [...counts].map(([status, count]) => `${count} ${status}`).join(', ');
  return `${agents.length} agent${agents.length === 1 ? '' : 's'}: ${parts}`;
}
