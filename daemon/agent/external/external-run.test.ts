import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ExternalEvent } from './backend.ts';
import { commandBackend } from './command.ts';
import { runExternalAgent } from './external-run.ts';

describe('runExternalAgent', () => {
  it("gives the agent its worktree as PWD, not the daemon's folder (OpenCode takes its project from PWD)", async () => {
    const scratch = await realpath(await mkdtemp(path.join(os.tmpdir(), 'ralph-external-run-')));
    const worktree = path.join(scratch, 'worktree');
    await mkdir(worktree);
    try {
      const command = [process.execPath, '-e', 'console.log(process.env.PWD + " " + process.cwd())'];
      const events: ExternalEvent[] = [];
      const never = new AbortController().signal;
      const result = await runExternalAgent({
        agent: {
          kind: 'external',
          backend: commandBackend({ command, output: 'text' }),
          executable: command[0]!,
          model: null,
          permissions: 'workspace',
          extraArgs: [],
        },
        prompt: 'go',
        cwd: worktree,
        ralphDir: path.join(scratch, '.ralph'),
        goalId: 1,
        iteration: 1,
        secrets: [],
        envRules: {},
        redact: (value) => value,
        timeoutMs: 20_000,
        stopSignal: never,
        boundSignal: never,
        onEvent: (event) => void events.push(event),
        env: { ...process.env, PWD: process.cwd() },
      });
      assert.equal(result.exitCode, 0);
      const said = events.flatMap((event) => (event.type === 'text' ? [event.text] : []));
      assert.deepEqual(said, [`${worktree} ${worktree}`]);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
