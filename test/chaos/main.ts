/**
 * `npm run chaos [-- --kills N --seed S --bundle]`: kill -9 the real daemon N times (default 100)
 * while goals run, land and log, restart it each time, and print what was left behind
 * (test/chaos/chaos-run.ts). `--bundle` runs the daemon from an esbuild bundle of its sources
 * (starts faster) instead of through tsx.
 * Exit code 0 when every defect count is zero, 1 otherwise, 2 for bad usage.
 *
 * Stopped with Ctrl+C (or SIGTERM/SIGHUP), it kills the daemon's process group and whatever it
 * started, closes the fake model server and removes its temporary folders before exiting.
 */
import { parseArgs } from 'node:util';
import { formatReport, randomSeed, runChaos, totalDefects } from './chaos-run.ts';

const USAGE = 'usage: npm run chaos -- [--kills N] [--seed S] [--concurrency N] [--bundle]';

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) {
    process.stderr.write(`--${name} must be a whole number; ${USAGE}\n`);
    process.exit(2);
  }
  return Number(value);
}

let values: { kills?: string; seed?: string; concurrency?: string; bundle?: boolean };
try {
  ({ values } = parseArgs({
    options: { kills: { type: 'string' }, seed: { type: 'string' }, concurrency: { type: 'string' }, bundle: { type: 'boolean' } },
    strict: true,
  }));
} catch (error) {
  process.stderr.write(`${(error as Error).message}; ${USAGE}\n`);
  process.exit(2);
}
const kills = positiveInt(values.kills, 'kills', 100);
const seed = positiveInt(values.seed, 'seed', randomSeed()) >>> 0;
const concurrency = positiveInt(values.concurrency, 'concurrency', 2);

// A signal ends the run through process.exit, whose 'exit' handler (in runChaos) kills what it started.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\nchaos: ${signal}, stopping (seed ${seed})\n`);
    process.exit(130);
  });
}

const again = `npm run chaos -- --kills ${kills} --seed ${seed}${concurrency === 2 ? '' : ` --concurrency ${concurrency}`}${values.bundle ? ' --bundle' : ''}`;
process.stdout.write(`chaos: ${kills} kills, seed ${seed} (again: ${again})\n`);
const report = await runChaos({
  kills,
  seed,
  concurrency,
  daemonFrom: values.bundle ? 'bundle' : 'source',
  progress: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`\n${formatReport(report)}\n`);
if (report.details.length > 0) process.stdout.write(`\n${report.details.map((line) => `- ${line}`).join('\n')}\n`);
process.exit(totalDefects(report) === 0 ? 0 : 1);
