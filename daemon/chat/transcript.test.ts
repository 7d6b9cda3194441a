/** Chat transcripts in a hostile repository: a transcript that is a link is neither read nor written through. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { ChatMessage } from '../../protocol/index.ts';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { nextSessionId } from './session-id.ts';
import { TranscriptStore } from './transcript.ts';

test('a transcript that is a link or a FIFO is not read, appended to, or created through', async (t) => {
  const repo = await makeTempDir(t);
  const dir = path.join(repo, '.ralph', 'chat');
  await mkdir(dir, { recursive: true });
  const outside = await makeTempDir(t, 'ralph-outside-');
  await writeFile(path.join(outside, 'victim.txt'), 'precious\n');
  const store = new TranscriptStore(dir);
  const linked = nextSessionId([], new Date('2026-01-01T10:00:00Z'));
  const dangling = nextSessionId([linked], new Date('2026-01-01T11:00:00Z'));
  const fifo = nextSessionId([linked, dangling], new Date('2026-01-01T12:00:00Z'));
  await symlink(path.join(outside, 'victim.txt'), store.fileOf(linked));
  await symlink(path.join(outside, 'made-by-ralph.txt'), store.fileOf(dangling));
  execFileSync('mkfifo', [store.fileOf(fifo)]);

  assert.deepEqual(await store.load(linked), {
    lines: [],
    skipped: ['the whole file: it is a symbolic link, which Ralph does not follow'],
  });
  assert.deepEqual(await store.load(fifo), { lines: [], skipped: ['the whole file: it is not a regular file (a FIFO, socket or device)'] });
  const message: ChatMessage = { id: 'm1', session: linked, role: 'user', parts: [], time: new Date().toISOString(), status: 'done' };
  await assert.rejects(store.append(message, 0), /symbolic link/);
  await assert.rejects(store.create(dangling), /symbolic link/);
  await assert.rejects(store.create(fifo), /not a regular file/);
  assert.equal(await readFile(path.join(outside, 'victim.txt'), 'utf8'), 'precious\n');
  assert.deepEqual(await readdir(outside), ['victim.txt']);
});

test('a chat folder that is a symbolic link is not written through', async (t) => {
  const repo = await makeTempDir(t);
  const outside = await makeTempDir(t, 'ralph-outside-');
  await mkdir(path.join(repo, '.ralph'));
  await symlink(outside, path.join(repo, '.ralph', 'chat'));
  const store = new TranscriptStore(path.join(repo, '.ralph', 'chat'));
  await assert.rejects(store.create(nextSessionId([], new Date())), /\.ralph\/chat is a symbolic link/);
  assert.deepEqual(await readdir(outside), []);
});
