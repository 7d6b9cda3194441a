/**
 * Provider overhead: streamed calls through Ralph's provider against the bare `openai` SDK, on both
 * APIs, against the same fake server (its own process, `long-stream`: about 400 deltas a call, zero
 * latency). Calls run one at a time, the sides interleaved so all see the same machine.
 * Target: the provider keeps ≥ 0.95 of the SDK's throughput.
 *
 * The provider sends its requests through the SDK but reads the streamed body itself
 * (daemon/llm/sse.ts): the SDK's parser copies the rest of a network read for every event in it,
 * so the provider outruns the bare SDK. A third side, the SDK's raw answer read by that same parser
 * with nothing else on top, shows what the provider's own layer costs over the parsing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { createProvider } from '../daemon/llm/provider.ts';
import { readServerSentEvents } from '../daemon/llm/sse.ts';
import type { ModelApi, Provider } from '../daemon/llm/types.ts';
import { percentile, printTable, type Row } from './table.ts';

const CALLS = Number(process.env.BENCH_PROVIDER_CALLS ?? 200);
const WARMUP = 20;
const MODEL = 'gpt-5.4';
const PROMPT = 'stream';

async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const script = fileURLToPath(new URL('../test/fake-openai/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, '--scenario', 'long-stream'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const lines = createInterface({ input: child.stdout! });
  const [url] = (await once(lines, 'line')) as [string];
  lines.close();
  return { url, child };
}

/** One streamed call through the bare SDK; returns the text it read. */
async function sdkCall(client: OpenAI, api: ModelApi): Promise<string> {
  let text = '';
  if (api === 'responses') {
    const stream = await client.responses.create({ model: MODEL, input: PROMPT, stream: true });
    for await (const event of stream) if (event.type === 'response.output_text.delta') text += event.delta;
  } else {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: PROMPT }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  }
  return text;
}

/** One streamed call sent by the bare SDK, its raw body read by sse.ts; returns the text it read. */
async function parserCall(client: OpenAI, api: ModelApi): Promise<string> {
  const response =
    api === 'responses'
      ? await client.responses.create({ model: MODEL, input: PROMPT, stream: true }).asResponse()
      : await client.chat.completions
          .create({ model: MODEL, messages: [{ role: 'user', content: PROMPT }], stream: true, stream_options: { include_usage: true } })
          .asResponse();
  let text = '';
  for await (const events of readServerSentEvents(response.body!)) {
    for (const event of events) {
      if (event.data.startsWith('[DONE]')) continue;
      // biome-ignore lint/suspicious/noExplicitAny: the bench reads the one field it needs from either API's event shape
      const data = JSON.parse(event.data) as any;
      if (api === 'responses') {
        if (data.type === 'response.output_text.delta') text += data.delta;
      } else {
        text += data.choices[0]?.delta.content ?? '';
      }
    }
  }
  return text;
}

async function providerCall(provider: Provider): Promise<string> {
  let text = '';
  for await (const event of provider.stream({ model: MODEL, items: [{ role: 'user', content: PROMPT }] })) {
    if (event.type === 'text.delta') text += event.delta;
  }
  return text;
}

interface Samples {
  /** Wall time per call, ms. */
  durations: number[];
  /** This process's CPU time per call, ms: the client's own work, steadier than wall time on a busy machine. */
  cpu: number[];
}

async function timed(call: () => Promise<string>, samples: Samples | undefined): Promise<string> {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const text = await call();
  const cpu = process.cpuUsage(cpuStart);
  samples?.durations.push(performance.now() - start);
  samples?.cpu.push((cpu.user + cpu.system) / 1000);
  return text;
}

async function measure(url: string, api: ModelApi): Promise<Row[]> {
  const settings = { apiKey: 'bench', baseURL: url, maxRetries: 3, timeout: 10 * 60_000, logLevel: 'off' } as const;
  const client = new OpenAI(settings);
  const provider = createProvider({ api, apiKey: 'bench', baseURL: url, maxRetries: settings.maxRetries, timeoutMs: settings.timeout });
  const sides = [
    { variant: 'bare openai SDK', call: () => sdkCall(client, api), samples: { durations: [], cpu: [] } as Samples },
    { variant: 'SDK request, body read by sse.ts', call: () => parserCall(client, api), samples: { durations: [], cpu: [] } as Samples },
    { variant: "Ralph's provider", call: () => providerCall(provider), samples: { durations: [], cpu: [] } as Samples },
  ];
  for (let index = 0; index < WARMUP + CALLS; index++) {
    const warm = index >= WARMUP;
    const texts: string[] = [];
    // Rotate which goes first, so none always gets the warmer moment.
    for (let turn = 0; turn < sides.length; turn++) {
      const side = sides[(index + turn) % sides.length]!;
      texts.push(await timed(side.call, warm ? side.samples : undefined));
    }
    if (!texts[0] || texts.some((text) => text !== texts[0])) throw new Error(`the sides read different text (${api})`);
  }
  const [bare, parsed, ralph] = sides.map((side) => side.samples) as [Samples, Samples, Samples];
  const row = (variant: string, samples: Samples): Row => {
    const sorted = [...samples.durations].sort((a, b) => a - b);
    const total = samples.durations.reduce((sum, duration) => sum + duration, 0);
    const cpu = samples.cpu.reduce((sum, ms) => sum + ms, 0) / samples.cpu.length;
    return {
      api,
      variant,
      calls: samples.durations.length,
      'calls/s': (samples.durations.length / total) * 1000,
      'p50 ms': percentile(sorted, 50),
      'p99 ms': percentile(sorted, 99),
      'client CPU ms/call': cpu,
    };
  };
  // Calls ran back to back; the median of their time ratios shrugs off bursts of load from elsewhere on the machine.
  const medianRatio = (base: Samples, other: Samples) =>
    percentile(
      base.durations.map((duration, index) => duration / other.durations[index]!).sort((a, b) => a - b),
      50,
    );
  const [bareRow, parsedRow, ralphRow] = sides.map((side) => row(side.variant, side.samples)) as [Row, Row, Row];
  for (const [other, samples] of [
    [parsedRow, parsed],
    [ralphRow, ralph],
  ] as const) {
    other['of SDK calls/s'] = Number(other['calls/s']) / Number(bareRow['calls/s']);
    other['median pair ratio'] = medianRatio(bare, samples);
  }
  ralphRow['of parser-only calls/s'] = Number(ralphRow['calls/s']) / Number(parsedRow['calls/s']);
  ralphRow['median pair ratio vs parser-only'] = medianRatio(parsed, ralph);
  return [bareRow, parsedRow, ralphRow];
}

export async function run(): Promise<void> {
  const { url, child } = await startServer();
  try {
    const rows: Row[] = [];
    for (const api of ['responses', 'chat'] as const) rows.push(...(await measure(url, api)));
    printTable(
      `Provider overhead: ${CALLS} streamed calls per side (long-stream, ~400 deltas, zero latency), one at a time, ` +
        `interleaved (target: ≥ 0.95 of the SDK's calls/s; pair ratio = SDK time / this side's time of back-to-back calls)`,
      rows,
    );
  } finally {
    child.kill();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
