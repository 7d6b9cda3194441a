import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LandingBook, landingFile } from './landing-book.ts';

const HOSTILE: Record<string, string | Buffer> = {
  'not JSON': '{"queue": [',
  'bad UTF-8': Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
  'the wrong shape': JSON.stringify({ queue: [{ goalId: 'one' }], goals: 7 }),
  'nested deep': `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
  'a prototype key': '{"__proto__":{"polluted":true},"queue":[]}',
};

describe('the landing book reads .ralph/landing.json as hostile', () => {
  for (const [what, content] of Object.entries(HOSTILE)) {
    it(`${what}: the queue starts empty, the file is kept aside as it was, and the log says so`, async (t) => {
      const repo = await mkdtemp(path.join(os.tmpdir(), 'ralph-landing-book-'));
      t.after(() => rm(repo, { recursive: true, force: true }));
      const file = landingFile(repo);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
      const lines: string[] = [];
      const book = await LandingBook.open(repo, { log: (line) => lines.push(line), onChange: () => {} });
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      if (what === 'a prototype key') return; // a valid state with an extra key is no attack: nothing else to see
      assert.deepEqual(book.queue(), []);
      assert.deepEqual(await readFile(`${file}.invalid`), Buffer.from(content));
      assert.match(lines.join('\n'), /could not be read/);
    });
  }

  it('a link to a file elsewhere is not followed, and that file is left alone', async (t) => {
    const repo = await mkdtemp(path.join(os.tmpdir(), 'ralph-landing-book-'));
    t.after(() => rm(repo, { recursive: true, force: true }));
    const outside = path.join(repo, 'outside.json');
    await writeFile(outside, '{"queue":[]}');
    const file = landingFile(repo);
    await mkdir(path.dirname(file), { recursive: true });
    await symlink(outside, file);
    const lines: string[] = [];
    const book = await LandingBook.open(repo, { log: (line) => lines.push(line), onChange: () => {} });
    assert.deepEqual(book.queue(), []);
    assert.equal(await readFile(outside, 'utf8'), '{"queue":[]}');
    assert.match(lines.join('\n'), /could not be read/);
  });
});
