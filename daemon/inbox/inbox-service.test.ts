/** The inbox on real files: questions written and read back, the first answer wins, hostile files reported and left alone. */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { EventBus } from '../events/bus.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { InboxService } from './inbox-service.ts';

async function openInbox(t: TestContext, root?: string) {
  const repoRoot = root ?? (await makeTempDir(undefined, 'ralph-inbox-'));
  if (!root) t.after(() => rm(repoRoot, { recursive: true, force: true }));
  const bus = new EventBus();
  const events: string[] = [];
  bus.subscribe(({ envelope }) => events.push(envelope.type));
  const logs: string[] = [];
  const inbox = await InboxService.open({ repoRoot, bus, log: (line) => logs.push(line), redact: (value) => value });
  return { repoRoot, inbox, events, logs };
}

test('a question is written, read back by the next daemon, answered once: a second answer is refused naming the first', async (t) => {
  const { repoRoot, inbox, events } = await openInbox(t);
  const asked = await inbox.ask({ from: { goalId: 3, iteration: 2 }, question: 'Which port?', options: ['80', '8080'] });
  assert.equal(asked.id, 1);
  const second = await inbox.ask({ from: { chat: '2026-11-26-1' }, question: 'Go on?' });
  assert.equal(second.id, 2);
  assert.deepEqual(events, ['question.asked', 'question.asked']);

  const reopened = (await openInbox(t, repoRoot)).inbox;
  assert.deepEqual(
    reopened.list().questions.map((question) => [question.id, question.question]),
    [
      [1, 'Which port?'],
      [2, 'Go on?'],
    ],
  );
  const [first, again] = await Promise.allSettled([reopened.answer(1, '8080', 'tui'), reopened.answer(1, '80', 'cli')]);
  assert.equal(first.status, 'fulfilled');
  assert.equal(again.status, 'rejected');
  assert.ok(again.reason instanceof ConflictError);
  assert.match(again.reason.message, /question 1 was already answered by tui at .*: the first answer stands/);
  await assert.rejects(reopened.answer(9, 'x', 'tui'), NotFoundError);
  assert.deepEqual(
    reopened.list().questions.map((question) => question.id),
    [2],
    'only the open one is listed',
  );
  assert.equal(reopened.list({ all: true }).questions.length, 2);
  const onDisk = JSON.parse(await readFile(path.join(repoRoot, '.ralph/questions/1.json'), 'utf8'));
  assert.deepEqual({ text: onDisk.answer.text, by: onDisk.answer.by }, { text: '8080', by: 'tui' });
  assert.equal((await openInbox(t, repoRoot)).inbox.get(1)?.answer?.text, '8080', 'the answer is on disk');
});

test('hostile question files are reported, never read as questions, never answered or written over', async (t) => {
  const repoRoot = await makeTempDir(undefined, 'ralph-inbox-');
  t.after(() => rm(repoRoot, { recursive: true, force: true }));
  const dir = path.join(repoRoot, '.ralph/questions');
  await mkdir(dir, { recursive: true });
  const secret = path.join(repoRoot, 'secret.json');
  await writeFile(secret, JSON.stringify({ id: 2, createdAt: '2026-01-01T00:00:00.000Z', from: { chat: 's' }, question: 'SECRET' }));
  const files: Record<string, string> = {
    '1.json': '{"id": 1, "question": ',
    '3.json': JSON.stringify({ id: 4, createdAt: '2026-01-01T00:00:00.000Z', from: { chat: 's' }, question: 'q' }),
    '4.json': `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
    '5.json': JSON.stringify({ id: 5, createdAt: 'yesterday', from: { chat: 's' }, question: 'q' }),
    '6.json': Buffer.from([0xff, 0xfe, 0x00]).toString('latin1'),
    '7.json': JSON.stringify({ id: 7, createdAt: '2026-01-01T00:00:00.000Z', from: { goalId: 1, iteration: 1 }, question: 'A fine one' }),
  };
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text, name === '6.json' ? 'latin1' : 'utf8');
  await symlink(secret, path.join(dir, '2.json'));
  await mkdir(path.join(dir, '8.json'));

  const { inbox, logs } = await openInbox(t, repoRoot);
  assert.deepEqual(
    inbox.list().questions.map((question) => question.id),
    [7],
    'only the valid file is a question',
  );
  const invalid = inbox.list().invalid;
  assert.deepEqual(
    invalid.map((bad) => bad.file).sort(),
    [1, 2, 3, 4, 5, 6, 8].map((id) => `.ralph/questions/${id}.json`),
  );
  assert.equal(logs.filter((line) => /is not read: .*it is left as it is/.test(line)).length, 7, logs.join('\n'));
  assert.ok(!logs.join('\n').includes('SECRET'), 'no report quotes what a file holds');
  assert.match(invalid.find((bad) => bad.file.endsWith('/2.json'))!.error, /symbolic link/);
  assert.match(invalid.find((bad) => bad.file.endsWith('/3.json'))!.error, /holds question 4, not 3/);

  await assert.rejects(
    inbox.answer(1, 'x', 'tui'),
    (error: unknown) => error instanceof ConflictError && /is not read/.test(error.message),
  );
  const asked = await inbox.ask({ from: { goalId: 1, iteration: 2 }, question: 'New?' });
  assert.equal(asked.id, 9, 'a new question takes an id past every file');
  for (const [name, text] of Object.entries(files)) {
    assert.equal(await readFile(path.join(dir, name), name === '6.json' ? 'latin1' : 'utf8'), text, `${name} is left as it is`);
  }
});
