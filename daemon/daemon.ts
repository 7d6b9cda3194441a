/**
 * One daemon serves one repository: it holds the lock, the goal store, the repository watcher, the
 * config, the shared chat and the WebSocket server, and advertises itself in `.ralph/daemon.json`
 * (url, token, pid; mode 0600).
 */
import { randomBytes } from 'node:crypto';
import { readFile, realpath, unlink } from 'node:fs/promises';
import path from 'node:path';
import { DaemonFile, PROTOCOL_VERSION, RALPH_VERSION, type Capability, type DaemonInfo, type RepoInfo } from '../protocol/index.ts';
import { BudgetService, type BudgetClock } from './budget/budget-service.ts';
import { createChatAgent } from './chat/chat-agent.ts';
import { ChatService } from './chat/chat-service.ts';
import { ChatQuestions } from './chat/chat-questions.ts';
import { ConfigService } from './config/config-service.ts';
import { EventBus } from './events/bus.ts';
import { ProgressTracker } from './events/progress-tracker.ts';
import { writeFileAtomic } from './fs/atomic-write.ts';
import { gitRun, GitUnavailableError } from './git/git.ts';
import { createProvider, type ProviderOptions } from './llm/provider.ts';
import { acquireDaemonLock, type DaemonLock } from './lock.ts';
import { ConflictWatch } from './pipeline/conflict-watch.ts';
import { GoalQuestions } from './pipeline/goal-questions.ts';
import { InboxService } from './inbox/inbox-service.ts';
import { startResolution } from './pipeline/conflict-resolution.ts';
import { LandService, landingHoldFromEnv } from './pipeline/land-service.ts';
import { Pipeline, type PipelineTuning } from './pipeline/pipeline.ts';
import { type QueueExecutor, queueExecutorFrom, queueStatusOf } from './queue/queue-executor.ts';
import { checkRalphDir, ralphPaths, type RalphPaths } from './paths.ts';
import { desktopNotifier, NotifyService } from './notify/notify-service.ts';
import { ResearchService } from './research/research-service.ts';
import { DaemonSecrets } from './secrets/daemon-secrets.ts';
import { redactingProvider } from './secrets/redacting-provider.ts';
import type { Log } from './log.ts';
import type { DaemonServices } from './server/context.ts';
import { RpcServer } from './server/server.ts';
import { clientSettings } from './server/snapshot.ts';
import { GoalStore } from './store/goal-store.ts';
import { locateGit, readBranch } from './watch/git-info.ts';
import { RepoWatcher } from './watch/repo-watcher.ts';
import { describeSandbox, resolveSandbox } from './tools/sandbox.ts';
import { reapOrphanProcesses } from './tools/process-records.ts';

export interface DaemonOptions {
  /** Any folder inside the repository's work tree; the daemon serves the work tree's root. */
  repoRoot: string;
  /** 0 (default): a free port. */
  port?: number;
  /** Soft message cap (default 1 MiB): larger messages get a MessageTooLarge error. */
  maxMessageBytes?: number;
  /** Events kept for resuming clients (default 10,000); an older gap gets a snapshot. */
  eventBufferSize?: number;
  /** Watch the repository for the developer's changes (`repo.changed` events). Default true. */
  repoWatch?: boolean;
  /** Where the daemon's own log lines go. Default: stderr. */
  log?: Log;
  /** Server tuning, mostly for tests. */
  maxBufferedBytes?: number;
  pingIntervalMs?: number;
  /** Validate every result against its method's schema (a development check). */
  checkResults?: boolean;
  /** Where OPENAI_* and RALPH_* are read. Default: process.env (tests pass their own). */
  env?: NodeJS.ProcessEnv;
  /** Reload ralph.config.ts when it changes. Default true. */
  configWatch?: boolean;
  /** Where goal worktrees live. Default: defaultWorktreesRoot() (under $XDG_STATE_HOME). */
  worktreesRoot?: string;
  /**
   * The goal pipeline's settings that are not in the config (tests). `paused`: start with the pipeline
   * paused (also RALPH_PIPELINE=paused in the environment).
   */
  pipeline?: Omit<PipelineTuning, 'worktreesRoot'>;
  /**
   * The program that shows a desktop notification when no TUI is attached, found on PATH (default
   * `notify-send`); null: none (tests, so they never reach the desktop; also RALPH_NOTIFY_SEND=off).
   */
  desktopNotifier?: string | null;
  /**
   * The daemon's clock (tests move it to the next day): the local day and month the spend budget
   * counts in, and when the pipeline's holds end. Default: the real one.
   */
  clock?: BudgetClock;
}

/** The git work tree's root holding `dir`, as a real path; a clear error when there is none. */
export async function resolveRepoRoot(dir: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(dir);
  } catch {
    throw new Error(`no such folder: ${dir}`);
  }
  const found = await gitRun(real, ['rev-parse', '--show-toplevel']).catch((error: unknown) => {
    if (error instanceof GitUnavailableError && error.code === 'ENOENT') throw new Error('git is not installed (Ralph needs it)');
    throw new Error(`not inside a git work tree: ${real}`); // a file, not a folder (ENOTDIR)
  });
  const top = found.exitCode === 0 ? found.stdout.trim() : '';
  if (!top) throw new Error(`not inside a git work tree: ${real}`);
  return realpath(top);
}

export class Daemon {
  readonly repoRoot: string;
  readonly paths: RalphPaths;
  readonly info: DaemonInfo;
  readonly bus: EventBus;
  readonly store: GoalStore;
  readonly config: ConfigService;
  readonly chat: ChatService;
  readonly research: ResearchService;
  readonly landing: LandService;
  /** Runs queued goals (the Ralph loop). */
  readonly pipeline: Pipeline;
  /** The spend ledger and the daemon's budget. */
  readonly budget: BudgetService;
  /** The questions agents asked a person (`.ralph/questions/`). */
  readonly inbox: InboxService;
  readonly url: string;
  readonly token: string;
  /** Settles with the stop reason once the daemon has fully stopped (however it was stopped). */
  readonly stopped: Promise<string>;
  private readonly server: RpcServer;
  private readonly watcher: RepoWatcher | null;
  private readonly conflictWatch: ConflictWatch;
  private readonly notify: NotifyService;
  private readonly goalQuestions: GoalQuestions;
  private readonly lock: DaemonLock;
  private readonly log: Log;
  private stopping: Promise<void> | undefined;
  private markStopped!: (reason: string) => void;

  private constructor(parts: {
    repoRoot: string;
    info: DaemonInfo;
    bus: EventBus;
    store: GoalStore;
    config: ConfigService;
    chat: ChatService;
    research: ResearchService;
    landing: LandService;
    pipeline: Pipeline;
    inbox: InboxService;
    goalQuestions: GoalQuestions;
    budget: BudgetService;
    conflictWatch: ConflictWatch;
    notify: NotifyService;
    server: RpcServer;
    watcher: RepoWatcher | null;
    lock: DaemonLock;
    token: string;
    log: Log;
  }) {
    this.repoRoot = parts.repoRoot;
    this.paths = ralphPaths(parts.repoRoot);
    this.info = parts.info;
    this.bus = parts.bus;
    this.store = parts.store;
    this.config = parts.config;
    this.chat = parts.chat;
    this.research = parts.research;
    this.landing = parts.landing;
    this.pipeline = parts.pipeline;
    this.inbox = parts.inbox;
    this.goalQuestions = parts.goalQuestions;
    this.budget = parts.budget;
    this.conflictWatch = parts.conflictWatch;
    this.notify = parts.notify;
    this.server = parts.server;
    this.url = parts.server.url;
    this.watcher = parts.watcher;
    this.lock = parts.lock;
    this.token = parts.token;
    this.log = parts.log;
    this.stopped = new Promise((resolve) => (this.markStopped = resolve));
  }

  /**
   * Starts serving the repository. Throws DaemonRunningError when another daemon serves it; any other
   * failure undoes what was started (lock released, nothing left listening).
   */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const env = options.env ?? process.env;
    const { token, secretEnvs, secrets, log } = daemonSecrets(options, env);
    const repoRoot = await resolveRepoRoot(options.repoRoot);
    const paths = ralphPaths(repoRoot);
    await checkRalphDir(paths);
    const lock = await acquireDaemonLock(paths.lock);

    const startup: Startup = { options, env, token, secretEnvs, secrets, log, repoRoot, undo: [() => lock.release()] };
    try {
      const bus = new EventBus(options.eventBufferSize, secrets.redactValue);
      const progress = new ProgressTracker(bus);
      const repository = await openRepository(startup, bus);
      const config = await startConfig(startup, bus);
      const services = await startServices(startup, bus, repository.store, config);
      const info: DaemonInfo = {
        version: RALPH_VERSION,
        protocolVersion: PROTOCOL_VERSION,
        pid: process.pid,
        epoch: bus.epoch,
        startedAt: new Date().toISOString(),
      };
      // Late-bound: the server's services stop the daemon, which needs the server.
      let daemon: Daemon | undefined;
      const server = await startServer(
        startup,
        { bus, progress, config, info, ...repository, ...services },
        (reason) => void daemon?.stop(reason),
      );
      await writeDaemonFile(paths, server, token, info);
      daemon = new Daemon({
        repoRoot,
        info,
        bus,
        config,
        ...services,
        store: repository.store,
        watcher: repository.watcher,
        server,
        lock,
        token,
        log,
      });
      // Last: goals start only once clients can connect and watch them.
      services.pipeline.start();
      return daemon;
    } catch (error) {
      for (const step of startup.undo.reverse()) await step().catch(() => {});
      throw error;
    }
  }

  /** What a client needs to connect. */
  get endpoint(): { url: string; token: string } {
    return { url: this.url, token: this.token };
  }

  /** The largest backlog of unsent bytes among the clients (the benchmark paces itself by it). */
  maxClientBacklog(): number {
    return this.server.maxClientBacklog();
  }

  /**
   * Stops cleanly: tells the clients why, ends the chat's turns, closes the clients (1001), then the
   * server, the watcher, the store and the config, and removes daemon.json and the lock. Idempotent;
   * every step runs even if an earlier one fails.
   */
  stop(reason = 'stopped'): Promise<void> {
    this.stopping ??= (async () => {
      this.log(`ralph daemon: stopping (${reason})`);
      this.bus.publish('daemon.stopping', { reason });
      const steps: [string, () => Promise<unknown>][] = [
        // First, while clients still listen: running goals stop and go back to the queue for the next
        // daemon; the chat's turns in progress end as interrupted and are written.
        ['pipeline', () => this.pipeline.close()],
        // Answers being written, and what they do to their goals, end before the store closes.
        [
          'inbox',
          async () => {
            await this.goalQuestions.close();
            await this.inbox.close();
          },
        ],
        ['chat', () => this.chat.close()],
        // Then the research runs (the chat's research tool may wait on one): their agents end cancelled, saved.
        ['research', () => this.research.close()],
        // What the stopped work spent is on disk in the ledger.
        ['budget', () => this.budget.close()],
        // A landing in progress finishes (and its answer goes out) before the clients are closed.
        ['landing', () => this.landing.close()],
        // Notifications still being delivered (notify-send, the hook) are cut short: the daemon is going.
        ['notifications', () => this.notify.close()],
        // The close frame's reason is kept short and fixed (ws caps it at 123 bytes); the event above says why.
        ['server', () => this.server.close('daemon stopping')],
        ['repository watcher', async () => this.watcher?.close()],
        ['conflict watch', () => this.conflictWatch.close()],
        ['goal store', () => this.store.close()],
        ['config', () => this.config.close()],
        ['daemon.json', () => this.removeDaemonFile()],
        ['lock', () => this.lock.release()],
      ];
      for (const [name, step] of steps) {
        try {
          await step();
        } catch (error) {
          this.log(`ralph daemon: closing the ${name} failed: ${(error as Error).message}`);
        }
      }
      this.markStopped(reason);
    })();
    return this.stopping;
  }

  /** Removes daemon.json if it is still ours (a newer daemon's file is left alone). */
  private async removeDaemonFile(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.paths.daemonFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    if (text.includes(this.token)) await unlink(this.paths.daemonFile);
  }
}

async function currentBranch(repoRoot: string): Promise<string | null> {
  const git = await locateGit(repoRoot);
  return git ? readBranch(git.gitDir) : null;
}

/** What every step of starting needs; `undo` collects how to take back each thing started, run in reverse if a later step fails. */
interface Startup {
  options: DaemonOptions;
  env: NodeJS.ProcessEnv;
  token: string;
  secretEnvs: NodeJS.ProcessEnv[];
  secrets: DaemonSecrets;
  log: Log;
  repoRoot: string;
  undo: (() => Promise<unknown>)[];
}

/**
 * The daemon's secrets, the token first: it is one of the secrets everything after redacts
 * (DESIGN.md, "Secrets"). And the daemon's own log, redacted too (`.ralph/daemon.log` in the
 * background): its lines quote errors and entries.
 */
function daemonSecrets(options: DaemonOptions, env: NodeJS.ProcessEnv) {
  const token = randomBytes(32).toString('hex');
  // Commands start from this process's environment; the config reads `env`: both hold secrets.
  const secretEnvs = env === process.env ? [env] : [process.env, env];
  const secrets = DaemonSecrets.from({ envs: secretEnvs, token });
  const writeLog = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const log: Log = (message) => writeLog(secrets.redact(message));
  return { token, secretEnvs, secrets, log };
}

/** The goal store and, unless turned off, the watcher of the developer's changes. */
async function openRepository({ options, repoRoot, secrets, log, undo }: Startup, bus: EventBus) {
  const store = await GoalStore.open({ repoRoot, bus, secrets, onError: (error) => log(`goal store: ${error.message}`) });
  undo.push(() => store.close());
  const watcher =
    (options.repoWatch ?? true)
      ? await RepoWatcher.start({
          repoRoot,
          onChange: (batch) => bus.publish('repo.changed', batch),
          onWarning: (message) => log(`repository watcher: ${message}`),
        })
      : null;
  if (watcher) undo.push(() => watcher.close());
  // Without a watcher the branch is read once: nothing would notice it change.
  const fixedBranch = watcher ? null : await currentBranch(repoRoot);
  return { store, watcher, fixedBranch };
}

/** ralph.config.ts, watched: a reload applies from the next model call on, and the secrets it names are redacted from then on. */
async function startConfig({ options, env, repoRoot, secretEnvs, secrets, log, undo }: Startup, bus: EventBus): Promise<ConfigService> {
  // The key in force and the config's secret rules: read again whenever the config changes.
  const refreshSecrets = (): void =>
    secrets.update({
      envs: secretEnvs,
      providerKeys: [config.provider('default').apiKey, config.provider('chat').apiKey],
      config: config.config.secrets,
    });
  const config = await ConfigService.start({
    repoRoot,
    env,
    watch: options.configWatch ?? true,
    // A reload applies from the next model call on; clients learn what is in force now.
    onChange: () => {
      refreshSecrets();
      log('config: ralph.config.ts reloaded');
      bus.publish('config.changed', { provider: config.providerSettings(), settings: clientSettings(config), error: null });
    },
    onError: (message) => {
      log(`config: ${message} (the last valid config stays in force)`);
      bus.publish('config.changed', { provider: config.providerSettings(), settings: clientSettings(config), error: message });
    },
  });
  undo.push(() => config.close());
  refreshSecrets();
  if (config.error) log(`config: ${config.error} (the defaults are in force)`);
  // Said once: whether the agent's commands run in the sandbox, and why not (README "What holds where").
  resolveSandbox(config.config.executor.commands.sandbox).then(
    ({ state }) => log(`sandbox: ${describeSandbox(state)}`),
    (error: Error) => log(`sandbox: ${error.message}`),
  );
  return config;
}

/** The research runs, the chat, the goal pipeline, the landing of goals and the watch for their conflicts. */
async function startServices(startup: Startup, bus: EventBus, store: GoalStore, config: ConfigService) {
  const { options, env, repoRoot, secrets, log, undo } = startup;
  // Every model request of every agent goes out through this: no known secret leaves in one.
  const createRedactingProvider = (settings: ProviderOptions) => redactingProvider(createProvider(settings), secrets.redact);
  // Every model call of every service is counted here. The notifications start last: raised through a late binding.
  const notices: { raise?: NotifyService['raise'] } = {};
  const budget = await BudgetService.open({
    repoRoot,
    bus,
    settings: () => config.config.budget,
    log,
    ...(options.clock ? { clock: options.clock } : {}),
    notify: (content) => notices.raise?.(content),
  });
  undo.push(() => budget.close());
  const research = await ResearchService.open({
    repoRoot,
    bus,
    settings: { provider: () => config.provider('default'), models: () => config.models(), research: () => config.config.research },
    createProvider: createRedactingProvider,
    secrets,
    budget,
    log,
  });
  undo.push(() => research.close());
  // The questions on disk (they outlive a killed daemon): the chat's, and the goals'.
  const inbox = await InboxService.open({ repoRoot, bus, log, redact: secrets.redactValue });
  undo.push(() => inbox.close());
  const chat = await ChatService.open({
    repoRoot,
    bus,
    settings: { provider: () => config.provider('chat'), models: () => config.models() },
    createProvider: createRedactingProvider,
    secrets,
    agent: createChatAgent({ repoRoot, store, research, inbox }),
    budget,
    log,
  });
  undo.push(() => chat.close());
  // An answer to the chat's question comes back into its session as a message.
  const chatQuestions = new ChatQuestions({ bus, chat, log });
  chatQuestions.start();
  undo.push(async () => chatQuestions.close());
  // Agent CLIs, commands and checks a killed daemon left running stop before any goal runs again.
  await reapOrphanProcesses(ralphPaths(repoRoot).dir, log);
  // An answer puts its waiting goal back in the queue; a goal whose question was filed as the daemon died waits on it (before the pipeline starts).
  const goalQuestions = new GoalQuestions({ bus, store, inbox, log });
  undo.push(() => goalQuestions.close());
  await goalQuestions.start();
  // executor.backend 'queue': iterations run on queue workers; the pipeline keeps every decision.
  const remote = queueExecutorFrom(config.config.executor, env, {
    repoRoot,
    provider: () => config.provider('default'),
    models: () => config.models(),
    secretRules: () => config.config.secrets,
    log: store.log,
    bus,
    report: log,
  });
  const pipeline = Pipeline.create({
    repoRoot,
    bus,
    store,
    settings: {
      executor: () => config.config.executor,
      provider: () => config.provider('default'),
      models: () => config.models(),
      budget: () => config.config.budget,
    },
    createProvider: createRedactingProvider,
    log,
    inbox,
    spending: budget,
    ...(remote ? { remote } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...options.pipeline,
    paused: options.pipeline?.paused ?? env.RALPH_PIPELINE?.trim().toLowerCase() === 'paused',
    ...(options.worktreesRoot ? { worktreesRoot: options.worktreesRoot } : {}),
  });
  undo.push(() => pipeline.close());
  // A budget used up before a restart holds the pipeline before any goal starts.
  budget.attach({ hold: (message, until) => pipeline.hold('budget', message, until), release: () => pipeline.release('budget') });
  const landing = new LandService({
    repoRoot,
    store,
    bus,
    config,
    log,
    worktreesRoot: options.worktreesRoot,
    isRunning: (id) => pipeline.isRunning(id),
    secrets,
    hold: landingHoldFromEnv(env),
    // A rebase conflict sends the done goal back to the loop to resolve it (conflict-resolution.ts).
    onConflict: (conflict) => {
      startResolution(store, conflict, (id) => pipeline.isRunning(id)).catch((error: Error) =>
        log(`goal #${conflict.goalId}: could not start resolving its landing conflict: ${error.message}`),
      );
    },
  });
  void landing.start();
  undo.push(() => landing.close());
  const conflictWatch = new ConflictWatch({ repoRoot, store, bus, log, worktreesRoot: options.worktreesRoot });
  conflictWatch.start();
  undo.push(() => conflictWatch.close());
  // Done, stuck, waiting and landed goals: the bell in every TUI, notify-send without one, the config's hook.
  const notify = new NotifyService({
    repoRoot,
    bus,
    goalTitle: (id) => store.get(id)?.title,
    settings: () => config.config.notify,
    desktopNotifier: desktopNotifier(options.desktopNotifier, env),
    env,
    secrets,
    log,
  });
  notify.start();
  notices.raise = (content) => notify.raise(content);
  undo.push(() => notify.close());
  return { budget, research, chat, pipeline, inbox, goalQuestions, landing, conflictWatch, notify, remote };
}

/** The WebSocket server, serving every service to the clients. */
async function startServer(
  { options, token, secrets, log, repoRoot, undo }: Startup,
  parts: Pick<DaemonServices, 'bus' | 'progress' | 'store' | 'chat' | 'research' | 'config' | 'info' | 'landing' | 'inbox'> & {
    pipeline: Pipeline;
    budget: BudgetService;
    watcher: RepoWatcher | null;
    fixedBranch: string | null;
    /** The queue executor (`executor.backend: 'queue'`), whose reachability daemon.status reports. */
    remote: QueueExecutor | undefined;
  },
  stopDaemon: (reason: string) => void,
): Promise<RpcServer> {
  const { bus, pipeline, watcher, fixedBranch } = parts;
  const repoWatch = options.repoWatch ?? true;
  const capabilities: Capability[] = ['goals', 'logs', 'chat', 'research', 'executor', ...(repoWatch ? (['repo-watch'] as const) : [])];
  // Late-bound: the services need the server (its url, its clients).
  let server: RpcServer | undefined;
  const services: DaemonServices = {
    bus,
    store: parts.store,
    chat: parts.chat,
    research: parts.research,
    config: parts.config,
    info: parts.info,
    landing: parts.landing,
    inbox: parts.inbox,
    progress: parts.progress,
    pipeline: () => pipeline.state(),
    spend: () => parts.budget.status(),
    ...(parts.remote ? { queue: queueStatusOf(parts.remote) } : {}),
    pipelineControl: pipeline,
    log,
    repo: (): RepoInfo => ({ root: repoRoot, name: path.basename(repoRoot), branch: watcher ? watcher.branch : fixedBranch }),
    url: () => server?.url ?? '',
    clients: () => server?.clients() ?? [],
    // setImmediate: the answer to daemon.shutdown is queued on the socket before the clients are closed.
    requestShutdown: (reason) => setImmediate(() => stopDaemon(reason)),
  };
  server = await RpcServer.start({
    services,
    token,
    port: options.port,
    capabilities,
    maxMessageBytes: options.maxMessageBytes,
    maxBufferedBytes: options.maxBufferedBytes,
    pingIntervalMs: options.pingIntervalMs,
    checkResults: options.checkResults,
    redact: secrets.redactValue,
  });
  const started = server;
  undo.push(() => started.close('failed to start'));
  return server;
}

/** Advertises the daemon in `.ralph/daemon.json`: 0600, the token is the key to everything the daemon can do. */
async function writeDaemonFile(paths: RalphPaths, server: RpcServer, token: string, info: DaemonInfo): Promise<void> {
  const file: DaemonFile = DaemonFile.parse({
    url: server.url,
    token,
    pid: process.pid,
    protocolVersion: PROTOCOL_VERSION,
    version: RALPH_VERSION,
    startedAt: info.startedAt,
  });
  await writeFileAtomic(paths.daemonFile, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
}
