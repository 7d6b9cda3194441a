/**
 * Repository watcher on a big repository: ~30,000 files in ~1,500 folders, plus a git-ignored
 * node_modules of ~20,000 files. Reports setup time to "ready", inotify watches used (from
 * /proc/self/fdinfo), memory, CPU while idle, and the latency from a write to its batch.
 *
 * Beside it, chokidar with its defaults (node_modules and .git pruned all the same), which
 * watches every file as well as every folder: the cost the folder-only design avoids.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { watch } from 'chokidar';
import { countInotifyWatches, inotifyWatchLimit } from '../test/helpers/inotify.ts';
import { RepoWatcher } from '../daemon/watch/repo-watcher.ts';
import { percentile, printTable, type Row } from './table.ts';

const TOP_FOLDERS = 30;
const SUBFOLDERS = 49; // per top folder: 30 × (1 + 49) = 1,500 folders
const FILES_PER_FOLDER = 20; // 30,000 files
const PACKAGES = 1_000; // node_modules: 1,000 packages × 20 files = 20,000 files
const IDLE_MS = 5_000;
const LATENCY_SAMPLES = 20;
const DEBOUNCE_MS = 300;
/** The chokidar-default row needs ~32,000 watches: only where the budget leaves plenty for everyone else. */
const BASELINE_MIN_LIMIT = 100_000;

/** A full garbage collection, so memory figures show what is kept rather than what awaits collection. */
v8.setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function heapUsed(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

interface Layout {
  root: string;
  files: string[];
  folders: number;
}

/** Writes many small files, a bounded number at a time. */
async function writeAll(root: string, files: string[]): Promise<void> {
  const folders = new Set(files.map((file) => path.dirname(path.join(root, file))));
  for (const folder of folders) await mkdir(folder, { recursive: true });
  for (let start = 0; start < files.length; start += 256) {
    await Promise.all(files.slice(start, start + 256).map((file) => writeFile(path.join(root, file), `// ${file}\n`)));
  }
}

async function buildRepo(): Promise<Layout> {
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'ralph-bench-watch-')));
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: root });
  await writeFile(path.join(root, '.gitignore'), 'node_modules/\ndist/\n');
  const files: string[] = [];
  for (let top = 0; top < TOP_FOLDERS; top++) {
    for (let sub = -1; sub < SUBFOLDERS; sub++) {
      const folder = sub < 0 ? `src-${top}` : `src-${top}/mod-${sub}`;
      for (let file = 0; file < FILES_PER_FOLDER; file++) files.push(`${folder}/file-${file}.ts`);
    }
  }
  const ignored: string[] = [];
  for (let pkg = 0; pkg < PACKAGES; pkg++) {
    for (let file = 0; file < 20; file++) ignored.push(`node_modules/pkg-${pkg}/${file % 2 ? 'lib/' : ''}f-${file}.js`);
  }
  await writeAll(root, [...files, ...ignored]);
  return { root, files, folders: TOP_FOLDERS * (1 + SUBFOLDERS) + 1 };
}

interface Watching {
  /** Resolves at the next report that names `rel`. */
  waitFor(rel: string): Promise<void>;
  close(): Promise<void>;
}

async function measure(name: string, layout: Layout, start: () => Promise<Watching>, latencyOffsetMs: number): Promise<Row> {
  const watchesBefore = countInotifyWatches() ?? 0;
  const heapBefore = heapUsed();
  const rssBefore = process.memoryUsage().rss;
  const startedAt = performance.now();
  const watching = await start();
  const setupMs = performance.now() - startedAt;
  const watches = (countInotifyWatches() ?? 0) - watchesBefore;
  const rssGrowth = process.memoryUsage().rss - rssBefore;
  const heapKept = heapUsed() - heapBefore;
  try {
    await sleep(1_000); // let the start-up settle before measuring idle
    const cpuBefore = process.cpuUsage();
    const idleFrom = performance.now();
    await sleep(IDLE_MS);
    const cpu = process.cpuUsage(cpuBefore);
    const idleCpu = ((cpu.user + cpu.system) / 1000 / (performance.now() - idleFrom)) * 100;

    const latencies: number[] = [];
    for (let sample = 0; sample < LATENCY_SAMPLES; sample++) {
      const rel = layout.files[(sample * 7919) % layout.files.length]!;
      const reported = watching.waitFor(rel);
      const writtenAt = performance.now();
      await writeFile(path.join(layout.root, rel), `// edit ${sample}\n`);
      await reported;
      latencies.push(performance.now() - writtenAt - latencyOffsetMs);
    }
    latencies.sort((a, b) => a - b);
    return {
      watcher: name,
      'ready (ms)': Math.round(setupMs),
      'inotify watches': watches,
      'RSS growth (MB)': Math.round(rssGrowth / 2 ** 20),
      'heap kept (MB)': heapKept / 2 ** 20,
      'idle CPU %': idleCpu,
      'latency p50 (ms)': percentile(latencies, 50),
      'latency max (ms)': latencies.at(-1) ?? NaN,
    };
  } finally {
    await watching.close();
  }
}

/** Waiters keyed by the path they wait for; each report settles the ones it names. */
function waiters() {
  const pending = new Map<string, () => void>();
  return {
    waitFor: (rel: string) => new Promise<void>((resolve) => pending.set(rel, resolve)),
    seen: (rel: string) => {
      pending.get(rel)?.();
      pending.delete(rel);
    },
  };
}

async function startRepoWatcher(root: string): Promise<Watching> {
  const { waitFor, seen } = waiters();
  const watcher = await RepoWatcher.start({
    repoRoot: root,
    debounceMs: DEBOUNCE_MS,
    onChange: (batch) => batch.paths.forEach(seen),
  });
  return { waitFor, close: () => watcher.close() };
}

async function startChokidarDefault(root: string): Promise<Watching> {
  const { waitFor, seen } = waiters();
  const watcher = watch(root, {
    ignoreInitial: true,
    ignored: (absPath) => /(^|\/)(node_modules|\.git)(\/|$)/.test(path.relative(root, absPath)),
  });
  watcher.on('all', (_event, absPath) => seen(path.relative(root, absPath)));
  watcher.on('error', () => {}); // an over-budget watch must not crash the benchmark
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return { waitFor, close: () => watcher.close() };
}

export async function run(): Promise<void> {
  const limit = inotifyWatchLimit();
  const layout = await buildRepo();
  try {
    const rows = [await measure('RepoWatcher (folders only)', layout, () => startRepoWatcher(layout.root), DEBOUNCE_MS)];
    if (limit !== null && limit >= BASELINE_MIN_LIMIT) {
      rows.push(await measure('chokidar defaults (no debounce)', layout, () => startChokidarDefault(layout.root), 0));
    }
    printTable(
      `Repository watcher: ${layout.files.length.toLocaleString('en-US')} files in ` +
        `${layout.folders.toLocaleString('en-US')} folders + ignored node_modules ` +
        `(${(PACKAGES * 20).toLocaleString('en-US')} files); inotify budget ` +
        `${limit?.toLocaleString('en-US') ?? 'unknown'} watches per user; idle over ${IDLE_MS / 1000} s; ` +
        `latency: write to report, median of ${LATENCY_SAMPLES}, minus the ${DEBOUNCE_MS} ms debounce`,
      rows,
    );
  } finally {
    await rm(layout.root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
