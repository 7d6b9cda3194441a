/**
 * The chat as the TUI draws it: the current session's messages, built from the snapshot and the
 * chat.* events (deltas append to text parts, parts replace parts, a done message replaces the
 * whole message). Pure. A message that did not change keeps its object, so what is drawn from it
 * can be cached by identity (finished messages are never laid out again).
 */
import type { ChatMessage, ChatPart, ChatState, EventData, ProviderSettings } from '../../../protocol/index.ts';

export interface ProviderWait {
  reason: EventData<'provider.wait'>['reason'];
  seconds: number;
  attempt: number;
}

/** A page of older messages to ask the daemon for (`chat.history` before the oldest one shown). */
export interface ChatHistoryWant {
  id: number;
  session: string;
  before: string;
}

export interface ChatView {
  session: string;
  /** The session's messages in the order they were sent. */
  messages: readonly ChatMessage[];
  providerConfigured: boolean;
  /** Whether older messages may exist before the first one held (a snapshot carries only the latest). */
  olderAvailable: boolean;
  historyWant: ChatHistoryWant | null;
  nextWantId: number;
  /** The current turn waits before retrying its model call (rate limited…); cleared when it streams again. */
  wait: ProviderWait | null;
}

/** How many messages a snapshot carries (daemon/chat: SNAPSHOT_MESSAGES): holding that many means there may be more. */
const SNAPSHOT_MESSAGES = 50;

export function chatFromSnapshot(chat: ChatState, previous?: ChatView): ChatView {
  return {
    session: chat.session,
    messages: chat.messages,
    providerConfigured: chat.providerConfigured,
    olderAvailable: chat.messages.length >= SNAPSHOT_MESSAGES,
    historyWant: null,
    nextWantId: previous?.nextWantId ?? 1,
    wait: null,
  };
}

export type ChatAction =
  | { kind: 'message'; message: ChatMessage }
  | { kind: 'delta'; session: string; messageId: string; partId: string; delta: string }
  | { kind: 'part'; session: string; messageId: string; part: ChatPart }
  | { kind: 'done'; message: ChatMessage }
  | { kind: 'session'; session: string }
  | { kind: 'wait'; session: string; wait: ProviderWait }
  | { kind: 'provider'; provider: ProviderSettings }
  | { kind: 'want-older' }
  | { kind: 'history'; want: ChatHistoryWant; messages: readonly ChatMessage[]; more: boolean }
  | { kind: 'history-failed'; want: ChatHistoryWant };

export function reduceChat(chat: ChatView, action: ChatAction): ChatView {
  switch (action.kind) {
    case 'message':
    case 'done':
      if (action.message.session !== chat.session) return chat;
      return { ...upsert(chat, action.message), wait: null };
    case 'delta': {
      if (action.session !== chat.session) return chat;
      return streamed(
        chat,
        updateMessage(chat, action.messageId, (message) => {
          const index = message.parts.findIndex((part) => part.id === action.partId);
          const existing = message.parts[index];
          const parts =
            existing?.type === 'text'
              ? message.parts.with(index, { ...existing, text: existing.text + action.delta })
              : [...message.parts, { id: action.partId, type: 'text' as const, text: action.delta }];
          return { ...message, parts, status: message.status === 'queued' ? 'streaming' : message.status };
        }),
      );
    }
    case 'part': {
      if (action.session !== chat.session) return chat;
      return streamed(
        chat,
        updateMessage(chat, action.messageId, (message) => {
          const index = message.parts.findIndex((part) => part.id === action.part.id);
          const parts = index === -1 ? [...message.parts, action.part] : message.parts.with(index, action.part);
          return { ...message, parts, status: message.status === 'queued' ? 'streaming' : message.status };
        }),
      );
    }
    case 'session':
      if (action.session === chat.session) return chat;
      // `/new` from any terminal: a fresh conversation (the old one stays in its transcript).
      return { ...chat, session: action.session, messages: [], olderAvailable: false, historyWant: null, wait: null };
    case 'wait':
      return action.session === chat.session ? { ...chat, wait: action.wait } : chat;
    case 'provider':
      return action.provider.configured === chat.providerConfigured ? chat : { ...chat, providerConfigured: action.provider.configured };
    case 'want-older': {
      const oldest = chat.messages[0];
      if (!chat.olderAvailable || chat.historyWant || !oldest) return chat;
      return { ...chat, historyWant: { id: chat.nextWantId, session: chat.session, before: oldest.id }, nextWantId: chat.nextWantId + 1 };
    }
    case 'history': {
      if (chat.historyWant?.id !== action.want.id || action.want.session !== chat.session) return chat;
      const known = new Set(chat.messages.map((message) => message.id));
      const older = action.messages.filter((message) => !known.has(message.id));
      return { ...chat, messages: [...older, ...chat.messages], olderAvailable: action.more && older.length > 0, historyWant: null };
    }
    case 'history-failed':
      // Not asked again by itself (it would retry in a loop); scrolling up again asks again.
      return chat.historyWant?.id === action.want.id ? { ...chat, historyWant: null } : chat;
  }
}

/** The turn streams again: a wait it was in is over. */
function streamed(before: ChatView, after: ChatView): ChatView {
  return after === before ? before : { ...after, wait: null };
}

function upsert(chat: ChatView, message: ChatMessage): ChatView {
  const index = chat.messages.findIndex((held) => held.id === message.id);
  if (index === -1) return { ...chat, messages: [...chat.messages, message] };
  return { ...chat, messages: chat.messages.with(index, message) };
}

function updateMessage(chat: ChatView, id: string, change: (message: ChatMessage) => ChatMessage): ChatView {
  const index = chat.messages.findIndex((message) => message.id === id);
  const message = chat.messages[index];
  // A delta for a message this terminal never saw (it attached mid-turn and the snapshot was
  // older): nothing to add it to; the final message replaces it whole when the turn ends.
  if (!message) return chat;
  return { ...chat, messages: chat.messages.with(index, change(message)) };
}

// ---- selectors -------------------------------------------------------------------------------

/** A turn is streaming now (Esc interrupts it). */
export function streamingMessage(chat: ChatView): ChatMessage | null {
  return chat.messages.findLast((message) => message.role === 'assistant' && message.status === 'streaming') ?? null;
}

/** Replies waiting for their turn. */
export function queuedReplies(chat: ChatView): number {
  return chat.messages.filter((message) => message.role === 'assistant' && message.status === 'queued').length;
}

/** The text of the user's messages in the session, oldest first: the start of the input history. */
export function userTexts(messages: readonly ChatMessage[]): string[] {
  return messages
    .filter((message) => message.role === 'user')
    .map((message) => message.parts.map((part) => (part.type === 'text' ? part.text : '')).join(''))
    .filter((text) => text.trim() !== '');
}
