import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { appendLine, removeStrayTempFiles, writeFileAtomic } from './atomic-write.ts';
import { writeThenCrashBeforeRename } from '../../test/helpers/crash-write.ts';

test('writeFileAtomic replaces the content and leaves no temp file', async (t) => {
  const dir = await makeTempDir(t);
  const file = path.join(dir, 'goal.json');
  await writeFile(file, 'old\n');
  await writeFileAtomic(file, 'new ✓\n');
  assert.equal(await readFile(file, 'utf8'), 'new ✓\n');
  assert.deepEqual(await readdir(dir), ['goal.json']);
});

test('writeFileAtomic applies the mode exactly', async (t) => {
  if (process.platform === 'win32') return t.skip('no POSIX modes');
  const dir = await makeTempDir(t);
  const file = path.join(dir, 'daemon.json');
  await writeFileAtomic(file, '{}\n', { mode: 0o600 });
  assert.equal((await stat(file)).mode & 0o777, 0o600);
});

test('a failure before the rename removes the temp file and leaves the target untouched', async (t) => {
  const dir = await makeTempDir(t);
  const file = path.join(dir, 'goal.json');
  await writeFile(file, 'old\n');
  let tempFile = '';
  await assert.rejects(
    writeFileAtomic(file, 'new\n', {
      beforeRename: (temp) => {
        tempFile = temp;
        throw new Error('disk on fire');
      },
    }),
    /disk on fire/,
  );
  assert.match(path.basename(tempFile), new RegExp(`^\\.goal\\.json\\.${process.pid}\\.[0-9a-f]+\\.tmp$`));
  assert.equal(await readFile(file, 'utf8'), 'old\n');
  assert.deepEqual(await readdir(dir), ['goal.json']);
});

test('a crash between temp file and rename keeps the old bytes; the stray temp file is cleaned', async (t) => {
  const dir = await makeTempDir(t);
  const target = path.join(dir, 'target', 'goal.json');
  // The target has its own folder: the child's script stays out of the listing.
  await mkdir(path.dirname(target));
  await writeFile(target, 'old bytes\n');

  const signal = await writeThenCrashBeforeRename(dir, target, 'new bytes\n');
  assert.equal(signal, 'SIGKILL');
  assert.equal(await readFile(target, 'utf8'), 'old bytes\n');
  const leftovers = (await readdir(path.dirname(target))).filter((name) => name.endsWith('.tmp'));
  assert.equal(leftovers.length, 1, 'the killed writer left its synced temp file');
  assert.equal(await readFile(path.join(path.dirname(target), leftovers[0]!), 'utf8'), 'new bytes\n');

  assert.deepEqual(await removeStrayTempFiles(path.dirname(target)), leftovers);
  assert.deepEqual(await readdir(path.dirname(target)), ['goal.json']);
});

test('removeStrayTempFiles leaves the temp files of live processes alone', async (t) => {
  const dir = await makeTempDir(t);
  const mine = `.goal.json.${process.pid}.abcdef.tmp`;
  await writeFile(path.join(dir, mine), 'in flight');
  await writeFile(path.join(dir, 'notes.tmp'), 'not ours');
  assert.deepEqual(await removeStrayTempFiles(dir), []);
  assert.deepEqual((await readdir(dir)).sort(), [mine, 'notes.tmp'].sort());
  assert.deepEqual(await removeStrayTempFiles(path.join(dir, 'missing')), []);
});

test('appendLine adds whole lines, also when called concurrently', async (t) => {
  const dir = await makeTempDir(t);
  const file = path.join(dir, 'log.jsonl');
  const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(i * 10) }));
  await Promise.all(lines.map((line) => appendLine(file, line)));
  const written = (await readFile(file, 'utf8')).split('\n');
  assert.equal(written.pop(), '', 'ends with a newline');
  assert.deepEqual(written.sort(), [...lines].sort());
});
