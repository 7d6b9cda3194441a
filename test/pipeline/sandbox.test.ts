/**
 * The Ralph loop with the command sandbox on (the default `auto`, with real bubblewrap): the
 * agent's commands and the goal's check both run inside it, and what they leave behind does not
 * outlive the iteration. Skipped, saying why, where bwrap cannot run (CI installs it).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { clearSandboxProbes, probeBwrap } from '../../daemon/tools/sandbox.ts';
import { defer } from '../helpers/defer.ts';
import { makeTempDir } from '../helpers/repo.ts';
import { iterationsOf, reply, startExecutor, toolResultsOf } from './executor-helpers.ts';

const probe = await probeBwrap();
const skip = probe.active ? false : `bubblewrap cannot run here (${probe.reason})`;

test("the agent's commands and the goal's check run in the sandbox: their /tmp is their own, the daemon is not among their processes", {
  skip,
}, async (t) => {
  const marker = `/tmp/ralph-sandbox-pipeline-${process.pid}`;
  // The daemon is this process: inside the sandbox's own PID namespace, /proc holds no entry for it.
  const h = await startExecutor(t, { executor: { verify: `echo check > ${marker}-check && test ! -e /proc/${process.pid}` } });
  let result = '';
  h.server.script(
    reply.run(
      `echo agent > ${marker}-agent && cat ${marker}-agent && (test -e /proc/${process.pid} && echo daemon visible || echo daemon invisible)`,
    ),
    (request) => {
      result = toolResultsOf(request).join('\n');
      return reply.done('Probed.');
    },
  );
  const created = await h.addGoal();
  const goal = await h.waitForState(created.id, ['done', 'stuck']);

  assert.match(result, /^agent\ndaemon invisible\n/, 'the command ran, in its own PID namespace');
  const [iteration] = iterationsOf(goal);
  assert.equal(iteration?.check?.ok, true, `the check ran sandboxed: ${iteration?.check?.output}`);
  assert.equal(goal.state, 'done');
  assert.equal(existsSync(`${marker}-agent`), false, "the command's /tmp was its own");
  assert.equal(existsSync(`${marker}-check`), false, "the check's /tmp was its own");
  assert.equal(
    (await h.logOf(created.id)).some((entry) => entry.kind === 'warning' && /sandbox/.test(entry.text)),
    false,
    'no warning: the sandbox is on',
  );
});

test("where bwrap is missing, 'auto' runs commands without the sandbox and the goal's log says so and why", async (t) => {
  // A machine without bwrap: every program of this one but bwrap, on a PATH of its own. (Set before
  // this process probes for it under that PATH: the probe above ran with the real one.)
  const bin = await makeTempDir(t, 'ralph-no-bwrap-bin-');
  for (const folder of (process.env.PATH ?? '').split(path.delimiter).filter((entry) => path.isAbsolute(entry))) {
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      if (name !== 'bwrap' && !existsSync(path.join(bin, name))) await symlink(path.join(folder, name), path.join(bin, name));
    }
  }
  const originalPath = process.env.PATH;
  process.env.PATH = bin;
  defer(t, () => (process.env.PATH = originalPath));
  clearSandboxProbes();

  const h = await startExecutor(t, { executor: { verify: 'true' } });
  h.server.script(reply.run('echo ran'), reply.done('Ran.'));
  const created = await h.addGoal();
  const goal = await h.waitForState(created.id, ['done', 'stuck']);
  assert.equal(goal.state, 'done');
  const warnings = (await h.logOf(created.id)).filter((entry) => entry.kind === 'warning').map((entry) => entry.text);
  assert.deepEqual(warnings, ['commands run without a sandbox: bwrap is not installed (Debian, Ubuntu: apt install bubblewrap)']);
});
