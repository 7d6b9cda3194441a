/**
 * The `openai` SDK (v6) reads a streamed answer with a parser that, for every server-sent event,
 * copies whatever is left of the network read it came in (`iterSSEChunks` in openai/core/streaming):
 * a read that brings many events at once (a fast server, a burst after a pause; loopback reads are
 * up to 64 KB) costs time quadratic in their number. Handing the SDK the body cut after each event
 * keeps its parsing linear: about half the client CPU of a 400-delta answer, and a burst of deltas
 * reaches the chat sooner. Only where chunks end changes, never a byte, so the SDK parses exactly
 * what the server sent. (Fixed upstream by openai/openai-node#2324, merged after the last 6.x
 * release; with SDK 7 this wrapper can go.)
 */

const EVENT_END = '\n\n';

/** A `fetch` whose streamed (`text/event-stream`) answers arrive in chunks of one event each. */
export function fetchSplittingEvents(baseFetch: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const response = await baseFetch(input, init);
    if (!response.ok || !response.body || !response.headers.get('content-type')?.startsWith('text/event-stream')) return response;
    const split = new Response(splitAfterEvents(response.body), response);
    // The SDK's debug log (OPENAI_LOG=debug) names the URL, which a constructed Response lacks.
    Object.defineProperty(split, 'url', { value: response.url });
    return split;
  };
}

/**
 * The same bytes, each chunk of `body` cut after every blank line that ends an event. Reads ahead
 * at most one chunk of `body`; cancelling the result cancels `body`, and an error of `body` (the
 * connection cut, the request aborted) reaches the reader unchanged.
 */
export function splitAfterEvents(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      // Buffer's indexOf searches natively; the view shares the chunk's memory.
      const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      let start = 0;
      for (let end = bytes.indexOf(EVENT_END, start); end !== -1; end = bytes.indexOf(EVENT_END, start)) {
        controller.enqueue(value.subarray(start, end + EVENT_END.length));
        start = end + EVENT_END.length;
      }
      if (start < value.length) controller.enqueue(start === 0 ? value : value.subarray(start));
    },
    cancel: (reason) => reader.cancel(reason),
  });
}
