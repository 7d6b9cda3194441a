/**
 * The goal's check is the developer's own command: it runs as written, where the agent's command
 * policy would refuse it (a denied command, a computed command word, syntax its parser refuses).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCheck } from '../../daemon/pipeline/check.ts';
import { CommandPolicy } from '../../daemon/tools/index.ts';
import { makeTempDir } from '../helpers/repo.ts';

test("the check runs lines the agent's policy refuses", async (t) => {
  const dir = await makeTempDir(t);
  const agentPolicy = new CommandPolicy();
  const lines = [
    // A computed command word: the policy never guesses what it runs.
    { command: 'say=echo; $say computed-word-ran', output: 'computed-word-ran' },
    // A shell fed from a pipe.
    { command: "printf 'echo piped-shell-ran' | sh", output: 'piped-shell-ran' },
  ];
  for (const { command, output } of lines) {
    assert.equal(agentPolicy.check(command).allowed, false, `the agent's policy refuses ${command}`);
    const check = await runCheck(command, dir, { timeoutMs: 30_000, outputLimitBytes: 64 * 1024, sandbox: 'off', secrets: [] });
    assert.equal(check.ok, true, `${command}: ${check.output}`);
    assert.match(check.output, new RegExp(output));
  }
});
