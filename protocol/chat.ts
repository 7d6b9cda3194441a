/**
 * The shared chat: one conversation per repository (plus `/new` for another), shared by every
 * attached client. A message is a list of parts; streamed text arrives as deltas keyed by message
 * and part ids, so every client can build the same message.
 */
import { z } from 'zod';
import { CallUsage } from './usage.ts';

const Time = z.iso.datetime({ offset: true });

export const TextPart = z.object({ id: z.string(), type: z.literal('text'), text: z.string() });
export type TextPart = z.infer<typeof TextPart>;

/** A tool the agent called, shown compactly: its arguments, then a summary of the result. */
export const ToolPart = z.object({
  id: z.string(),
  type: z.literal('tool'),
  callId: z.string(),
  name: z.string(),
  arguments: z.string(),
  status: z.enum(['running', 'done', 'error']),
  /** What the model read back (capped); later turns send it to the model again. */
  result: z.string().optional(),
  /** The result in one line, for the UI: "read daemon/llm/models.ts (212 lines)". */
  summary: z.string().optional(),
  /** The research run this call started: a client draws its agents' progress inline (progress tokens `research:<run>…`). */
  researchRun: z.string().optional(),
});
export type ToolPart = z.infer<typeof ToolPart>;

export const ChatPart = z.discriminatedUnion('type', [TextPart, ToolPart]);
export type ChatPart = z.infer<typeof ChatPart>;

export const ChatMessage = z.object({
  id: z.string(),
  session: z.string(),
  role: z.enum(['user', 'assistant']),
  parts: z.array(ChatPart),
  time: Time,
  /** A user message is `done` when sent; a reply is `queued`, then `streaming`, then final. */
  status: z.enum(['queued', 'streaming', 'done', 'error', 'interrupted']),
  error: z.string().optional(),
  /** Who sent a user message. */
  sender: z.object({ clientId: z.string(), name: z.string() }).optional(),
  model: z.string().optional(),
  usage: CallUsage.optional(),
  /** null when the model's prices are unknown: tokens only. */
  costUsd: z.number().nonnegative().nullable().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

/** What a client needs to draw the chat: the current session and its most recent messages. */
export const ChatState = z.object({
  session: z.string(),
  messages: z.array(ChatMessage),
  /** Replies waiting for their turn (messages sent at once are answered one after the other). */
  queued: z.int().nonnegative(),
  /** Whether a model provider is configured; when not, the chat explains how to set one. */
  providerConfigured: z.boolean(),
});
export type ChatState = z.infer<typeof ChatState>;

export const ModelPricing = z.object({
  /** USD per 1M tokens; null where not published. */
  input: z.number().nonnegative().nullable(),
  cachedInput: z.number().nonnegative().nullable(),
  output: z.number().nonnegative().nullable(),
});

/** One row of the model table: adding a model is adding a row. Unknown numbers stay null, never invented. */
export const ModelInfo = z.object({
  id: z.string(),
  contextWindow: z.int().positive().nullable(),
  maxOutputTokens: z.int().positive().nullable(),
  pricing: ModelPricing,
  reasoningEfforts: z.array(z.string()),
  apis: z.array(z.enum(['responses', 'chat'])),
  notes: z.string().optional(),
});
export type ModelInfo = z.infer<typeof ModelInfo>;

export const ProviderSettings = z.object({
  model: z.string(),
  api: z.enum(['responses', 'chat']),
  baseURL: z.string().nullable(),
  /** Never the key itself: whether one is set. */
  apiKeySet: z.boolean(),
  configured: z.boolean(),
});
export type ProviderSettings = z.infer<typeof ProviderSettings>;
