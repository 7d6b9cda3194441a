/**
 * A hostile repository against a real daemon: goal, log, research and config files that are links
 * (to a file outside, to /etc/passwd), folders, FIFOs, huge, not UTF-8, deeply nested, or named with
 * ids out of range. The daemon must start, stay up, list the bad goal files as invalid (saying what
 * they are, quoting nothing), overwrite none of them (byte-identical afterwards, link targets
 * untouched), and `goal add` must still work. Also: the goals folder deleted and restored, as a
 * `git checkout` does, is followed without a restart.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createGoal, type Goal } from '../../protocol/index.ts';
import { nextSessionId } from '../../daemon/chat/session-id.ts';
import { MAX_GOAL_FILE_BYTES, MAX_GOAL_ID } from '../../daemon/store/goal-store.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';

const NOW = new Date('2026-01-02T03:04:05.000Z');

function goalText(goal: Goal): string {
  return `${JSON.stringify(goal, null, 2)}\n`;
}

function validGoal(id: number, title = `Goal ${id}`): string {
  return goalText(createGoal({ id, title, now: NOW }));
}

/** A goal file whose title holds byte 0xE9 (é in Latin-1): not UTF-8. */
function latin1Goal(id: number): Buffer {
  const bytes = Buffer.from(validGoal(id, 'Caf_'), 'utf8');
  bytes[bytes.indexOf('Caf_') + 3] = 0xe9;
  return bytes;
}

/** What every path under `root` is, without following links or opening FIFOs: compared before and after. */
async function fingerprint(root: string): Promise<Map<string, string>> {
  const prints = new Map<string, string>();
  const visit = async (dir: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const file = path.join(dir, name);
      const stats = await lstat(file);
      const key = path.relative(root, file);
      if (stats.isSymbolicLink()) prints.set(key, `link → ${await readlink(file)}`);
      else if (stats.isDirectory()) {
        prints.set(key, 'folder');
        await visit(file);
      } else if (stats.isFIFO()) prints.set(key, 'fifo');
      else
        prints.set(
          key,
          `file ${createHash('sha256')
            .update(await readFile(file))
            .digest('hex')}`,
        );
    }
  };
  await visit(root);
  return prints;
}

/** Lays out a repository with every kind of hostile file, and a folder outside it that links point to. */
async function hostileRepository(outside: string, repo: string): Promise<void> {
  const ralph = path.join(repo, '.ralph');
  const goals = path.join(ralph, 'goals');
  const logs = path.join(ralph, 'logs');
  const research = path.join(ralph, 'research');
  await mkdir(goals, { recursive: true });
  await mkdir(logs, { recursive: true });
  await mkdir(research, { recursive: true });
  await writeFile(path.join(outside, 'goal-2.json'), validGoal(2, 'Lives outside'));
  await writeFile(path.join(outside, 'log.txt'), 'outside the repository\n');

  // Goals: one valid, then one of each kind of bad file.
  await writeFile(path.join(goals, '1.json'), validGoal(1, 'The one good goal'));
  await symlink(path.join(outside, 'goal-2.json'), path.join(goals, '2.json'));
  await symlink('/etc/passwd', path.join(goals, '3.json'));
  await mkdir(path.join(goals, '4.json'));
  execFileSync('mkfifo', [path.join(goals, '5.json')]);
  await writeFile(path.join(goals, '6.json'), Buffer.alloc(MAX_GOAL_FILE_BYTES + 1, 0x20));
  await writeFile(path.join(goals, '7.json'), latin1Goal(7));
  await writeFile(path.join(goals, '8.json'), 'root:x:0:0:root:/root:/bin/bash\n');
  await writeFile(path.join(goals, `${MAX_GOAL_ID + 1}.json`), validGoal(MAX_GOAL_ID + 1));
  await writeFile(path.join(goals, '9007199254740991.json'), '');
  await writeFile(path.join(goals, '99999999999999999999999.json'), '');

  // Logs: a link out of the repository (the goal's appends must not reach it), a FIFO, garbage, an id out of range.
  await symlink(path.join(outside, 'log.txt'), path.join(logs, '1.jsonl'));
  execFileSync('mkfifo', [path.join(logs, '10.jsonl')]);
  await writeFile(path.join(logs, '11.jsonl'), Buffer.from([0xff, 0xfe, 0x0a, 0x7b, 0x0a]));
  await writeFile(path.join(logs, '9007199254740991.jsonl'), '');

  // Research runs.
  await symlink('/etc/passwd', path.join(research, 'r-20260101-100000-0001.json'));
  execFileSync('mkfifo', [path.join(research, 'r-20260101-100000-0002.json')]);
  await mkdir(path.join(research, 'r-20260101-100000-0003.json'));
  await writeFile(path.join(research, 'r-20260101-100000-0004.json'), latin1Goal(4));
  await writeFile(path.join(research, 'r-20260101-100000-0005.json'), `${'['.repeat(100_000)}${']'.repeat(100_000)}`);

  // Chat transcripts: the newest session is a FIFO (the daemon reads it at start), an older one a link.
  const chat = path.join(ralph, 'chat');
  await mkdir(chat);
  const older = nextSessionId([], new Date('2026-01-01T10:00:00Z'));
  await symlink('/etc/passwd', path.join(chat, `${older}.jsonl`));
  execFileSync('mkfifo', [path.join(chat, `${nextSessionId([older], new Date('2026-01-01T11:00:00Z'))}.jsonl`)]);

  // The daemon's own state, with a next id no goal may have.
  await writeFile(path.join(ralph, 'state.json'), JSON.stringify({ nextGoalId: 2 ** 53 - 1 }));
  // The config: a FIFO, whose read as a module would wait for a writer forever.
  execFileSync('mkfifo', [path.join(repo, 'ralph.config.ts')]);
}

describe('a hostile repository', () => {
  it('the daemon starts and stays up, lists every bad goal file as invalid, overwrites none, and goal add works', async (t) => {
    const outside = await makeTempDir(t, 'ralph-outside-');
    const repo = await makeTempRepo(undefined);
    defer(t, () => rm(repo, { recursive: true, force: true }));
    await hostileRepository(outside, repo);
    const before = await fingerprint(repo);
    const outsideBefore = await fingerprint(outside);
    const passwd = await readFile('/etc/passwd');

    // As a daemon runs for real: the repository watched too.
    const { connect, logs } = await startTestDaemon(t, repo, { repoWatch: true });
    const client = await connect('hostile');
    const { goals, invalid } = await client.request('goal.list');
    assert.deepEqual(
      goals.map((goal) => [goal.id, goal.title]),
      [[1, 'The one good goal']],
    );
    const errors = Object.fromEntries(invalid.map((bad) => [bad.id, bad.error]));
    assert.deepEqual(errors, {
      2: 'the file is not read: it is a symbolic link, which Ralph does not follow',
      3: 'the file is not read: it is a symbolic link, which Ralph does not follow',
      4: 'the file is not read: it is a folder, not a file',
      5: 'the file is not read: it is not a regular file (a FIFO, socket or device)',
      6: 'the file is not read: it is larger than 16 MiB, the most Ralph reads of it',
      7: `not valid UTF-8 text (the first bad byte is at offset ${latin1Goal(7).indexOf(0xe9)})`,
      8: 'not valid JSON: unexpected character at line 1, column 1',
      [MAX_GOAL_ID + 1]: `its id is out of range: goal ids go from 1 to ${MAX_GOAL_ID}`,
      9007199254740991: `its id is out of range: goal ids go from 1 to ${MAX_GOAL_ID}`,
    });
    // The snapshot a client starts from says the same.
    assert.deepEqual(client.snapshot.invalid, invalid);
    // Nothing of /etc/passwd, or of the file outside, in anything the daemon said.
    const said = JSON.stringify({ invalid, logs });
    assert.doesNotMatch(said, /root:|bin\/bash|Lives outside/);
    assert.ok(
      logs.some((line) => /ralph\.config\.ts: is not loaded: it is not a regular file/.test(line)),
      logs.join('\n'),
    );
    assert.ok(
      logs.some((line) => /99999999999999999999999\.json is not a goal/.test(line)),
      logs.join('\n'),
    );
    assert.ok(
      logs.some((line) => /chat: .*\.jsonl: skipped the whole file: it is not a regular file/.test(line)),
      logs.join('\n'),
    );
    assert.deepEqual(client.snapshot.chat.messages, []);

    // Goal add still works: above every id taken in range (goals 1–8, logs 10 and 11), not above 2^53.
    const added = await client.request('goal.create', { title: 'Added in a hostile repository' });
    assert.equal(added.goal.id, 12);
    assert.ok(
      logs.some((line) => /\.ralph\/logs\/9007199254740991\.jsonl is no goal's log/.test(line)),
      logs.join('\n'),
    );
    // The goal whose log is a link to a file outside keeps working; its log lines go nowhere.
    const queued = await client.request('goal.queue', { id: 1 });
    assert.equal(queued.goal.state, 'queued');
    await assert.rejects(client.request('logs.read', { id: 1 }), /symbolic link/);
    // Invalid goals refuse changes instead of being written over.
    await assert.rejects(client.request('goal.queue', { id: 7 }), /invalid/);
    await assert.rejects(client.request('goal.update', { id: 2, title: 'Overwrite' }), /invalid/);
    // Research runs that cannot be read are left out of the list, and do not hang it.
    assert.deepEqual((await client.request('research.list', {})).runs, []);
    await assert.rejects(client.request('research.get', { runId: 'r-20260101-100000-0002' }));

    // Byte-identical afterwards: every hostile file, every link, every link target.
    const after = await fingerprint(repo);
    for (const [file, print] of before) {
      if (file === path.join('.ralph', 'state.json') || file === path.join('.ralph', 'goals', '1.json')) continue; // the daemon's own, and the goal it queued
      assert.equal(after.get(file), print, file);
    }
    assert.deepEqual(await fingerprint(outside), outsideBefore);
    assert.deepEqual(await readFile('/etc/passwd'), passwd);
    // And still up.
    assert.equal((await client.request('goal.get', { id: 12 })).goal.title, 'Added in a hostile repository');
  });

  it('a goal file nested 10,000 deep is an invalid goal, and clients still connect', async (t) => {
    const repo = await makeTempRepo(undefined);
    defer(t, () => rm(repo, { recursive: true, force: true }));
    const goals = path.join(repo, '.ralph', 'goals');
    await mkdir(goals, { recursive: true });
    const goal = JSON.parse(validGoal(1)) as Record<string, unknown>;
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const text = JSON.stringify({ ...goal, links: { research: 'r', nested: '@@' } }).replace('"@@"', deep);
    await writeFile(path.join(goals, '1.json'), text);
    const { connect } = await startTestDaemon(t, repo);
    const client = await connect('deep');
    const { goals: valid, invalid } = await client.request('goal.list');
    assert.deepEqual(valid, []);
    assert.deepEqual(
      invalid.map((bad) => bad.id),
      [1],
    );
    assert.equal(await readFile(path.join(goals, '1.json'), 'utf8'), text);
  });

  it('a config nested 10,000 deep does not bring the daemon down: the defaults are in force, and it says why', async (t) => {
    const repo = await makeTempRepo(undefined);
    defer(t, () => rm(repo, { recursive: true, force: true }));
    const config = `export default { model: 'deep', extra: ${'['.repeat(10_000)}${']'.repeat(10_000)} };\n`;
    await writeFile(path.join(repo, 'ralph.config.ts'), config);
    const { connect, logs } = await startTestDaemon(t, repo);
    const client = await connect('deep-config');
    assert.deepEqual((await client.request('goal.create', { title: 'Works' })).goal.id, 1);
    assert.ok(
      logs.some((line) => /config: ralph\.config\.ts: nests brackets more than \d+ deep; it is not loaded/.test(line)),
      logs.join('\n'),
    );
    assert.equal(await readFile(path.join(repo, 'ralph.config.ts'), 'utf8'), config);
  });

  it('the goals folder deleted and restored (a checkout) is followed without a restart; goal add works meanwhile', async (t) => {
    const { connect, repoRoot, logs } = await startTestDaemon(t);
    const client = await connect('checkout');
    for (let i = 1; i <= 13; i++) await client.request('goal.create', { title: `Goal ${i}` });
    const goalsDir = path.join(repoRoot, '.ralph', 'goals');
    const saved = new Map<string, Buffer>();
    for (const name of await readdir(goalsDir)) saved.set(name, await readFile(path.join(goalsDir, name)));

    await rm(goalsDir, { recursive: true });
    await waitFor(async () => (await client.request('goal.list')).goals.length === 0, {
      timeoutMs: 15_000,
      message: 'the goals gone with their folder',
    });
    await waitFor(() => logs.some((line) => /goal store: \.ralph\/goals is gone/.test(line)), {
      timeoutMs: 15_000,
      message: 'the daemon to say so',
    });
    // While it is gone: goal add makes the folder again (no ENOENT).
    const added = await client.request('goal.create', { title: 'Added while the folder was gone' });
    assert.equal(added.goal.id, 14);
    // The checkout puts the 13 files back.
    for (const [name, bytes] of saved) await writeFile(path.join(goalsDir, name), bytes);
    await waitFor(async () => (await client.request('goal.list')).goals.length === 14, {
      timeoutMs: 15_000,
      message: 'all 14 goals read again',
    });
    assert.ok(
      logs.some((line) => /goal store: \.ralph\/goals is back; read again/.test(line)),
      logs.join('\n'),
    );
    // And the folder is watched again: a hand edit is seen live.
    const edited = { ...(JSON.parse(saved.get('3.json')!.toString('utf8')) as Goal), title: 'Edited after the checkout' };
    await writeFile(path.join(goalsDir, '3.json'), goalText(edited));
    await waitFor(async () => (await client.request('goal.get', { id: 3 })).goal.title === 'Edited after the checkout', {
      timeoutMs: 15_000,
      message: 'the edit seen live',
    });
  });
});
