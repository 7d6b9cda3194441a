/**
 * The inbox in real terminals: the executor (scripted through test/fake-openai) asks with ask_human;
 * two `ralph` TUIs in tmux show the question in their status bar and inbox; one answers in its
 * $EDITOR (many lines), the other shows it answered, live; the goal's next iteration is told the
 * answer and the goal completes. Skipped only when tmux is not installed.
 */
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { Goal, Question } from '../../protocol/index.ts';
import { startFakeOpenAI, type ScenarioRequest } from '../fake-openai/index.ts';
import { defer } from '../helpers/daemon.ts';
import { makeTempDir } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { promptOf, reply, UNPRICED_MODEL } from '../pipeline/executor-helpers.ts';
import { openTui, startRepoWithDaemon, startTmux, statusBarOf } from './setup.ts';
import { findTmux } from './tmux.ts';

function needsTmux(t: TestContext): boolean {
  if (findTmux()) return true;
  t.skip('tmux is not installed (.ci/run installs it): the terminal end-to-end tests need a real terminal');
  return false;
}

describe('the inbox in real terminals (tmux)', () => {
  it('a question reaches two TUIs; one answers in its editor, the other sees it answered; the next iteration gets the answer and the goal completes', {
    timeout: 90_000,
  }, async (t) => {
    if (!needsTmux(t)) return;
    const server = await startFakeOpenAI();
    defer(t, () => server.close());
    const prompts: string[] = [];
    server.script(
      { toolCalls: [{ name: 'ask_human', arguments: { question: 'Which greeting should hello.txt hold?', options: ['hello', 'hi'] } }] },
      (request: ScenarioRequest) => {
        prompts.push(promptOf(request));
        return reply.write('hello.txt', 'Howdy\n');
      },
      reply.done('hello.txt holds the greeting.'),
    );
    const { repo, env, ralph } = await startRepoWithDaemon(t, {
      OPENAI_BASE_URL: server.url,
      OPENAI_API_KEY: 'test-key',
      RALPH_API: 'chat',
      RALPH_MODEL: UNPRICED_MODEL,
      RALPH_PIPELINE: 'running',
    });
    // The editor the answering terminal opens: it writes two lines above what it is given.
    const dir = await makeTempDir(t, 'ralph-editor-');
    const script = path.join(dir, 'answer.sh');
    await writeFile(
      script,
      `#!/bin/sh\n{ printf 'Neither: write Howdy,\\non its own line.\\n'; cat "$1"; } > "$1.new" && mv "$1.new" "$1"\n`,
    );
    await chmod(script, 0o755);
    const tmux = await startTmux(t, { ...env, EDITOR: script, VISUAL: '' });
    const one = await openTui(tmux, repo, 'one');
    const two = await openTui(tmux, repo, 'two');

    const goal = JSON.parse(await ralph('goal', 'add', '--title', 'Write hello.txt', '--queue', '--json')) as Goal;
    for (const terminal of [one, two]) {
      await terminal.waitForScreen((rows) => /\? 1 question/.test(statusBarOf(rows) ?? ''), 'the question count in the status bar', {
        timeoutMs: 20_000,
      });
    }
    const listed = JSON.parse(await ralph('inbox', '--json')) as Question[];
    assert.deepEqual(
      listed.map((question) => [question.id, question.from, question.question]),
      [[1, { goalId: goal.id, iteration: 1 }, 'Which greeting should hello.txt hold?']],
    );
    assert.equal((JSON.parse(await ralph('goal', 'show', String(goal.id), '--json')) as Goal).state, 'waiting');

    // Both open the inbox; the first answers.
    for (const terminal of [one, two]) {
      await terminal.press('I');
      await terminal.waitForText('Inbox · 1 open question');
      await terminal.waitForText('Which greeting should hello.txt hold?');
    }
    await one.press('a');
    await two.waitForText(/answered by tui/, { timeoutMs: 20_000 });
    await two.waitForText('Inbox · 0 open questions');
    await one.waitForText(/question 1 answered: goal #\d+ goes back to the queue/);

    await waitFor(async () => (JSON.parse(await ralph('goal', 'show', String(goal.id), '--json')) as Goal).state === 'done', {
      timeoutMs: 30_000,
      message: 'the goal to complete after the answer',
    });
    assert.equal(prompts.length, 1);
    assert.match(prompts[0]!, /## Your question and the answer/);
    assert.match(prompts[0]!, /The developer answered:\n> Neither: write Howdy,\n> on its own line\./);
    for (const terminal of [one, two]) {
      await terminal.waitForScreen((rows) => !/\? \d+ question/.test(statusBarOf(rows) ?? ''), 'no question count', { timeoutMs: 10_000 });
    }
  });
});
