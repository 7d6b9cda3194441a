import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { git, makeTempRepo } from '../../test/helpers/repo.ts';
import { pause, waitFor } from '../../test/helpers/wait.ts';
import { countInotifyWatches } from '../../test/helpers/inotify.ts';
import { RepoWatcher, type RepoChange, type RepoWatcherOptions } from './repo-watcher.ts';
import { defer } from '../../test/helpers/defer.ts';

/** Short debounce so the suite stays quick; quiet windows are several debounces long. */
const DEBOUNCE_MS = 100;
const QUIET_MS = DEBOUNCE_MS * 4;

interface Watched {
  repo: string;
  watcher: RepoWatcher;
  batches: RepoChange[];
  warnings: string[];
  /** Waits for the batch after the `count` already seen. */
  nextBatch: (message: string) => Promise<RepoChange>;
}

async function watchRepo(
  t: TestContext,
  repo: string,
  options: Partial<Omit<RepoWatcherOptions, 'repoRoot' | 'onChange'>> = {},
): Promise<Watched> {
  const batches: RepoChange[] = [];
  const warnings: string[] = [];
  const watcher = await RepoWatcher.start({
    repoRoot: repo,
    debounceMs: DEBOUNCE_MS,
    maxWaitMs: 10_000,
    onChange: (batch) => batches.push(batch),
    onWarning: (message) => warnings.push(message),
    ...options,
  });
  defer(t, () => watcher.close());
  let seen = 0;
  const nextBatch = async (message: string) => {
    const batch = await waitFor(() => batches[seen], { timeoutMs: 10_000, message });
    seen++;
    return batch;
  };
  return { repo, watcher, batches, warnings, nextBatch };
}

async function write(repo: string, rel: string, content = `${rel} ${Date.now()}\n`): Promise<void> {
  const absPath = path.join(repo, rel);
  await mkdir(path.dirname(absPath), { recursive: true });
  await writeFile(absPath, content);
}

test('a burst of edits is one batch; a later edit is a second batch', async (t) => {
  const repo = await makeTempRepo(t, { 'a.ts': 'a', 'b.ts': 'b', 'c.ts': 'c' });
  await mkdir(path.join(repo, 'src'));
  await writeFile(path.join(repo, 'src', 'd.ts'), 'd');
  const { batches, nextBatch } = await watchRepo(t, repo);

  await write(repo, 'a.ts');
  await write(repo, 'src/d.ts');
  await write(repo, 'b.ts');
  await write(repo, 'a.ts');
  const first = await nextBatch('the burst');
  assert.deepEqual(first, { paths: ['a.ts', 'b.ts', 'src/d.ts'], omitted: 0, branch: 'main' });
  await pause(QUIET_MS);
  assert.equal(batches.length, 1, 'the burst made exactly one batch');

  await write(repo, 'c.ts');
  assert.deepEqual(await nextBatch('the later edit'), { paths: ['c.ts'], omitted: 0, branch: 'main' });
});

test('new files, deleted files and files in new subfolders are reported', async (t) => {
  const repo = await makeTempRepo(t, { 'old.ts': 'old' });
  await write(repo, 'lib/gone.ts');
  const { nextBatch } = await watchRepo(t, repo);

  await write(repo, 'new.ts');
  await rm(path.join(repo, 'old.ts'));
  await rm(path.join(repo, 'lib/gone.ts'));
  await write(repo, 'fresh/deeper/still/file.ts');
  await write(repo, 'fresh/top.ts');
  const batch = await nextBatch('the changes');
  for (const expected of ['new.ts', 'old.ts', 'lib/gone.ts', 'fresh/deeper/still/file.ts', 'fresh/top.ts']) {
    assert.ok(batch.paths.includes(expected), `${expected} reported in ${JSON.stringify(batch.paths)}`);
  }
  assert.ok(!batch.paths.includes('fresh') && !batch.paths.includes('lib'), 'folders that exist are not paths');

  // A folder removed with everything in it.
  await rm(path.join(repo, 'fresh'), { recursive: true });
  const removal = await nextBatch('the removal');
  assert.ok(removal.paths.includes('fresh/top.ts'), JSON.stringify(removal.paths));
  assert.ok(removal.paths.includes('fresh'), JSON.stringify(removal.paths));
});

test('.git, node_modules, .ralph and git-ignored paths (root and nested .gitignore) are not reported', async (t) => {
  const repo = await makeTempRepo(t, { '.gitignore': 'dist/\n*.log\n' });
  await write(repo, 'packages/app/.gitignore', 'generated/\n*.tmp\n');
  await write(repo, 'node_modules/dep/index.js');
  await write(repo, 'dist/out.js');
  await write(repo, 'packages/app/generated/schema.ts');
  const { batches, nextBatch } = await watchRepo(t, repo);

  await write(repo, '.git/ralph-test-file');
  await write(repo, 'node_modules/dep/index.js');
  await write(repo, 'node_modules/new-dep/index.js');
  await write(repo, 'packages/app/node_modules/x/y.js');
  await write(repo, '.ralph/goals/1.json', '{}');
  await write(repo, 'dist/out.js');
  await write(repo, 'dist/more/chunk.js');
  await write(repo, 'debug.log');
  await write(repo, 'packages/app/generated/schema.ts');
  await write(repo, 'packages/app/scratch.tmp');
  await write(repo, 'packages/app/editor.ts.swp');
  // A change that is reported, after all the ignored ones: it closes the batch they would be in.
  await write(repo, 'packages/app/index.ts');
  const batch = await nextBatch('the one reportable change');
  assert.deepEqual(batch.paths, ['packages/app/index.ts']);
  await pause(QUIET_MS);
  assert.equal(batches.length, 1, 'nothing else was reported');
});

test('a changed .gitignore takes effect', async (t) => {
  const repo = await makeTempRepo(t, { '.gitignore': 'dist/\n' });
  await write(repo, 'dist/out.js');
  await write(repo, 'packages/app/dist/deep/out.js');
  await write(repo, 'logs/today.txt');
  const { nextBatch } = await watchRepo(t, repo);

  await write(repo, '.gitignore', 'logs/\n');
  assert.deepEqual((await nextBatch('the .gitignore edit')).paths, ['.gitignore'], 'unignored files are not changes');

  // Chokidar sets up the watches of folders the new rules let in without a signal when done.
  await pause(QUIET_MS);
  await write(repo, 'logs/today.txt'); // now ignored
  // Now watched: both were pruned under the old rules, one right beside the .gitignore, one deeper.
  await write(repo, 'dist/out.js');
  await write(repo, 'packages/app/dist/deep/out.js');
  assert.deepEqual((await nextBatch('the edits after the rule change')).paths, ['dist/out.js', 'packages/app/dist/deep/out.js']);

  // .git/info/exclude is reloaded too (its change is no path of its own: no batch to wait for).
  await writeFile(path.join(repo, '.git/info/exclude'), 'packages/app/dist/\n');
  await pause(QUIET_MS);
  await write(repo, 'packages/app/dist/deep/out.js');
  await write(repo, 'marker.ts');
  assert.deepEqual((await nextBatch('the edits after the exclude change')).paths, ['marker.ts']);
});

test('a branch switch is reported, alone as a batch with no paths', async (t) => {
  const repo = await makeTempRepo(t);
  const { watcher, nextBatch } = await watchRepo(t, repo);
  assert.equal(watcher.branch, 'main');

  git(repo, 'checkout', '-q', '-b', 'other');
  assert.deepEqual(await nextBatch('the branch switch'), { paths: [], omitted: 0, branch: 'other' });
  assert.equal(watcher.branch, 'other');

  git(repo, 'checkout', '-q', '--detach');
  assert.deepEqual(await nextBatch('the detached HEAD'), { paths: [], omitted: 0, branch: null });
  assert.equal(watcher.branch, null);
});

test('a batch lists at most maxPaths paths and counts the rest', async (t) => {
  const repo = await makeTempRepo(t);
  await mkdir(path.join(repo, 'many'));
  // A long debounce: 300 writes on a busy machine must still land in one batch.
  const { nextBatch } = await watchRepo(t, repo, { debounceMs: 1000 });

  const names = Array.from({ length: 300 }, (_, i) => `many/file-${String(i).padStart(3, '0')}.txt`);
  await Promise.all(names.map((name) => write(repo, name)));
  const batch = await nextBatch('the 300 new files');
  assert.equal(batch.paths.length, 200);
  assert.equal(batch.omitted, 100);
  assert.deepEqual(batch.paths, names.slice(0, 200), 'the first 200 in sorted order');
});

test('a continuous stream of edits still flushes every maxWaitMs', async (t) => {
  const repo = await makeTempRepo(t);
  // The debounce never expires while edits keep coming every 50 ms; only maxWait can flush.
  const { batches } = await watchRepo(t, repo, { debounceMs: 1000, maxWaitMs: 300 });
  let edits = 0;
  const streaming = setInterval(() => void write(repo, `stream-${edits++ % 3}.txt`), 50);
  defer(t, () => clearInterval(streaming));
  await waitFor(() => batches.length >= 2, { timeoutMs: 10_000, message: 'two batches during the stream' });
  clearInterval(streaming);
  assert.ok(batches[0]?.paths.some((p) => p.startsWith('stream-')));
});

test('folders are watched, not files: inotify watches scale with folders', async (t) => {
  const before = countInotifyWatches();
  if (before === null) return t.skip('no /proc: not Linux');
  const repo = await makeTempRepo(t);
  for (let folder = 0; folder < 5; folder++) {
    await Promise.all(Array.from({ length: 60 }, (_, i) => write(repo, `folder-${folder}/file-${i}.ts`)));
  }
  await Promise.all(Array.from({ length: 200 }, (_, i) => write(repo, `node_modules/pkg-${i}/index.js`)));
  const { watcher } = await watchRepo(t, repo);
  const used = (countInotifyWatches() ?? 0) - before;
  // 6 working-tree folders (root + 5) and the git folder and .git/info; 300 files and node_modules cost nothing.
  assert.ok(used >= 6 && used <= 10, `watches used: ${used}`);
  await watcher.close();
  assert.equal(countInotifyWatches(), before, 'close() released every watch');
});

test('a folder the OS refuses to watch is polled instead, with one warning', async (t) => {
  const repo = await makeTempRepo(t);
  await write(repo, 'crowded/a.ts');
  const { watcher, warnings, batches } = await watchRepo(t, repo, { pollIntervalMs: 200 });

  // Stand in for the kernel refusing an inotify watch: the folder loses its watch and chokidar
  // reports the ENOSPC error it reports when fs.watch fails. (Exhausting the real, per-user
  // limit would break every other process of this user on the machine.)
  const crowded = path.join(watcher.repoRoot, 'crowded');
  // Reaching into the private chokidar instance is the one seam this test needs (TypeScript allows it by string only).
  // biome-ignore lint/complexity/useLiteralKeys: `watcher.tree` is private
  const tree = watcher['tree']!;
  await tree.unwatch(crowded);
  for (const folder of [crowded, path.join(watcher.repoRoot, 'elsewhere')]) {
    const refused = Object.assign(new Error(`ENOSPC: System limit for number of file watchers reached, watch '${folder}'`), {
      code: 'ENOSPC',
      path: folder,
    });
    tree.emit('error', refused);
  }
  assert.equal(warnings.length, 1, 'one warning, however many folders fail');
  assert.match(warnings[0] ?? '', /inotify watch limit.*polled/);
  await waitFor(() => watcher.polledFolders >= 1, { message: 'the folder polled' });
  await pause(300); // the poller's baseline listing

  const seenBefore = batches.length;
  await write(repo, 'crowded/a.ts', 'edited');
  await write(repo, 'crowded/b.ts');
  await write(repo, 'crowded/sub/c.ts');
  // A poll may fall between the writes on a loaded machine (and a new sub-folder is listed on the
  // poll after it appears): the changes may come in more than one batch, but each comes once.
  const expected = ['crowded/a.ts', 'crowded/b.ts', 'crowded/sub/c.ts'];
  const reported = () => batches.slice(seenBefore).flatMap((batch) => batch.paths);
  await waitFor(() => expected.every((file) => reported().includes(file)), {
    timeoutMs: 10_000,
    message: `the polled changes (so far: ${reported().join(', ')})`,
  });
  assert.deepEqual([...reported()].sort(), expected);
});

test('close() leaves nothing running: the process exits on its own', async (t) => {
  const repo = await makeTempRepo(t, { 'a.ts': 'a' });
  const moduleUrl = new URL('./repo-watcher.ts', import.meta.url).href;
  const script = `
    import { writeFileSync } from 'node:fs';
    const { RepoWatcher } = await import(${JSON.stringify(moduleUrl)});
    const watcher = await RepoWatcher.start({ repoRoot: ${JSON.stringify(repo)}, debounceMs: 50, onChange: () => {} });
    writeFileSync(${JSON.stringify(path.join(repo, 'a.ts'))}, 'pending change');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await watcher.close();
    console.log('closed');
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: path.dirname(fileURLToPath(import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  defer(t, () => child.kill('SIGKILL'));
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still running 10 s after close(): ${output}`)), 10_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  assert.equal(exitCode, 0, output);
  assert.match(output, /closed/);
});

test('start() refuses a folder that does not exist, with a clear error', async (t) => {
  const repo = await makeTempRepo(t);
  await assert.rejects(RepoWatcher.start({ repoRoot: path.join(repo, 'missing'), onChange: () => {} }), /cannot watch .*missing/);
});
