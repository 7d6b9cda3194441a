/**
 * A goal's `agent` must name a backend the daemon has: through a raw WebSocket client (no CLI or TUI
 * check in front), goal.create and goal.update refuse any other name with InvalidParams naming the
 * ones there are, and leave the goal files as they were. `command` is known only when the config
 * defines one.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCode, type JsonRpcMessage } from '../../protocol/index.ts';
import { defer, rawSocket, startTestDaemon } from '../helpers/daemon.ts';
import { makeTempRepo } from '../helpers/repo.ts';

const KNOWN = 'ralph, claude, codex, opencode, gemini';

function errorOf(message: JsonRpcMessage): { code: number; message: string; data?: unknown } {
  assert.ok('error' in message && message.error, `expected an error, got ${JSON.stringify(message)}`);
  return message.error;
}

function resultOf<T>(message: JsonRpcMessage): T {
  assert.ok('result' in message, `expected a result, got ${JSON.stringify(message)}`);
  return message.result as T;
}

async function goalFiles(repo: string): Promise<string[]> {
  return (await readdir(path.join(repo, '.ralph', 'goals'))).filter((name) => name.endsWith('.json')).sort();
}

describe('agent names in goal.create and goal.update', () => {
  it('a raw client naming an agent the daemon does not know is refused, nothing written; known names go through', async (t) => {
    const { endpoint, repoRoot } = await startTestDaemon(t, undefined, { env: {}, configWatch: false });
    const raw = await rawSocket(endpoint, {}, t);
    resultOf(await raw.initialize());

    const refused = errorOf(await raw.call('goal.create', { title: 'Typo', agent: 'claud' }));
    assert.equal(refused.code, ErrorCode.InvalidParams);
    assert.equal(refused.message, `no agent backend is called "claud" (there are: ${KNOWN})`);
    assert.deepEqual(refused.data, { agents: KNOWN.split(', ') });
    // `command` is a name only when the config defines a command.
    const noCommand = errorOf(await raw.call('goal.create', { title: 'No command', agent: 'command' }));
    assert.equal(noCommand.code, ErrorCode.InvalidParams);
    assert.deepEqual(await goalFiles(repoRoot), [], 'no goal file was written');

    const { goal } = resultOf<{ goal: { id: number; agent?: string } }>(
      await raw.call('goal.create', { title: 'With Codex', agent: 'codex' }),
    );
    assert.equal(goal.agent, 'codex');
    const file = path.join(repoRoot, '.ralph', 'goals', `${goal.id}.json`);
    const before = await readFile(file, 'utf8');

    const update = errorOf(await raw.call('goal.update', { id: goal.id, agent: 'my-agent' }));
    assert.equal(update.code, ErrorCode.InvalidParams);
    assert.equal(update.message, `no agent backend is called "my-agent" (there are: ${KNOWN})`);
    assert.equal(await readFile(file, 'utf8'), before, 'the goal file is untouched');
    assert.deepEqual(await goalFiles(repoRoot), [`${goal.id}.json`]);

    // A missing goal is still the store's NotFound, whatever the agent.
    assert.equal(errorOf(await raw.call('goal.update', { id: 99, agent: 'my-agent' })).code, ErrorCode.NotFound);
    const edited = resultOf<{ goal: { agent?: string } }>(await raw.call('goal.update', { id: goal.id, agent: 'gemini' }));
    assert.equal(edited.goal.agent, 'gemini');
    const cleared = resultOf<{ goal: { agent?: string } }>(await raw.call('goal.update', { id: goal.id, agent: null }));
    assert.equal(cleared.goal.agent, undefined);
  });

  it('with a command in the config, `command` is a known name', async (t) => {
    const config = `export default ${JSON.stringify({ executor: { agent: { command: ['true'] } } })};\n`;
    const repo = await makeTempRepo(undefined, { 'ralph.config.ts': config });
    defer(t, () => rm(repo, { recursive: true, force: true }));
    const { endpoint } = await startTestDaemon(t, repo, { env: {}, configWatch: false });
    const raw = await rawSocket(endpoint, {}, t);
    resultOf(await raw.initialize());
    const { goal } = resultOf<{ goal: { agent?: string } }>(await raw.call('goal.create', { title: 'By command', agent: 'command' }));
    assert.equal(goal.agent, 'command');
    const refused = errorOf(await raw.call('goal.create', { title: 'Typo', agent: 'comand' }));
    assert.equal(refused.message, `no agent backend is called "comand" (there are: ${KNOWN}, command)`);
  });
});
