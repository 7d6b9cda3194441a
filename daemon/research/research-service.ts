/**
 * Research runs: one research agent per question, in parallel (at most
 * `research.concurrency` at once across every run; the rest wait `queued`), each with its own
 * context, tools, step budget and timeout (research-agent.ts). One agent failing never sinks the
 * others. When asked to (`consolidate`, the CLI's case), one model call then writes the consolidated
 * report from the agents' reports; the chat agent writes its own and saves it with `setConsolidated`.
 *
 * Clients follow a run through events: progress.begin/report/end for the run and for each agent
 * (reports throttled), provider.wait scoped to the agent, and research.updated when the run starts,
 * when each agent ends and when the run ends. The run is saved in `.ralph/research/<id>.json` at
 * each of those moments (run-store.ts); a daemon that stops mid-run leaves it marked failed.
 */
import {
  addCallUsage,
  addCost,
  emptyCallUsage,
  errorLine,
  type CallUsage,
  type EventData,
  type EventEnvelope,
  type ResearchAgent,
  type ResearchRun,
} from '../../protocol/index.ts';
import { InvalidInputError, NotFoundError, UnavailableError } from '../errors.ts';
import { runAgent } from '../agent/agent-loop.ts';
import { AgentRun } from '../agent/agent-run.ts';
import type { ResolvedProvider } from '../config/config-service.ts';
import type { EventBus } from '../events/bus.ts';
import { ProviderCache } from '../llm/provider-cache.ts';
import type { ModelTable } from '../llm/models.ts';
import type { ProviderOptions } from '../llm/provider.ts';
import { ProviderError, type Provider } from '../llm/types.ts';
import { ralphPaths } from '../paths.ts';
import type { SpendCounter } from '../budget/budget-service.ts';
import { DaemonSecrets } from '../secrets/daemon-secrets.ts';
import type { Log } from '../log.ts';
import type { FetchUrlOptions } from '../tools/fetch-url.ts';
import { CANCELLED_ON_REQUEST, CONSOLIDATOR_INSTRUCTIONS, consolidationMessage, plainConsolidation, unansweredSection } from './prompts.ts';
import { ResearchAgentRun } from './research-agent.ts';
import { DAEMON_STOPPED, isRunId, newRunId, ResearchStore } from './run-store.ts';
import { ThrottledReport, type ReportChanges } from './throttled-report.ts';

type Cause = EventEnvelope['cause'];

/** The research settings in force (ralph.config.ts `research`), read afresh for every run. */
export interface ResearchLimits {
  concurrency: number;
  maxSteps: number;
  timeoutSeconds: number;
}

export interface ResearchSettings {
  provider(): ResolvedProvider;
  models(): Pick<ModelTable, 'cost'>;
  research(): ResearchLimits;
}

export interface ResearchServiceOptions {
  repoRoot: string;
  bus: EventBus;
  settings: ResearchSettings;
  createProvider: (options: ProviderOptions) => Provider;
  log: Log;
  /** fetch_url's settings (tests allow their local pages here). */
  fetch?: Omit<FetchUrlOptions, 'onFetched'>;
  now?: () => Date;
  /** The daemon's secrets: redacted from what the agents read and from the saved runs. Default: none. */
  secrets?: DaemonSecrets;
  /** The daemon's spend budget: every call is counted there; a run starts only while some is left. Default: none. */
  budget?: SpendCounter;
}

export interface StartResearch {
  questions: string[];
  /** The chat session that asked for it. */
  session?: string | undefined;
  /** Write the consolidated report with one model call once every agent has ended. Default true. */
  consolidate?: boolean | undefined;
}

export const MAX_QUESTIONS = 16;
/** How long close() waits for the runs it cancels to be saved. */
const CLOSE_TIMEOUT_MS = 5_000;
const DEFAULT_LIST_LIMIT = 20;

/** Why an agent's signal fired: a cancel asked for (or the daemon stopping); anything else is its timeout. */
class Cancelled extends Error {
  constructor(reason: string | undefined) {
    super(reason ?? 'cancelled');
  }
}

interface LiveAgent {
  agent: ResearchAgent;
  abort: AbortController;
  progress: ThrottledReport;
  /** Settles once the agent is final and that is published. */
  ended: Promise<void>;
  markEnded: () => void;
}

/** A run in progress: the run object (changed in place, copied whenever it is published or saved) and its agents. */
interface LiveRun {
  run: ResearchRun;
  cause: Cause;
  consolidate: boolean;
  agents: Map<string, LiveAgent>;
  provider: Provider;
  settings: ResolvedProvider;
  limits: ResearchLimits;
  progress: ThrottledReport;
  /** Set when the whole run is cancelled (or the daemon stops): the reason. */
  cancelled: string | undefined;
  consolidation: AbortController | undefined;
  /** Settles with the final run once it is saved and published. */
  done: Promise<ResearchRun>;
  finish: (run: ResearchRun) => void;
}

export class ResearchService {
  private readonly repoRoot: string;
  private readonly bus: EventBus;
  private readonly settings: ResearchSettings;
  private readonly log: Log;
  private readonly fetch: Omit<FetchUrlOptions, 'onFetched'> | undefined;
  private readonly now: () => Date;
  private readonly secrets: DaemonSecrets;
  private readonly budget: SpendCounter | undefined;
  private readonly store: ResearchStore;
  private readonly live = new Map<string, LiveRun>();
  /** Agents waiting for a free slot, oldest first, across runs. */
  private readonly queue: { live: LiveRun; agent: LiveAgent }[] = [];
  private runningAgents = 0;
  /** One provider while the settings connect the same way: a changed config gets a new one. */
  private readonly providers: ProviderCache;
  private closing: Promise<void> | undefined;

  private constructor(options: ResearchServiceOptions) {
    this.repoRoot = options.repoRoot;
    this.bus = options.bus;
    this.settings = options.settings;
    this.providers = new ProviderCache(options.createProvider);
    this.log = options.log;
    this.fetch = options.fetch;
    this.now = options.now ?? (() => new Date());
    this.secrets = options.secrets ?? DaemonSecrets.none();
    this.budget = options.budget;
    this.store = new ResearchStore(
      ralphPaths(options.repoRoot).research,
      (message) => this.log(`research: ${message}`),
      this.secrets.redactValue,
    );
  }

  /** Opens the service; runs a stopped daemon left `running` are marked failed first. */
  static async open(options: ResearchServiceOptions): Promise<ResearchService> {
    const service = new ResearchService(options);
    const recovered = await service.store.recover(service.now(), (run) => plainConsolidation(run));
    for (const run of recovered) service.log(`research: run ${run.id} was left running by a daemon that stopped; marked failed`);
    return service;
  }

  /** Starts a run: the agents run in the background; resolves once the run is saved and announced. */
  async start(input: StartResearch, cause?: Cause): Promise<ResearchRun> {
    if (this.closing) throw new UnavailableError('the daemon is stopping: no research can start');
    const questions = input.questions.map((question) => question.trim());
    if (questions.length === 0 || questions.length > MAX_QUESTIONS || questions.some((question) => question === '')) {
      throw new InvalidInputError(`research needs 1 to ${MAX_QUESTIONS} questions, none of them empty`);
    }
    this.budget?.ensureAvailable('research');
    const settings = this.settings.provider();
    if (!settings.configured) {
      throw new UnavailableError(
        'research needs a model provider, and none is configured: set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL ' +
          '(an OpenAI-compatible server such as Ollama) in the environment that starts the daemon, or baseURL in ralph.config.ts',
      );
    }
    const limits = this.settings.research();
    const run = newRun(await this.freshId(), questions, limits, input.session, this.now());
    const live = this.liveRun(run, input, settings, limits, cause);
    // On disk before anyone hears of it.
    await this.store.save(run);
    // Stopping began meanwhile: the run never starts (the next daemon marks its file failed).
    if (this.closing) throw new UnavailableError('the daemon is stopping: no research can start');
    this.live.set(run.id, live);
    this.announceRun(live);
    for (const agent of live.agents.values()) this.queueAgent(live, agent);
    this.pump();
    return copyRun(run);
  }

  /** The run as it goes on in this daemon: its agents' signals and progress, the provider, and how it ends. */
  private liveRun(run: ResearchRun, input: StartResearch, settings: ResolvedProvider, limits: ResearchLimits, cause: Cause): LiveRun {
    let finish!: (run: ResearchRun) => void;
    const done = new Promise<ResearchRun>((resolve) => (finish = resolve));
    const live: LiveRun = {
      run,
      cause,
      consolidate: input.consolidate ?? true,
      agents: new Map(),
      provider: this.providers.for(settings),
      settings,
      limits,
      progress: new ThrottledReport((changes) => this.publish('progress.report', { token: runToken(run.id), ...changes }, cause)),
      cancelled: undefined,
      consolidation: undefined,
      done,
      finish,
    };
    for (const agent of run.agents) {
      let markEnded!: () => void;
      const ended = new Promise<void>((resolve) => (markEnded = resolve));
      const token = agentToken(run.id, agent.id);
      live.agents.set(agent.id, {
        agent,
        abort: new AbortController(),
        progress: new ThrottledReport((changes) => this.publish('progress.report', { token, ...changes }, cause)),
        ended,
        markEnded,
      });
    }
    return live;
  }

  /** Tells the clients a run began: the run itself, and its progress bar. */
  private announceRun({ run, cause }: LiveRun): void {
    this.publish('research.updated', { run: copyRun(run) }, cause);
    const count = run.questions.length;
    this.publish(
      'progress.begin',
      { token: runToken(run.id), kind: 'research', title: `research: ${count} ${count === 1 ? 'question' : 'questions'}`, total: count },
      cause,
    );
  }

  /** An agent's progress bar begins, under its run's, and the agent waits for a slot. */
  private queueAgent(live: LiveRun, entry: LiveAgent): void {
    const { run, cause } = live;
    this.publish(
      'progress.begin',
      {
        token: agentToken(run.id, entry.agent.id),
        kind: 'research-agent',
        title: entry.agent.question,
        total: entry.agent.maxSteps,
        parent: runToken(run.id),
      },
      cause,
    );
    entry.progress.report({ message: 'queued', done: 0 });
    this.queue.push({ live, agent: entry });
  }

  /** Resolves with the run once it is final (done, failed or cancelled); rejects when `signal` fires first. */
  async wait(runId: string, signal?: AbortSignal): Promise<ResearchRun> {
    const live = this.live.get(runId);
    if (!live) return this.saved(runId);
    if (!signal) return live.done;
    signal.throwIfAborted();
    return new Promise<ResearchRun>((resolve, reject) => {
      const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('the wait was aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      void live.done.then((run) => {
        signal.removeEventListener('abort', onAbort);
        resolve(run);
      });
    });
  }

  /**
   * Cancels a whole run, or one agent of it: their model requests are aborted. Resolves with the run
   * once what was cancelled is final (for a whole run: the run itself). A run or agent already final
   * is returned as it is.
   */
  async cancel(runId: string, agentId?: string, _cause?: Cause): Promise<ResearchRun> {
    const live = this.live.get(runId);
    if (!live) {
      const run = await this.saved(runId);
      if (agentId !== undefined && !run.agents.some((agent) => agent.id === agentId)) throw noSuchAgent(runId, agentId);
      return run;
    }
    if (agentId !== undefined) {
      const agent = live.agents.get(agentId);
      if (!agent) throw noSuchAgent(runId, agentId);
      this.cancelAgent(live, agent, CANCELLED_ON_REQUEST);
      await agent.ended;
      return copyRun(live.run);
    }
    this.cancelRun(live, CANCELLED_ON_REQUEST);
    return live.done;
  }

  /** Saves the consolidated answer (the chat agent's) into a run that has ended. */
  async setConsolidated(runId: string, text: string): Promise<ResearchRun> {
    const live = this.live.get(runId);
    if (live) {
      // Still running: the answer is kept once the run ends (the chat writes it after the reports came back).
      const run = await live.done;
      return this.setConsolidated(run.id, text);
    }
    const run = await this.saved(runId);
    run.consolidated = text;
    await this.store.save(run);
    this.publish('research.updated', { run: copyRun(run) }, undefined);
    return run;
  }

  async get(runId: string): Promise<ResearchRun | undefined> {
    const live = this.live.get(runId);
    if (live) return copyRun(live.run);
    return this.store.load(runId);
  }

  /** The newest runs first (at most `limit`, default 20), live ones as they are now. */
  async list(limit = DEFAULT_LIST_LIMIT): Promise<ResearchRun[]> {
    const runs: ResearchRun[] = [];
    for (const id of await this.store.ids()) {
      if (runs.length >= limit) break;
      const run = await this.get(id).catch(() => undefined);
      if (run) runs.push(run);
    }
    return runs;
  }

  /** Cancels every run in progress (their agents end cancelled: the daemon stopped) and saves them. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const runs = [...this.live.values()];
      for (const live of runs) this.cancelRun(live, DAEMON_STOPPED);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
      await Promise.race([Promise.all(runs.map((live) => live.done)).then(() => this.store.idle()), timeout]);
      clearTimeout(timer);
    })();
    return this.closing;
  }

  // ---- agents ----

  /** Starts queued agents while slots are free. The limit is read afresh: a reloaded config applies at once. */
  private pump(): void {
    const limit = this.settings.research().concurrency;
    while (this.runningAgents < limit && this.queue.length > 0) {
      const next = this.queue.shift()!;
      if (next.agent.agent.status !== 'queued') continue; // cancelled while it waited
      // The budget was used up while it waited: its run ends rather than spend another call.
      if (this.budget?.isSpent()) {
        this.cancelRun(next.live, 'the spend budget is used up');
        continue;
      }
      this.runningAgents++;
      void this.runOne(next.live, next.agent)
        .catch((error: unknown) => this.log(`research: agent ${next.live.run.id}/${next.agent.agent.id} failed: ${stackOf(error)}`))
        .finally(() => {
          this.runningAgents--;
          this.pump();
        });
    }
  }

  /** Runs one agent to its end (done, failed, cancelled or timed out); what it found is kept either way. */
  private async runOne(live: LiveRun, entry: LiveAgent): Promise<void> {
    const { agent } = entry;
    agent.status = 'running';
    agent.startedAt = this.now().toISOString();
    this.reportRunProgress(live);
    const timeout = AbortSignal.timeout(live.limits.timeoutSeconds * 1000);
    const research = this.researchAgent(live, entry, AbortSignal.any([entry.abort.signal, timeout]));
    try {
      agent.report = await research.run();
      agent.status = 'done';
    } catch (error) {
      this.noteAgentFailure(live, entry, research, timeout, error);
    }
    agent.sources = research.sources;
    await this.endAgent(live, entry);
  }

  /** The agent's loop, set up with the run's provider and settings; what it does is shown on the agent as it happens. */
  private researchAgent(live: LiveRun, entry: LiveAgent, signal: AbortSignal): ResearchAgentRun {
    const { agent } = entry;
    const { run, settings } = live;
    const scope = `${run.id}:${agent.id}`;
    return new ResearchAgentRun({
      question: agent.question,
      provider: live.provider,
      model: settings.model,
      ...(settings.reasoningEffort ? { reasoningEffort: settings.reasoningEffort } : {}),
      models: this.settings.models(),
      repoRoot: this.repoRoot,
      redact: this.secrets.redact,
      readIgnoredFiles: this.secrets.readIgnoredFiles(),
      maxSteps: agent.maxSteps,
      webSearch: live.provider.api === 'responses',
      ...(this.fetch ? { fetch: this.fetch } : {}),
      signal,
      listener: {
        step: (step) => {
          agent.step = step;
          entry.progress.report({ done: step });
        },
        activity: (what) => {
          agent.activity = what;
          entry.progress.report({ message: what });
        },
        usage: (call, spent) => {
          agent.usage = spent.usage;
          agent.costUsd = spent.costUsd;
          this.count(live, call);
          entry.progress.report({ tokens: tokensOf(agent.usage), costUsd: agent.costUsd });
          this.reportRunProgress(live);
        },
        wait: ({ reason, seconds, attempt }) => {
          this.publish('provider.wait', { scope: { agent: scope }, reason, seconds, attempt }, live.cause);
          if (seconds >= 1) entry.progress.report({ message: `waiting ${Math.round(seconds)} s (${reason})` });
        },
      },
    });
  }

  /** Why an agent ended without its report: cancelled, timed out, its provider failed, or a bug (logged). Its partial findings are kept. */
  private noteAgentFailure(live: LiveRun, entry: LiveAgent, research: ResearchAgentRun, timeout: AbortSignal, error: unknown): void {
    const { agent, abort } = entry;
    const partial = research.partialReport();
    if (partial !== undefined) agent.report = partial;
    if (abort.signal.aborted) {
      agent.status = 'cancelled';
      agent.error = (abort.signal.reason as Error).message;
    } else if (timeout.aborted) {
      agent.status = 'failed';
      agent.error = `timed out after ${live.limits.timeoutSeconds} s`;
    } else if (error instanceof ProviderError) {
      agent.status = 'failed';
      agent.error = errorLine(error);
    } else {
      agent.status = 'failed';
      agent.error = `internal error: ${errorLine(error)}`;
      this.log(`research: agent ${live.run.id}:${agent.id} failed: ${stackOf(error)}`);
    }
  }

  /** Cancels an agent: a queued one ends now, a running one when its loop has stopped (see runOne). */
  private cancelAgent(live: LiveRun, entry: LiveAgent, reason: string): void {
    const { agent } = entry;
    if (agent.status === 'queued') {
      agent.status = 'cancelled';
      agent.error = reason;
      void this.endAgent(live, entry);
    } else if (agent.status === 'running' && !entry.abort.signal.aborted) {
      entry.abort.abort(new Cancelled(reason));
    }
  }

  private cancelRun(live: LiveRun, reason: string): void {
    live.cancelled ??= reason;
    for (const entry of live.agents.values()) this.cancelAgent(live, entry, reason);
    live.consolidation?.abort(new Cancelled(reason));
  }

  /** The agent is final: tell the clients, save, and end the run when it was the last. */
  private async endAgent(live: LiveRun, entry: LiveAgent): Promise<void> {
    const { agent } = entry;
    const { run } = live;
    agent.endedAt = this.now().toISOString();
    delete agent.activity;
    entry.progress.close();
    const outcome = agent.status === 'done' ? 'done' : agent.status === 'cancelled' ? 'cancelled' : 'failed';
    const message = agent.status === 'done' ? `${agent.sources.length} ${agent.sources.length === 1 ? 'source' : 'sources'}` : agent.error;
    this.publish('progress.end', { token: agentToken(run.id, agent.id), outcome, ...(message ? { message } : {}) }, live.cause);
    this.publish('research.updated', { run: copyRun(run) }, live.cause);
    this.reportRunProgress(live);
    await this.save(run);
    entry.markEnded();
    const allEnded = run.agents.every((each) => each.status !== 'queued' && each.status !== 'running');
    // The last agent to end finishes the run (once: a run is only ever finished from here).
    if (allEnded && run.endedAt === undefined && !live.consolidation) await this.finishRun(live);
  }

  // ---- the end of a run ----

  private async finishRun(live: LiveRun): Promise<void> {
    const { run } = live;
    // Claimed at once, so a second agent ending at the same moment does not finish the run too.
    live.consolidation = new AbortController();
    const anyReport = run.agents.some((agent) => agent.status === 'done');
    if (live.consolidate) run.consolidated = await this.consolidate(live, anyReport);
    const status =
      live.cancelled !== undefined || run.agents.every((agent) => agent.status === 'cancelled')
        ? 'cancelled'
        : anyReport
          ? 'done'
          : 'failed';
    run.status = status;
    run.endedAt = this.now().toISOString();
    live.progress.close();
    const message = status === 'failed' ? 'no agent finished its report' : status === 'cancelled' ? live.cancelled : undefined;
    this.publish('progress.end', { token: runToken(run.id), outcome: status, ...(message ? { message } : {}) }, live.cause);
    await this.save(run);
    this.live.delete(run.id);
    this.publish('research.updated', { run: copyRun(run) }, live.cause);
    live.finish(copyRun(run));
  }

  /**
   * The consolidated report: one model call over the agents' reports, with the unanswered questions
   * named; written without a model when no agent reported, the run was cancelled, no provider is
   * configured now, or the call fails.
   */
  private async consolidate(live: LiveRun, anyReport: boolean): Promise<string> {
    const { run } = live;
    if (live.cancelled !== undefined) return plainConsolidation(run, cancelledNote(live.cancelled));
    if (!anyReport) return plainConsolidation(run, 'No agent finished its report.');
    const settings = this.settings.provider();
    if (!settings.configured) return plainConsolidation(run, 'No model provider is configured now, so the reports are listed as they are.');
    live.progress.report({ message: 'writing the consolidated report' });
    const models = this.settings.models();
    const signal = live.consolidation!.signal;
    try {
      const done = await new AgentRun(models).follow(
        runAgent({
          provider: this.providers.for(settings),
          request: {
            model: settings.model,
            instructions: CONSOLIDATOR_INSTRUCTIONS,
            ...(settings.reasoningEffort ? { reasoningEffort: settings.reasoningEffort } : {}),
          },
          items: [{ role: 'user', content: consolidationMessage(run) }],
          tools: [],
          toolContext: { root: this.repoRoot },
          maxSteps: 1,
          signal,
        }),
        {
          usage: (call) => {
            this.count(live, call);
            this.reportRunProgress(live);
          },
          wait: ({ reason, seconds, attempt }) =>
            this.publish('provider.wait', { scope: { agent: `${run.id}:consolidation` }, reason, seconds, attempt }, live.cause),
        },
      );
      const text = done.text.trim();
      if (!text) return plainConsolidation(run, 'The consolidation call wrote nothing, so the reports are listed as they are.');
      const unanswered = unansweredSection(run);
      return unanswered ? `${text}\n\n${unanswered}` : text;
    } catch (error) {
      if (signal.aborted) return plainConsolidation(run, cancelledNote((signal.reason as Error).message));
      this.log(`research: the consolidation of run ${run.id} failed: ${errorLine(error)}`);
      return plainConsolidation(run, `The consolidation call failed (${errorLine(error)}), so the reports are listed as they are.`);
    }
  }

  // ---- helpers ----

  /**
   * A model call of the run: added to the run's usage and counted against the daemon's budget; the
   * call that uses the budget up ends the run's agents (their findings so far are kept).
   */
  private count(live: LiveRun, call: { usage: CallUsage; costUsd: number | null }): void {
    addCall(live.run, call.usage, call.costUsd);
    if (!this.budget) return;
    this.budget.record({ researchId: live.run.id }, { model: live.settings.model, usage: call.usage, costUsd: call.costUsd });
    if (this.budget.isSpent() && live.cancelled === undefined) this.cancelRun(live, 'the spend budget is used up');
  }

  /** The run's own progress: agents ended, what runs now, tokens and cost so far. */
  private reportRunProgress(live: LiveRun): void {
    const agents = live.run.agents;
    const ended = agents.filter((agent) => agent.status !== 'queued' && agent.status !== 'running').length;
    const running = agents.filter((agent) => agent.status === 'running').length;
    const queued = agents.filter((agent) => agent.status === 'queued').length;
    const changes: ReportChanges = { done: ended, tokens: tokensOf(live.run.usage), costUsd: live.run.costUsd };
    if (ended < agents.length) changes.message = `${running} running, ${queued} queued, ${ended} ended`;
    live.progress.report(changes);
  }

  private publish<T extends ResearchEvent>(type: T, data: EventData<T>, cause: Cause): void {
    this.bus.publish(type, data, cause);
  }

  private async save(run: ResearchRun): Promise<void> {
    try {
      await this.store.save(run);
    } catch (error) {
      this.log(`research: could not save run ${run.id} to ${this.store.fileOf(run.id)}: ${errorLine(error)}`);
    }
  }

  /** A saved run, or NotFound. */
  private async saved(runId: string): Promise<ResearchRun> {
    const run = isRunId(runId) ? await this.store.load(runId) : undefined;
    if (!run) throw new NotFoundError(`no research run '${runId}'`);
    return run;
  }

  private async freshId(): Promise<string> {
    for (;;) {
      const id = newRunId(this.now());
      if (!this.live.has(id) && !(await this.store.exists(id))) return id;
    }
  }
}

/** A new run: its agents queued, nothing spent yet. */
function newRun(id: string, questions: string[], limits: ResearchLimits, session: string | undefined, now: Date): ResearchRun {
  return {
    id,
    questions,
    status: 'running',
    agents: questions.map((question, index) => ({
      id: `a${index + 1}`,
      question,
      status: 'queued',
      step: 0,
      maxSteps: limits.maxSteps,
      sources: [],
      usage: emptyCallUsage(),
      costUsd: 0,
    })),
    ...(session !== undefined ? { session } : {}),
    createdAt: now.toISOString(),
    usage: emptyCallUsage(),
    costUsd: 0,
  };
}

/** The events this service publishes. */
type ResearchEvent = 'progress.begin' | 'progress.report' | 'progress.end' | 'provider.wait' | 'research.updated';

export function runToken(runId: string): string {
  return `research:${runId}`;
}

export function agentToken(runId: string, agentId: string): string {
  return `research:${runId}:${agentId}`;
}

function cancelledNote(reason: string): string {
  return reason === CANCELLED_ON_REQUEST ? 'The run was cancelled.' : `The run was cancelled (${reason}).`;
}

function noSuchAgent(runId: string, agentId: string): NotFoundError {
  return new NotFoundError(`research run ${runId} has no agent '${agentId}'`);
}

/**
 * A copy to publish, save or hand out: events are kept for resuming clients and must keep the state
 * they had when published, while the live run goes on changing.
 */
function copyRun(run: ResearchRun): ResearchRun {
  return structuredClone(run);
}

/** Adds a call's usage and cost to an agent's or a run's; the cost becomes unknown (null) once any call's price is unknown. */
function addCall(target: { usage: CallUsage; costUsd: number | null }, usage: CallUsage, cost: number | null): void {
  target.usage = addCallUsage(target.usage, usage);
  target.costUsd = addCost(target.costUsd, cost);
}

function tokensOf(usage: CallUsage): number {
  return usage.inputTokens + usage.outputTokens;
}

function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
