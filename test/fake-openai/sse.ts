/** Server-sent events as OpenAI writes them: an optional `event:` line, one `data:` line, a blank line. */

export interface SseEvent {
  /** The `event:` field (the Responses API names every event; chat completions name none). */
  name?: string;
  /** The `data:` payload, already serialized (JSON, or chat's final `[DONE]`). */
  data: string;
  /** A text or arguments delta: streaming pauses between these when a delta delay is set. */
  isDelta: boolean;
}

export function formatSse(event: SseEvent): string {
  return `${event.name ? `event: ${event.name}\n` : ''}data: ${event.data}\n\n`;
}
