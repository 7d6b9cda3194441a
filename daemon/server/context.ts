/**
 * What the server and its method handlers need from the daemon. The daemon builds one of these;
 * handlers never reach around it, which keeps each handler module small and testable.
 */
import type { z } from 'zod';
import type {
  ClientInfo,
  DaemonInfo,
  EventEnvelope,
  MethodName,
  Methods,
  PipelineStatus,
  QueueStatus,
  RepoInfo,
  ResultOf,
  SpendStatus,
} from '../../protocol/index.ts';
import type { ChatService } from '../chat/chat-service.ts';
import type { ConfigService } from '../config/config-service.ts';
import type { EventBus } from '../events/bus.ts';
import type { GoalStore } from '../store/goal-store.ts';
import type { InboxService } from '../inbox/inbox-service.ts';
import type { LandService } from '../pipeline/land-service.ts';
import type { Pipeline } from '../pipeline/pipeline.ts';
import type { ProgressTracker } from '../events/progress-tracker.ts';
import type { Log } from '../log.ts';
import type { ResearchService } from '../research/research-service.ts';

export interface DaemonServices {
  readonly bus: EventBus;
  readonly store: GoalStore;
  readonly chat: ChatService;
  /** ralph.config.ts with the environment's overrides, reloaded when the file changes. */
  readonly config: ConfigService;
  readonly info: DaemonInfo;
  /** Lands done goals on the developer's branch (goal.land). */
  readonly landing: LandService;
  /** The questions agents asked a person (inbox.*). */
  readonly inbox: InboxService;
  /** Research runs: parallel research agents (research.*). */
  readonly research: ResearchService;
  /** Long work in progress now (for the snapshot). */
  readonly progress: ProgressTracker;
  /** Whether the goal pipeline is paused (and what holds it), and which goals run now. */
  pipeline(): PipelineStatus;
  /** Spend today and this month against the budget. */
  spend(): SpendStatus;
  /** The queue workers run goals through (`executor.backend: 'queue'`): its URL, password hidden, whether it answers, the running goals' workers. */
  queue?(): QueueStatus;
  /** Pauses and resumes the whole goal pipeline (pipeline.pause / pipeline.resume). */
  readonly pipelineControl: Pick<Pipeline, 'pause' | 'resume'>;
  repo(): RepoInfo;
  /** The WebSocket URL clients connect to. */
  url(): string;
  /** The initialized clients, in attach order. */
  clients(): ClientInfo[];
  /** Stops the daemon soon, after the current response has been sent. */
  requestShutdown(reason: string): void;
  log: Log;
}

/** Who is asking: handlers pass `cause` to the store so the events they cause name the request. */
export interface RequestContext {
  client: ClientInfo;
  cause: NonNullable<EventEnvelope['cause']>;
}

/** Params as the handler receives them: parsed by the method's schema (defaults applied). */
export type HandlerParams<M extends MethodName> = z.output<(typeof Methods)[M]['params']>;

export type MethodHandler<M extends MethodName> = (params: HandlerParams<M>, request: RequestContext) => ResultOf<M> | Promise<ResultOf<M>>;

/** Every method but `initialize` (the server itself handles the handshake). Missing one does not compile. */
export type HandledMethod = Exclude<MethodName, 'initialize'>;
export type HandlerTable = { [M in HandledMethod]: MethodHandler<M> };
