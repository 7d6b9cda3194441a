/**
 * The fake OpenAI server on its own, to drive the TUI by hand:
 *
 *   node --import tsx test/fake-openai/main.ts --port 8787 --scenario echo [--latency MS] [--delta-delay MS] [--api-key KEY]
 *
 * Prints the base URL on stdout (one line), one line per request on stderr, and stops on Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { startFakeOpenAI } from './server.ts';
import type { RequestRecord } from './server.ts';
import { isScenarioName, scenarios } from './scenarios.ts';

const USAGE = `usage: fake-openai [--port N] [--scenario NAME] [--latency MS] [--delta-delay MS] [--api-key KEY]
  --port N          port on 127.0.0.1 (default 0: a free one)
  --scenario NAME   ${Object.keys(scenarios).join(' | ')} (default echo)
  --latency MS      delay before every response starts
  --delta-delay MS  pause between streamed deltas, so streaming is visible
  --api-key KEY     require this key (401 otherwise)`;

function fail(message: string): never {
  process.stderr.write(`fake-openai: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function nonNegativeInteger(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) fail(`--${name} must be a whole number ≥ 0, got '${value}'`);
  return number;
}

function describe(record: RequestRecord): string {
  const duration = record.endedAt === undefined ? '' : ` ${Math.round(record.endedAt - record.startedAt)} ms`;
  const details = [
    record.model,
    record.stream ? 'stream' : undefined,
    record.toolNames.length > 0 ? `tools=${record.toolNames.join(',')}` : undefined,
    record.faults.length > 0 ? `faults=${record.faults.join(',')}` : undefined,
    record.aborted ? 'ABORTED by client' : undefined,
    record.error,
  ].filter(Boolean);
  return `${record.method} ${record.path} → ${record.status ?? '-'}${duration}${details.length > 0 ? `  (${details.join('; ')})` : ''}`;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string' },
      scenario: { type: 'string' },
      latency: { type: 'string' },
      'delta-delay': { type: 'string' },
      'api-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const scenario = values.scenario ?? 'echo';
if (!isScenarioName(scenario)) fail(`unknown scenario '${scenario}'`);
const port = nonNegativeInteger('port', values.port);
if (port !== undefined && port > 65535) fail(`--port must be at most 65535, got ${port}`);

const server = await startFakeOpenAI({
  port,
  scenario,
  latencyMs: nonNegativeInteger('latency', values.latency),
  deltaDelayMs: nonNegativeInteger('delta-delay', values['delta-delay']),
  apiKey: values['api-key'],
  onRequestEnd: (record) => process.stderr.write(`${describe(record)}\n`),
});
process.stdout.write(`${server.url}\n`);
process.stderr.write(
  `fake-openai: scenario '${scenario}' on ${server.url}\n` +
    `  OPENAI_BASE_URL=${server.url} OPENAI_API_KEY=${values['api-key'] ?? 'anything'}  (Ctrl-C stops)\n`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
