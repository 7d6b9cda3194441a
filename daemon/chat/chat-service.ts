/**
 * The shared chat: one conversation per repository, plus `chat.new` for another, shared by
 * every attached client. A message from any client is answered by one turn; a session's turns run one
 * at a time, first come first served, so messages sent at the same moment are never answered
 * interleaved. A turn runs the chat agent (chat-agent.ts: its prompt and tools) through the one agent
 * loop, streams its reply to every client as `chat.*` events (text deltas, tool parts running → done)
 * and ends in one final line of the session's transcript (`.ralph/chat/<session>.jsonl`), which a
 * restart reloads.
 *
 * The provider settings are read at the start of every turn: a reloaded config applies to the next
 * turn. With no provider configured, the reply says how to configure one.
 */
import { randomBytes } from 'node:crypto';
import {
  errorLine,
  type CallUsage,
  type ChatMessage,
  type ChatState,
  type EventEnvelope,
  type ResultOf,
  type TextPart,
} from '../../protocol/index.ts';
import { runAgent } from '../agent/agent-loop.ts';
import { AgentRun } from '../agent/agent-run.ts';
import { NotFoundError, UnavailableError } from '../errors.ts';
import type { EventBus } from '../events/bus.ts';
import { DeltaCoalescer } from '../events/delta-coalescer.ts';
import type { ResolvedProvider } from '../config/config-service.ts';
import { ProviderCache } from '../llm/provider-cache.ts';
import type { ModelTable } from '../llm/models.ts';
import type { ProviderFactory } from '../llm/provider.ts';
import { ProviderError } from '../llm/types.ts';
import { ralphPaths } from '../paths.ts';
import type { SpendCounter } from '../budget/budget-service.ts';
import { DaemonSecrets } from '../secrets/daemon-secrets.ts';
import type { Log } from '../log.ts';
import { KeyedQueue } from '../store/keyed-queue.ts';
import { plainChatAgent, type ChatAgent } from './chat-agent.ts';
import { ChatSession, type Turn } from './chat-session.ts';
import type { ChatTurn } from './chat-turn.ts';
import { conversationItems, NOT_CONFIGURED_REPLY } from './conversation.ts';
import { nextSessionId } from './session-id.ts';
import { TranscriptStore } from './transcript.ts';
import { TurnReply } from './turn-reply.ts';

/** The messages a snapshot carries (older ones: `chat.history`). */
export const SNAPSHOT_MESSAGES = 50;
export const DEFAULT_HISTORY_PAGE = 50;
/** Model calls in one turn at most: a model that keeps calling tools is stopped rather than looping forever. */
export const MAX_STEPS_PER_TURN = 25;
/** How long stopping waits for interrupted turns to write their final line. */
const CLOSE_TIMEOUT_MS = 5_000;

/** Where the chat reads its settings (the ConfigService's), afresh for every turn. */
export interface ChatSettings {
  /** The chat's provider settings in force now. */
  provider(): ResolvedProvider;
  models(): Pick<ModelTable, 'cost'>;
}

export type { ProviderFactory };

export interface ChatServiceOptions {
  repoRoot: string;
  bus: EventBus;
  settings: ChatSettings;
  createProvider: ProviderFactory;
  /** The system prompt and the tools, turn by turn (default: a prompt and no tools). */
  agent?: ChatAgent;
  log: Log;
  now?: () => Date;
  /** The daemon's secrets: redacted from what the agent reads, what the developer sends and the transcripts. Default: none. */
  secrets?: DaemonSecrets;
  /** The daemon's spend budget: every call is counted there; a message is taken only while some is left. Default: none. */
  budget?: SpendCounter;
}

type Cause = EventEnvelope['cause'];

export class ChatService {
  /** The bus, with each burst of a reply's deltas merged into one event (a burst costs one frame per client, not hundreds). */
  private readonly bus: DeltaCoalescer;
  private readonly settings: ChatSettings;
  private readonly agent: ChatAgent;
  private readonly repoRoot: string;
  private readonly transcripts: TranscriptStore;
  private readonly log: Log;
  private readonly now: () => Date;
  private readonly secrets: DaemonSecrets;
  private readonly budget: SpendCounter | undefined;
  /** Sessions loaded so far (the current one always is). */
  private readonly sessions = new Map<string, Promise<ChatSession>>();
  /** Transcript writes and message insertions of one session happen one at a time, in order. */
  private readonly serial = new KeyedQueue<string>();
  private current: ChatSession;
  /** One provider while the settings connect the same way: a changed config gets a new one. */
  private readonly providers: ProviderCache;
  private closing: Promise<void> | undefined;

  private constructor(options: ChatServiceOptions, transcripts: TranscriptStore, current: ChatSession) {
    this.bus = new DeltaCoalescer(options.bus);
    this.settings = options.settings;
    this.providers = new ProviderCache(options.createProvider);
    this.agent = options.agent ?? plainChatAgent(options.repoRoot);
    this.repoRoot = options.repoRoot;
    this.transcripts = transcripts;
    this.log = options.log;
    this.now = options.now ?? (() => new Date());
    this.secrets = options.secrets ?? DaemonSecrets.none();
    this.budget = options.budget;
    this.current = current;
    this.sessions.set(current.id, Promise.resolve(current));
  }

  /** Opens the newest session (a restart keeps the conversation), or begins the first one. */
  static async open(options: ChatServiceOptions): Promise<ChatService> {
    const transcripts = new TranscriptStore(ralphPaths(options.repoRoot).chat, options.secrets?.redactValue);
    const newest = (await transcripts.sessions()).at(-1);
    let current: ChatSession;
    if (newest) {
      current = await loadSession(transcripts, newest, options.log);
    } else {
      const id = nextSessionId([], (options.now ?? (() => new Date()))());
      await transcripts.create(id);
      current = new ChatSession(id);
    }
    return new ChatService(options, transcripts, current);
  }

  /** The current session for a snapshot: its latest messages (a streaming reply with its text so far). */
  snapshot(): ChatState {
    const session = this.current;
    return {
      session: session.id,
      messages: session.messages.slice(-SNAPSHOT_MESSAGES).map(copyMessage),
      queued: session.waiting.length,
      providerConfigured: this.settings.provider().configured,
    };
  }

  /** Adds a user message and queues its reply; the reply streams to every client as its turn comes. */
  async send(
    params: { text: string; session?: string | undefined },
    sender: { clientId: string; name: string },
    cause?: Cause,
  ): Promise<ResultOf<'chat.send'>> {
    this.refuseWhenStopping();
    this.budget?.ensureAvailable('the chat');
    const session = await this.session(params.session);
    return this.serial.run(session.id, async () => {
      this.refuseWhenStopping();
      const user: ChatMessage = {
        id: newMessageId(),
        session: session.id,
        role: 'user',
        // A key pasted into the chat goes no further: not to the model, the transcript or the other clients.
        parts: [{ id: 'p1', type: 'text', text: this.secrets.redact(params.text) }],
        time: this.now().toISOString(),
        status: 'done',
        sender,
      };
      // Written before anyone hears of it: a message the daemon answered is never lost.
      const order = session.reserveOrder();
      await this.transcripts.append(user, order);
      session.add(user, order);
      this.bus.publish('chat.message', { message: copyMessage(user) }, cause);

      const reply: ChatMessage = {
        id: newMessageId(),
        session: session.id,
        role: 'assistant',
        parts: [],
        time: this.now().toISOString(),
        status: 'queued',
      };
      session.add(reply);
      this.bus.publish('chat.message', { message: copyMessage(reply) }, cause);
      const position = session.turnsAhead;
      session.waiting.push({ reply, cause, abort: undefined });
      session.draining ??= this.drain(session);
      return { session: session.id, userMessageId: user.id, replyMessageId: reply.id, position };
    });
  }

  /** Older messages of a session, oldest first: the `limit` before message `before` (or the latest). */
  async history(params: {
    session?: string | undefined;
    before?: string | undefined;
    limit?: number | undefined;
  }): Promise<ResultOf<'chat.history'>> {
    const session = await this.session(params.session);
    const limit = params.limit ?? DEFAULT_HISTORY_PAGE;
    let end = session.messages.length;
    if (params.before !== undefined) {
      end = session.messages.findIndex((message) => message.id === params.before);
      if (end < 0) throw new NotFoundError(`no message ${params.before} in chat session ${session.id}`);
    }
    const start = Math.max(0, end - limit);
    return { session: session.id, messages: session.messages.slice(start, end).map(copyMessage), more: start > 0 };
  }

  /** Begins a new session and makes it the current one for every client. */
  newSession(cause?: Cause): Promise<ResultOf<'chat.new'>> {
    this.refuseWhenStopping();
    // One at a time, so two at once get two different ids. (No session id contains a space.)
    return this.serial.run('new session', async () => {
      const id = nextSessionId([...(await this.transcripts.sessions()), this.current.id], this.now());
      await this.transcripts.create(id);
      const session = new ChatSession(id);
      this.sessions.set(id, Promise.resolve(session));
      this.current = session;
      this.bus.publish('chat.session', { session: id }, cause);
      return { session: id };
    });
  }

  /**
   * Interrupts a turn: the one streaming in the session, or (with `messageId`) that reply's turn,
   * streaming or still waiting. The text so far is kept; the turns after it go on.
   */
  async interrupt(
    params: { session?: string | undefined; messageId?: string | undefined },
    cause?: Cause,
  ): Promise<ResultOf<'chat.interrupt'>> {
    const session = await this.session(params.session);
    const running = session.current;
    if (params.messageId === undefined || running?.reply.id === params.messageId) {
      if (!running?.abort || running.abort.signal.aborted) return { interrupted: false };
      running.abort.abort(new TurnInterrupted());
      return { interrupted: true };
    }
    const index = session.waiting.findIndex((turn) => turn.reply.id === params.messageId);
    if (index < 0) return { interrupted: false };
    const [turn] = session.waiting.splice(index, 1);
    await this.finish(session, turn!, { status: 'interrupted' }, cause);
    return { interrupted: true };
  }

  /**
   * Stops: waiting turns end as interrupted, the running ones are aborted, and every final line is
   * written before this resolves (bounded). New messages are refused from now on.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const sessions = await Promise.all([...this.sessions.values()].map((loading) => loading.catch(() => null)));
      const ending: Promise<unknown>[] = [];
      for (const session of sessions) {
        if (!session) continue;
        for (const turn of session.waiting.splice(0)) {
          ending.push(this.finish(session, turn, { status: 'interrupted', error: 'the daemon stopped before this turn ran' }));
        }
        session.current?.abort?.abort(new DaemonStopping());
        if (session.draining) ending.push(session.draining);
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
      await Promise.race([Promise.all(ending).then(() => this.serial.idle()), timeout]);
      clearTimeout(timer);
    })();
    return this.closing;
  }

  // ---- sessions ----

  /** A session by id (the current one when omitted), loaded from its transcript on first use. */
  private async session(id: string | undefined): Promise<ChatSession> {
    if (id === undefined) return this.current;
    let loading = this.sessions.get(id);
    if (!loading) {
      const known = (await this.transcripts.sessions()).includes(id);
      if (!known) throw new NotFoundError(`no chat session '${id}'`);
      // Looked up again: another request may have begun loading it meanwhile.
      loading = this.sessions.get(id) ?? loadSession(this.transcripts, id, this.log);
      this.sessions.set(id, loading);
      loading.catch(() => this.sessions.delete(id));
    }
    return loading;
  }

  private refuseWhenStopping(): void {
    if (this.closing) throw new UnavailableError('the daemon is stopping: the chat takes no more messages');
  }

  // ---- turns ----

  /** Runs the session's turns one after another until none waits. */
  private async drain(session: ChatSession): Promise<void> {
    try {
      for (let turn = session.waiting.shift(); turn; turn = session.waiting.shift()) {
        session.current = turn;
        try {
          await this.runOne(session, turn);
        } catch (error) {
          // A bug: the turn still ends (as an error) so the queue goes on and no client waits forever.
          this.log(`chat: turn ${turn.reply.id} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
          await this.finish(session, turn, { status: 'error', error: `internal error: ${errorLine(error)}` }).catch(() => {});
        } finally {
          session.current = null;
        }
      }
    } finally {
      session.draining = null;
    }
  }

  /** One turn: the reply streams as the agent writes it, and ends done, interrupted or failed (its text kept). */
  private async runOne(session: ChatSession, turn: Turn): Promise<void> {
    const settings = this.settings.provider();
    turn.reply.status = 'streaming';
    if (!settings.configured) return this.replyNotConfigured(session, turn);
    // A turn queued before the budget was used up does not start.
    if (this.budget?.isSpent())
      return this.finish(session, turn, { status: 'error', error: 'the spend budget is used up: this turn was not started' });
    turn.reply.model = settings.model;
    const abort = new AbortController();
    turn.abort = abort;
    this.bus.publish('chat.message', { message: copyMessage(turn.reply) }, turn.cause);
    const reply = new TurnReply({ reply: turn.reply, session: session.id, cause: turn.cause, bus: this.bus, secrets: this.secrets });
    try {
      await this.streamReply(session, turn, settings, abort.signal, reply);
      await reply.saveAnswers((error) => this.log(`chat: could not save the answer of reply ${turn.reply.id}: ${errorLine(error)}`));
      await this.finish(session, turn, { status: 'done' });
    } catch (error) {
      reply.endText();
      await this.endUnanswered(session, turn, abort.signal, error);
    }
  }

  /** Without a provider the reply says how to configure one. */
  private async replyNotConfigured(session: ChatSession, turn: Turn): Promise<void> {
    const { reply, cause } = turn;
    this.bus.publish('chat.message', { message: copyMessage(reply) }, cause);
    const part: TextPart = { id: 'p1', type: 'text', text: NOT_CONFIGURED_REPLY };
    reply.parts.push(part);
    this.bus.publish('chat.delta', { session: session.id, messageId: reply.id, partId: part.id, delta: part.text }, cause);
    await this.finish(session, turn, { status: 'done' });
  }

  /**
   * Runs the chat agent over the conversation before the reply, streaming what it writes and does
   * into the reply. Throws ProviderError when a call fails, or when the reply is not a whole answer.
   */
  private async streamReply(
    session: ChatSession,
    turn: Turn,
    settings: ResolvedProvider,
    signal: AbortSignal,
    reply: TurnReply,
  ): Promise<void> {
    const models = this.settings.models();
    // Priced as the configured model (the model a server reports back may be named otherwise).
    const run = new AgentRun({ cost: (_model, usage) => models.cost(settings.model, usage) });
    const conversation = session.messages.slice(0, session.messages.indexOf(turn.reply));
    const events = runAgent({
      provider: this.providers.for(settings),
      request: {
        model: settings.model,
        instructions: this.agent.instructions(),
        ...(settings.reasoningEffort ? { reasoningEffort: settings.reasoningEffort } : {}),
      },
      items: conversationItems(conversation),
      tools: this.agent.tools(this.chatTurn(session, turn, reply)),
      toolContext: { root: this.repoRoot, readIgnoredFiles: this.secrets.readIgnoredFiles() },
      maxSteps: MAX_STEPS_PER_TURN,
      signal,
      redact: this.secrets.redact,
    });
    const done = await run.follow(events, {
      step: () => reply.endText(),
      'text.delta': (event) => reply.addText(event.step, event.delta),
      'tool.start': (event) => reply.startTool(event.call),
      'tool.end': (event) => reply.endTool(event.call, event.result),
      wait: ({ reason, seconds, attempt }) =>
        this.bus.publish('provider.wait', { scope: { session: session.id }, reason, seconds, attempt }, turn.cause),
      usage: (call) => {
        turn.reply.usage = run.usage;
        turn.reply.costUsd = run.costUsd;
        this.count(session, turn, settings.model, call);
      },
    });
    reply.endText();
    if (done.reason === 'max-steps') {
      throw new ProviderError('bad-request', `the model kept calling tools: stopped after ${done.steps} calls in one turn`);
    }
    // A cut reply ends the turn as failed, its text kept: it is never passed off as a whole answer.
    if (done.reason === 'cut') {
      throw new ProviderError('stream-cut', 'the reply was cut short (output-token limit or content filter); what came is kept');
    }
  }

  /** A call of the turn, counted against the daemon's budget: the call that uses it up ends the turn (its text kept). */
  private count(session: ChatSession, turn: Turn, model: string, call: { usage: CallUsage; costUsd: number | null }): void {
    if (!this.budget) return;
    this.budget.record({ chat: session.id }, { model, usage: call.usage, costUsd: call.costUsd });
    if (this.budget.isSpent()) turn.abort?.abort(new BudgetSpent());
  }

  /** What the chat agent's tools may ask of the turn that runs them. */
  private chatTurn(session: ChatSession, turn: Turn, reply: TurnReply): ChatTurn {
    return {
      session: session.id,
      cause: turn.cause,
      lastResearchRun: () => lastResearchRun(session.messages),
      showResearchRun: (runId) => reply.showResearchRun(runId),
      whenAnswered: (save) => reply.whenAnswered(save),
    };
  }

  /** A turn that did not end answered: interrupted (by a client, or the daemon stopping) or failed (the provider). */
  private async endUnanswered(session: ChatSession, turn: Turn, signal: AbortSignal, error: unknown): Promise<void> {
    if (signal.aborted) {
      const stopped =
        signal.reason instanceof DaemonStopping
          ? { error: 'the daemon stopped during this turn' }
          : signal.reason instanceof BudgetSpent
            ? { error: 'the spend budget was used up during this turn' }
            : {};
      await this.finish(session, turn, { status: 'interrupted', ...stopped });
      return;
    }
    if (!(error instanceof ProviderError)) throw error;
    await this.finish(session, turn, { status: 'error', error: errorLine(error) });
  }

  /** Writes the reply's final line, then tells every client (in that order, so what they see is on disk). */
  private finish(
    session: ChatSession,
    turn: Turn,
    end: { status: 'done' | 'error' | 'interrupted'; error?: string },
    cause: Cause = turn.cause,
  ): Promise<void> {
    return this.serial.run(session.id, async () => {
      const final: ChatMessage = { ...copyMessage(turn.reply), status: end.status };
      if (end.error !== undefined) final.error = end.error;
      try {
        await this.transcripts.append(final, session.orderOf(final.id));
      } catch (error) {
        this.log(`chat: could not write the reply ${final.id} to ${this.transcripts.fileOf(session.id)}: ${errorLine(error)}`);
      }
      turn.reply = final;
      session.replace(final);
      this.bus.publish('chat.message.done', { message: copyMessage(final) }, cause);
    });
  }
}

/** The turn's call used the daemon's spend budget up. */
class BudgetSpent extends Error {
  constructor() {
    super('the spend budget is used up');
  }
}

/** An interruption asked for by a client (`chat.interrupt`). */
class TurnInterrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

/** The daemon is stopping. */
class DaemonStopping extends Error {
  constructor() {
    super('the daemon is stopping');
  }
}

async function loadSession(transcripts: TranscriptStore, id: string, log: Log): Promise<ChatSession> {
  const { lines, skipped } = await transcripts.load(id);
  for (const why of skipped) log(`chat: ${transcripts.fileOf(id)}: skipped ${why}`);
  return new ChatSession(id, lines);
}

/** The research run a session started last: the newest tool part that shows one (transcripts keep them across restarts). */
function lastResearchRun(messages: readonly ChatMessage[]): string | undefined {
  for (let m = messages.length - 1; m >= 0; m--) {
    const parts = messages[m]!.parts;
    for (let p = parts.length - 1; p >= 0; p--) {
      const part = parts[p]!;
      if (part.type === 'tool' && part.researchRun !== undefined) return part.researchRun;
    }
  }
  return undefined;
}

function newMessageId(): string {
  return `m${randomBytes(8).toString('hex')}`;
}

/**
 * A copy to publish or hand out: events are kept for resuming clients and must keep the state they
 * had when published, while the live message goes on changing.
 */
function copyMessage(message: ChatMessage): ChatMessage {
  return { ...message, parts: message.parts.map((part) => ({ ...part })), ...(message.usage ? { usage: { ...message.usage } } : {}) };
}
