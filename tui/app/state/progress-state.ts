/**
 * Long work as the TUI draws it: progress units (progress.begin/report/end; one per research agent,
 * per research run, per goal iteration) and research runs (research.updated). Pure.
 *
 * Token scheme (daemon side): a research run is `research:<runId>` (kind `research`), each of its
 * agents `research:<runId>:<agentId>` (kind `research-agent`, parent = the run's token, title = the
 * question, done/total = step/maxSteps, message = what it does now); a goal iteration is
 * `goal:<id>:<n>` (kind `iteration`).
 */
import {
  beginUnit,
  reportOnUnit,
  type EventData,
  type ProgressUnit,
  type ResearchAgentStatus,
  type ResearchRun,
  type ToolPart,
} from '../../../protocol/index.ts';

export type ProgressOutcome = EventData<'progress.end'>['outcome'];

/** A unit, and how it ended once it has (kept a while so an ended bar does not vanish before its run's update). */
export interface UnitView extends ProgressUnit {
  outcome?: ProgressOutcome;
  endMessage?: string;
}

export interface ProgressView {
  units: ReadonlyMap<string, UnitView>;
  research: ReadonlyMap<string, ResearchRun>;
}

/** Ended units kept at most; the oldest ended go first. */
export const MAX_ENDED_UNITS = 200;

export function progressFromSnapshot(units: readonly ProgressUnit[], previous?: ProgressView): ProgressView {
  return {
    units: new Map(units.map((unit) => [unit.token, unit])),
    // Runs are the daemon's saved records: a new snapshot does not make them untrue.
    research: previous?.research ?? new Map(),
  };
}

export type ProgressAction =
  | { kind: 'begin'; data: EventData<'progress.begin'>; time: string }
  | { kind: 'report'; data: EventData<'progress.report'> }
  | { kind: 'end'; data: EventData<'progress.end'> }
  | { kind: 'research'; run: ResearchRun };

export function reduceProgress(view: ProgressView, action: ProgressAction): ProgressView {
  switch (action.kind) {
    case 'begin':
      return { ...view, units: new Map(view.units).set(action.data.token, beginUnit(action.data, action.time)) };
    case 'report': {
      const unit = view.units.get(action.data.token);
      if (!unit) return view;
      return { ...view, units: new Map(view.units).set(unit.token, reportOnUnit(unit, action.data)) };
    }
    case 'end': {
      const unit = view.units.get(action.data.token);
      if (!unit) return view;
      const ended: UnitView = { ...unit, outcome: action.data.outcome };
      if (action.data.message !== undefined) ended.endMessage = action.data.message;
      return { ...view, units: pruneEnded(new Map(view.units).set(unit.token, ended)) };
    }
    case 'research':
      return { ...view, research: new Map(view.research).set(action.run.id, action.run) };
  }
}

function pruneEnded(units: Map<string, UnitView>): Map<string, UnitView> {
  const ended = [...units.values()].filter((unit) => unit.outcome !== undefined);
  for (const unit of ended.slice(0, Math.max(0, ended.length - MAX_ENDED_UNITS))) units.delete(unit.token);
  return units;
}

// ---- research runs as drawn ------------------------------------------------------------------

export const researchRunToken = (runId: string) => `research:${runId}`;

export interface AgentView {
  id: string;
  question: string;
  status: ResearchAgentStatus;
  step: number;
  maxSteps: number | null;
  /** What it is doing now, or why it failed. */
  activity: string | null;
  tokens: number | null;
  costUsd: number | null;
  sources: number;
}

export interface ResearchView {
  runId: string;
  status: ResearchRun['status'];
  agents: AgentView[];
  tokens: number;
  costUsd: number | null;
}

/**
 * A research run as drawn: the run record where there is one (statuses, reports) with the live
 * progress of its agents on top (step, activity, tokens), or the progress units alone for a run
 * this terminal has no record of (it attached while the run was going on).
 */
export function researchView(view: ProgressView, runId: string): ResearchView | null {
  const run = view.research.get(runId);
  const runToken = researchRunToken(runId);
  const units = [...view.units.values()].filter((unit) => unit.parent === runToken);
  if (!run && units.length === 0 && !view.units.has(runToken)) return null;

  const unitOf = (agentId: string) => view.units.get(`${runToken}:${agentId}`);
  const agents: AgentView[] = run
    ? run.agents.map((agent) => {
        const unit = unitOf(agent.id);
        const final = agent.status === 'done' || agent.status === 'failed' || agent.status === 'cancelled';
        // The record is final once the agent ended; until then its live unit is newer.
        const live = final ? undefined : unit;
        const status = live ? unitStatus(live) : agent.status;
        const failed = status === 'failed' || status === 'cancelled';
        return {
          id: agent.id,
          question: agent.question,
          status,
          step: live?.done ?? agent.step,
          maxSteps: live?.total ?? agent.maxSteps,
          activity: (failed ? (agent.error ?? unit?.endMessage) : (live?.message ?? agent.activity)) ?? null,
          tokens: live?.tokens ?? agent.usage.inputTokens + agent.usage.outputTokens,
          costUsd: live?.costUsd !== undefined ? live.costUsd : agent.costUsd,
          sources: agent.sources.length,
        };
      })
    : units.map((unit) => ({
        id: unit.token.slice(runToken.length + 1),
        question: unit.title,
        status: unitStatus(unit),
        step: unit.done ?? 0,
        maxSteps: unit.total ?? null,
        activity: (unit.outcome && unit.outcome !== 'done' ? unit.endMessage : unit.message) ?? null,
        tokens: unit.tokens ?? null,
        costUsd: unit.costUsd ?? null,
        sources: 0,
      }));

  const runUnit = view.units.get(runToken);
  const status: ResearchRun['status'] = run?.status ?? (runUnit?.outcome ? endedRunStatus(runUnit.outcome) : 'running');
  const tokens = agents.reduce((sum, agent) => sum + (agent.tokens ?? 0), 0);
  const costs = agents.map((agent) => agent.costUsd);
  const costUsd =
    run && status !== 'running'
      ? run.costUsd
      : costs.some((cost) => cost === null)
        ? null
        : costs.reduce<number>((sum, cost) => sum + (cost ?? 0), 0);
  return { runId, status, agents, tokens, costUsd };
}

function unitStatus(unit: UnitView): ResearchAgentStatus {
  if (!unit.outcome) return 'running';
  return unit.outcome === 'done' ? 'done' : unit.outcome === 'failed' ? 'failed' : 'cancelled';
}

function endedRunStatus(outcome: ProgressOutcome): ResearchRun['status'] {
  return outcome === 'done' ? 'done' : outcome === 'failed' ? 'failed' : 'cancelled';
}

/**
 * Which run a `research` tool call started: the part names it (`researchRun`) once the run has
 * started; before that (or from an older daemon), a run id in its result, or for a running call the
 * newest run of its session.
 */
export function researchRunIdFor(view: ProgressView, part: ToolPart, session: string): string | null {
  if (part.researchRun) return part.researchRun;
  const text = `${part.result ?? ''}\n${part.arguments}`;
  for (const runId of knownRunIds(view)) if (text.includes(runId)) return runId;
  const named = /\b(r-[0-9a-z-]{6,})\b/i.exec(text)?.[1];
  if (named) return named;
  if (part.status !== 'running') return null;
  const running = [...view.research.values()].filter((run) => run.session === session && run.status === 'running');
  const newest = running.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).at(-1);
  if (newest) return newest.id;
  // A run only known from its progress units (this terminal attached during it).
  const unit = [...view.units.values()].filter((u) => u.kind === 'research' && !u.outcome).at(-1);
  return unit ? unit.token.slice('research:'.length) : null;
}

function knownRunIds(view: ProgressView): string[] {
  const ids = new Set(view.research.keys());
  for (const unit of view.units.values()) if (unit.kind === 'research') ids.add(unit.token.slice('research:'.length));
  return [...ids];
}

// ---- goal iterations -------------------------------------------------------------------------

/** The iteration running now for a goal (`goal:<id>:<n>`), if one is. */
export function runningIteration(view: ProgressView, goalId: number): { number: number; message: string | null } | null {
  const prefix = `goal:${goalId}:`;
  let found: { number: number; message: string | null } | null = null;
  for (const unit of view.units.values()) {
    if (unit.outcome || !unit.token.startsWith(prefix)) continue;
    const number = Number(unit.token.slice(prefix.length));
    if (Number.isInteger(number) && (!found || number > found.number)) found = { number, message: unit.message ?? null };
  }
  return found;
}
