import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { isGroupAlive } from '../tools/process-group.ts';
import { runNotifier } from './run-notifier.ts';

const options = (cwd: string) => ({ cwd, env: { PATH: process.env.PATH }, timeoutMs: 10_000 });

describe('running a notifier', () => {
  it('runs the program itself (no shell reads its arguments) with the input on stdin', async (t) => {
    const dir = await makeTempDir(t);
    const script = path.join(dir, 'record.sh');
    await writeFile(script, '#!/bin/sh\nprintf "%s|" "$@" > args.txt\ncat > input.txt\n');
    await chmod(script, 0o755);
    const outcome = await runNotifier(script, ['$(touch pwned)', 'a b;c'], { ...options(dir), input: '{"kind":"done"}\n' }).done;
    assert.deepEqual(outcome, { ok: true });
    assert.equal(await readFile(path.join(dir, 'args.txt'), 'utf8'), '$(touch pwned)|a b;c|');
    assert.equal(await readFile(path.join(dir, 'input.txt'), 'utf8'), '{"kind":"done"}\n');
    await assert.rejects(readFile(path.join(dir, 'pwned')), { code: 'ENOENT' });
  });

  it('says why it failed: its exit code and stderr, a program that is not there, one that takes too long (killed with what it started)', async (t) => {
    const dir = await makeTempDir(t);
    const failing = path.join(dir, 'fail.sh');
    await writeFile(failing, '#!/bin/sh\necho "no route to ntfy" >&2\nexit 7\n');
    await chmod(failing, 0o755);
    assert.deepEqual(await runNotifier(failing, [], options(dir)).done, { ok: false, reason: 'exit code 7: no route to ntfy' });

    const missing = await runNotifier(path.join(dir, 'nothing-here'), [], options(dir)).done;
    assert.equal(missing.ok, false);
    assert.match(missing.ok ? '' : missing.reason, /^could not start: .*ENOENT/);

    const slow = path.join(dir, 'slow.sh');
    await writeFile(slow, '#!/bin/sh\nsleep 30 &\necho $$ > pid.txt\nsleep 30\n');
    await chmod(slow, 0o755);
    const run = runNotifier(slow, [], { ...options(dir), timeoutMs: 1500 });
    const late = await run.done;
    assert.deepEqual(late, { ok: false, reason: 'did not finish within 1.5 s' });
    const pid = Number(await readFile(path.join(dir, 'pid.txt'), 'utf8'));
    await waitFor(() => !isGroupAlive(pid), { message: 'the notifier and what it started to be gone' });
  });
});
