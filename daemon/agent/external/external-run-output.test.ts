/**
 * An agent CLI that prints and exits at once, without reading its input: its output still reaches
 * the harness. Node throws away the output of a child that exits while nobody reads it, so the run
 * must be followed from the spawn on, not after the agent's record is written.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../../../test/helpers/repo.ts';
import type { ExternalEvent } from './backend.ts';
import { commandBackend } from './command.ts';
import { runExternalAgent } from './external-run.ts';

/** Runs enough times that an output lost to the race shows (it was lost in most runs). */
const RUNS = 10;

test('an agent that prints its line and exits at once, its input unread: the line is read, every run', async (t) => {
  const scratch = await makeTempDir(t, 'ralph-external-output-');
  const worktree = path.join(scratch, 'worktree');
  await mkdir(worktree);
  const agent = path.join(scratch, 'agent.sh');
  await writeFile(agent, '#!/bin/sh\necho "RALPH_GOAL_DONE: said at once"\n');
  await chmod(agent, 0o755);
  const never = new AbortController().signal;
  const said: string[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const events: ExternalEvent[] = [];
    const result = await runExternalAgent({
      agent: {
        kind: 'external',
        backend: commandBackend({ command: [agent], output: 'text' }),
        executable: agent,
        model: null,
        permissions: 'workspace',
        extraArgs: [],
      },
      prompt: 'go',
      cwd: worktree,
      ralphDir: path.join(scratch, '.ralph'),
      goalId: 1,
      iteration: run,
      secrets: [],
      envRules: {},
      redact: (value) => value,
      timeoutMs: 20_000,
      stopSignal: never,
      boundSignal: never,
      onEvent: (event) => void events.push(event),
    });
    assert.equal(result.exitCode, 0);
    said.push(events.flatMap((event) => (event.type === 'text' ? [event.text] : [])).join('|'));
  }
  assert.deepEqual(said, Array(RUNS).fill('RALPH_GOAL_DONE: said at once'));
});
