import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig, parseConfig, type RalphConfig } from '../../config/schema.ts';
import { parseStreamJsonLine } from './command.ts';
import { AGENT_BACKENDS, resolveAgent, UnknownAgentError } from './registry.ts';

function executor(input: Record<string, unknown>): RalphConfig['executor'] {
  const parsed = parseConfig({ executor: input }, 'ralph.config.ts');
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  return parsed.config.executor;
}

describe('the agent registry', () => {
  it('chooses Ralph by default, the config’s agent otherwise, and the goal’s over both', () => {
    assert.deepEqual(resolveAgent(undefined, defaultConfig().executor), { kind: 'ralph' });
    const claude = resolveAgent(undefined, executor({ agent: 'claude', agents: { claude: { model: 'sonnet', args: ['--x'] } } }));
    assert.equal(claude.kind === 'external' && claude.backend, AGENT_BACKENDS.claude);
    assert.deepEqual(claude.kind === 'external' && [claude.executable, claude.model, claude.permissions, claude.extraArgs], [
      'claude',
      'sonnet',
      'workspace',
      ['--x'],
    ]);
    const codex = resolveAgent('codex', executor({ agent: 'claude', agents: { codex: { path: '/opt/codex', permissions: 'all' } } }));
    assert.deepEqual(codex.kind === 'external' && [codex.backend.name, codex.executable, codex.model, codex.permissions], [
      'codex',
      '/opt/codex',
      null,
      'all',
    ]);
    assert.deepEqual(resolveAgent('ralph', executor({ agent: 'gemini' })), { kind: 'ralph' });
  });

  it('runs the config’s command, also for a goal that names it', () => {
    const config = executor({ agent: { command: ['./agent.sh', '--fast'], env: { MODE: 'ci' } } });
    for (const choice of [resolveAgent(undefined, config), resolveAgent('command', config)]) {
      assert.ok(choice.kind === 'external');
      assert.equal(choice.executable, './agent.sh');
      assert.deepEqual(choice.backend.invocation({ prompt: 'P', cwd: '/w', model: null, permissions: 'workspace', extraArgs: [] }), {
        args: ['--fast'],
        env: { MODE: 'ci' },
        stdin: 'P',
      });
    }
  });

  it('refuses a name no backend answers to, naming those there are', () => {
    assert.throws(
      () => resolveAgent('aider', defaultConfig().executor),
      (error: unknown) => {
        assert.ok(error instanceof UnknownAgentError);
        assert.match(error.message, /no agent backend is called "aider" \(there are: ralph, claude, codex, opencode, gemini\)/);
        return true;
      },
    );
    assert.throws(() => resolveAgent('command', defaultConfig().executor), /names no command/);
  });
});

describe('stream-json lines of a command agent', () => {
  it('reads each event, filling what may be left out', () => {
    assert.deepEqual(parseStreamJsonLine('{"type":"tool.start","name":"Write","summary":"Write a.ts"}'), [
      { type: 'tool.start', id: null, name: 'Write', summary: 'Write a.ts' },
    ]);
    assert.deepEqual(parseStreamJsonLine('{"type":"usage","usage":{"inputTokens":5,"outputTokens":2}}'), [
      { type: 'usage', model: null, usage: { inputTokens: 5, cachedInputTokens: 0, outputTokens: 2, reasoningTokens: 0 }, costUsd: null },
    ]);
    assert.deepEqual(parseStreamJsonLine(''), []);
  });

  it('keeps a line that is not an event as it is', () => {
    for (const line of [
      'not json',
      '{"type":"text"}',
      '{"type":"error","kind":"fatal","message":"x"}',
      '[1,2]',
      '{"type":"text","text":"a","extra":1}',
    ])
      assert.deepEqual(parseStreamJsonLine(line), [{ type: 'raw', line }]);
  });
});
