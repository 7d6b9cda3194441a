/**
 * The bundle of the command line and TUI (tui/bin/bundle.js): built into a temporary folder two
 * levels below the package root (as tui/.build is), run, and checked for staleness.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { buildBundle, freshBundle, stringWidthWithEmojiCheckWhenNeeded } from './bundle.js';

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Manifest {
  version: number;
  entry: string;
  inputs: Record<string, { size: number; mtimeMs: number }>;
}

/** A build folder beside tui/.build (so paths computed from import.meta.url resolve alike), removed after. */
async function tempBuild(t: test.TestContext): Promise<{ dir: string; entry: string; manifestFile: string }> {
  const dir = await mkdtemp(path.join(ROOT, 'tui', '.build-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const entry = await buildBundle({ outDir: dir });
  return { dir, entry, manifestFile: path.join(dir, 'manifest.json') };
}

test('the bundle runs the command line, and its manifest stamps the sources it was built from', async (t) => {
  const { dir, entry, manifestFile } = await tempBuild(t);
  assert.equal(path.dirname(entry), dir);
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
  assert.equal(path.join(dir, manifest.entry), entry);
  for (const source of ['tui/cli/main.ts', 'tui/app/App.tsx', 'protocol/client.ts', 'package.json', 'node_modules/.package-lock.json']) {
    const stamp = manifest.inputs[source];
    assert.ok(stamp, `${source} is an input`);
    const now = await stat(path.join(ROOT, source));
    assert.equal(stamp.size, now.size);
  }
  assert.ok(
    !Object.keys(manifest.inputs).some((file) => file.includes('node_modules/ink/')),
    'packages are covered by the lock file, not stamped one by one',
  );

  const { stdout } = await execFileAsync(process.execPath, [entry, '--help']);
  assert.match(stdout, /^Usage: ralph/);
  // Split by command: the TUI (Ink, React) is a chunk of its own, not part of the entry.
  const entrySource = await readFile(entry, 'utf8');
  assert.ok(!entrySource.includes('react-reconciler'), 'the entry does not hold the TUI');
  assert.ok((await readdir(dir)).some((name) => name.startsWith('chunk-')));
  // string-width as the bundle has it: its emoji checks behind the cheap one (as code, minified;
  // bundle.js, bundled too, holds the same words in a string).
  const outputs = await Promise.all(
    (await readdir(dir)).filter((name) => name.endsWith('.js')).map((name) => readFile(path.join(dir, name), 'utf8')),
  );
  assert.ok(outputs.some((source) => source.includes('if(mayBeEmojiRegex.test(segment)&&(segment.length===1')));
});

test('string-width with its emoji checks behind the cheap one measures every character and emoji as string-width does', async (t) => {
  const installed = fileURLToPath(import.meta.resolve('string-width'));
  const patched = stringWidthWithEmojiCheckWhenNeeded(await readFile(installed, 'utf8'));
  assert.ok(patched, `the installed string-width (${installed}) reads as the bundle expects`);
  // The patched module beside the bundle's outputs, importing string-width's own dependencies.
  const dir = await mkdtemp(path.join(ROOT, 'tui', '.build-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'string-width.js');
  const resolved = patched.replace(/from '([a-z-]+)';/g, (_, name: string) => `from '${import.meta.resolve(name)}';`);
  await writeFile(file, resolved);
  const { default: fast } = (await import(pathToFileURL(file).href)) as { default: (text: string) => number };
  const { default: stringWidth } = await import('string-width');

  const texts: string[] = [];
  // Every code point of the Basic Multilingual Plane and of the emoji blocks.
  for (const [from, to] of [
    [0x80, 0xffff],
    [0x1f000, 0x1faff],
    [0xe0000, 0xe007f],
  ] as const) {
    for (let code = from; code <= to; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      texts.push(String.fromCodePoint(code));
    }
  }
  // Marks, variation selectors and skin tones after a letter, a digit and an emoji.
  for (const [from, to] of [
    [0x300, 0x36f],
    [0x20d0, 0x20ff],
    [0xfe00, 0xfe0f],
    [0x1f3fb, 0x1f3ff],
  ] as const) {
    for (let code = from; code <= to; code++) for (const base of ['a', '1', '☺', '👍']) texts.push(base + String.fromCodePoint(code));
  }
  texts.push('● connected · 3 goals ─│╭╮ ▸ › … ✓ ✗ ⏎ ⠋', '👍🏽 👨‍👩‍👧 🏳️‍🌈 🏴󠁧󠁢󠁳󠁣󠁴󠁿 🇫🇷 #️⃣ 1⃣ ❤️ ❤ ☺️ ✌🏻 ⌚ ↔️', '中文 한국어 각 カタカナ ｶﾞ é é ิ क्ष');
  const differ = texts.filter((text) => fast(text) !== stringWidth(text));
  assert.deepEqual(differ.slice(0, 10), []);
});

test('a bundle is fresh until one of its inputs changes, disappears, or the manifest is unreadable', async (t) => {
  const { entry, manifestFile } = await tempBuild(t);
  assert.equal(freshBundle(manifestFile), entry);
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
  const write = (value: unknown) => writeFile(manifestFile, typeof value === 'string' ? value : JSON.stringify(value));

  // An input edited since (its mtime no longer matches, either way).
  const edited = structuredClone(manifest);
  edited.inputs['tui/app/App.tsx']!.mtimeMs -= 1000;
  await write(edited);
  assert.equal(freshBundle(manifestFile), null, 'an input with another mtime');

  const resized = structuredClone(manifest);
  resized.inputs['protocol/client.ts']!.size += 1;
  await write(resized);
  assert.equal(freshBundle(manifestFile), null, 'an input with another size');

  const gone = structuredClone(manifest);
  gone.inputs['tui/no-such-file.ts'] = { size: 1, mtimeMs: 1 };
  await write(gone);
  assert.equal(freshBundle(manifestFile), null, 'an input that is gone');

  await write({ ...manifest, entry: 'main-MISSING.js' });
  assert.equal(freshBundle(manifestFile), null, 'an entry that is gone');
  await write({ ...manifest, version: 0 });
  assert.equal(freshBundle(manifestFile), null, 'a manifest of another version');
  await write('{"version":1,"entry":');
  assert.equal(freshBundle(manifestFile), null, 'a torn manifest');

  await write(manifest);
  assert.equal(freshBundle(manifestFile), entry, 'the same manifest again: fresh');
});

test('building again leaves the files of the earlier build in place: a running ralph may still load them', async (t) => {
  const { dir, entry } = await tempBuild(t);
  const before = new Map<string, number>();
  for (const name of await readdir(dir)) if (name !== 'manifest.json') before.set(name, (await stat(path.join(dir, name))).mtimeMs);
  const again = await buildBundle({ outDir: dir });
  assert.equal(again, entry, 'the same sources give the same content-named entry');
  for (const [name, mtimeMs] of before) assert.equal((await stat(path.join(dir, name))).mtimeMs, mtimeMs, `${name} was not rewritten`);
  assert.ok(!(await readdir(dir)).some((name) => name.endsWith('.tmp')), 'no temporary files left');
});
