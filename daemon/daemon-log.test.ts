import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'node:test';
import { makeTempDir } from '../test/helpers/repo.ts';
import { DaemonLogFile } from './daemon-log.ts';

const LIMITS = { maxBytes: 2000, keepBytes: 500 };
const line = (i: number) => `line ${String(i).padStart(4, '0')} of the daemon's log\n`;

test('past its limit the log keeps its newest whole lines, in order, and goes on', async (t) => {
  const dir = await makeTempDir(t);
  const file = path.join(dir, 'daemon.log');
  const log = new DaemonLogFile(file, LIMITS);
  for (let i = 0; i < 300; i++) log.append(line(i));

  const text = await readFile(file, 'utf8');
  assert.ok(Buffer.byteLength(text) <= LIMITS.maxBytes + line(0).length, `bounded: ${Buffer.byteLength(text)} bytes`);
  const lines = text.split('\n').filter(Boolean);
  const kept = lines.filter((l) => l.startsWith('line '));
  assert.ok(kept.length > 10, 'lines kept');
  assert.equal(kept.at(-1), line(299).trimEnd(), 'the newest line is there');
  // Whole lines, in order, none missing since the oldest kept.
  const first = Number(kept[0]!.slice(5, 9));
  assert.deepEqual(
    kept,
    Array.from({ length: 300 - first }, (_, i) => line(first + i).trimEnd()),
  );
  assert.ok(
    lines.some((l) => /log trimmed to its newest \d+ bytes/.test(l)),
    'it says it was trimmed',
  );
  assert.deepEqual(await readdir(dir), ['daemon.log'], 'no temporary file left');
});

test('a log already past its limit when the daemon starts is trimmed on the first line written', async (t) => {
  const dir = await makeTempDir(t);
  const file = path.join(dir, 'daemon.log');
  await writeFile(file, Array.from({ length: 200 }, (_, i) => line(i)).join(''));
  const log = new DaemonLogFile(file, LIMITS);
  log.append(line(200));
  const text = await readFile(file, 'utf8');
  assert.ok(Buffer.byteLength(text) < LIMITS.maxBytes);
  assert.ok(text.endsWith(line(200)));
  assert.ok(!text.includes(line(0)), 'the oldest lines are gone');
});

test('a log that cannot be written does not throw', async (t) => {
  const dir = await makeTempDir(t);
  const log = new DaemonLogFile(path.join(dir, 'missing-folder', 'daemon.log'), LIMITS);
  assert.doesNotThrow(() => log.append(line(0)));
});
