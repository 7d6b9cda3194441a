import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_MODEL, defaultConfig, parseConfig, type ParsedConfig } from './schema.ts';

function errorOf(result: ParsedConfig): string {
  assert.equal(result.ok, false, 'expected a validation error');
  return result.ok ? '' : result.error;
}

describe('config schema', () => {
  it('applies a default to every setting', () => {
    const config = defaultConfig();
    assert.equal(config.model, DEFAULT_MODEL);
    assert.equal(config.api, undefined, 'unset: chosen from the base URL');
    assert.deepEqual(config.models, []);
    assert.deepEqual(config.executor, {
      agent: 'ralph',
      agents: {},
      agentTimeoutMinutes: 30,
      verify: null,
      land: 'manual',
      concurrency: 1,
      maxIterations: 50,
      maxMinutes: 120,
      maxCostUsd: 10,
      maxTokens: 10_000_000,
      maxStepsPerIteration: 30,
      verifyTimeoutSeconds: 1800,
      commands: { allow: [], deny: [], timeoutSeconds: 300, outputLimitBytes: 65_536, sandbox: 'auto' },
      backend: 'local',
      queue: { remote: 'origin' },
    });
    assert.deepEqual(config.research, { concurrency: 4, maxSteps: 20, timeoutSeconds: 600 });
    assert.deepEqual(config.chat, {});
    assert.deepEqual(config.tui, { keys: {} });
  });

  it('fills the defaults around what a file sets', () => {
    const result = parseConfig({ executor: { verify: 'npm test', commands: { allow: ['npm'] } } }, 'ralph.config.ts');
    assert.ok(result.ok);
    assert.equal(result.config.executor.verify, 'npm test');
    assert.equal(result.config.executor.land, 'manual');
    assert.deepEqual(result.config.executor.commands.allow, ['npm']);
    assert.equal(result.config.executor.commands.timeoutSeconds, 300);
  });

  it('names the file and the path of an unknown key', () => {
    assert.equal(
      errorOf(parseConfig({ executor: { verfy: 'npm test' } }, 'ralph.config.ts')),
      'ralph.config.ts: executor.verfy: unknown key',
    );
    assert.match(
      errorOf(parseConfig({ models: [{ id: 'x', pricing: { inptu: 1 } }] }, 'ralph.config.mjs')),
      /^ralph\.config\.mjs: models\[0\]\.pricing\.inptu: unknown key$/,
    );
  });

  it('names the allowed values of a setting', () => {
    assert.equal(
      errorOf(parseConfig({ executor: { land: 'sometimes' } }, 'ralph.config.ts')),
      'ralph.config.ts: executor.land: expected "manual" or "auto", got "sometimes"',
    );
    assert.match(errorOf(parseConfig({ api: 'completions' }, 'ralph.config.ts')), /api: expected "responses" or "chat"/);
  });

  it('refuses an API key in the file, saying where it belongs', () => {
    assert.match(
      errorOf(parseConfig({ apiKey: 'sk-test' }, 'ralph.config.ts')),
      /apiKey: unknown key \(set OPENAI_API_KEY in the environment/,
    );
  });

  it('reports several problems at once, bounds and types included', () => {
    const error = errorOf(
      parseConfig({ executor: { concurrency: 0 }, research: { maxSteps: 2.5 }, baseURL: 'ftp://host' }, 'ralph.config.ts'),
    );
    assert.match(error, /executor\.concurrency: must be at least 1/);
    assert.match(error, /research\.maxSteps: expected a whole number, got 2\.5/);
    assert.match(error, /baseURL: expected an http:\/\/ or https:\/\/ URL/);
  });

  it('takes an agent CLI by name, with its options, or any command', () => {
    const named = parseConfig(
      { executor: { agent: 'codex', agents: { codex: { model: 'gpt-5', permissions: 'all' } } } },
      'ralph.config.ts',
    );
    assert.ok(named.ok);
    assert.equal(named.config.executor.agent, 'codex');
    assert.deepEqual(named.config.executor.agents.codex, { model: 'gpt-5', args: [], permissions: 'all' });
    const command = parseConfig({ executor: { agent: { command: ['my-agent', '--headless'] } } }, 'ralph.config.ts');
    assert.ok(command.ok);
    assert.deepEqual(command.config.executor.agent, { command: ['my-agent', '--headless'], output: 'text' });

    assert.match(
      errorOf(parseConfig({ executor: { agent: 'claud' } }, 'ralph.config.ts')),
      /executor\.agent: expected "ralph", "claude", "codex"/,
    );
    assert.match(errorOf(parseConfig({ executor: { agent: { command: [] } } }, 'ralph.config.ts')), /executor\.agent/);
    assert.match(
      errorOf(parseConfig({ executor: { agents: { claude: { permissions: 'yolo' } } } }, 'ralph.config.ts')),
      /executor\.agents\.claude\.permissions: expected "workspace" or "all"/,
    );
    assert.match(errorOf(parseConfig({ executor: { agents: { aider: {} } } }, 'ralph.config.ts')), /executor\.agents\.aider: unknown key/);
  });

  it('refuses a model id listed twice', () => {
    assert.match(errorOf(parseConfig({ models: [{ id: 'a' }, { id: 'a' }] }, 'ralph.config.ts')), /models\[1\]\.id: "a" appears twice/);
  });

  it('notifies of every kind by default, each switched off on its own; the hook is an argv list', () => {
    assert.deepEqual(defaultConfig().notify, {
      bell: true,
      desktop: true,
      kinds: { done: true, stuck: true, waiting: true, landed: true, budget: true },
    });
    const quiet = parseConfig(
      { notify: { bell: false, command: ['ntfy', 'publish', 'ralph'], kinds: { landed: false } } },
      'ralph.config.ts',
    );
    assert.ok(quiet.ok);
    assert.equal(quiet.config.notify.bell, false);
    assert.deepEqual(quiet.config.notify.command, ['ntfy', 'publish', 'ralph']);
    assert.deepEqual(quiet.config.notify.kinds, { done: true, stuck: true, waiting: true, landed: false, budget: true });

    assert.match(
      errorOf(parseConfig({ notify: { command: 'curl -d @- ntfy.sh/x' } }, 'ralph.config.ts')),
      /notify\.command: expected a list/,
    );
    assert.match(errorOf(parseConfig({ notify: { command: [] } }, 'ralph.config.ts')), /notify\.command: needs at least 1 entry/);
    assert.match(errorOf(parseConfig({ notify: { kinds: { failed: false } } }, 'ralph.config.ts')), /notify\.kinds\.failed: unknown key/);
  });

  it('has no spend budget by default; each limit is optional and positive', () => {
    assert.deepEqual(defaultConfig().budget, { rateLimitPauseSeconds: 60 });
    const parsed = parseConfig({ budget: { dailyUsd: 2.5, monthlyUsd: 40, dailyTokens: 2_000_000 } }, 'ralph.config.ts');
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.config.budget, { dailyUsd: 2.5, monthlyUsd: 40, dailyTokens: 2_000_000, rateLimitPauseSeconds: 60 });
    assert.match(errorOf(parseConfig({ budget: { dailyUsd: 0 } }, 'ralph.config.ts')), /budget\.dailyUsd/);
    assert.match(errorOf(parseConfig({ budget: { weeklyUsd: 5 } }, 'ralph.config.ts')), /budget\.weeklyUsd: unknown key/);
  });

  it('needs an object as the default export', () => {
    assert.match(errorOf(parseConfig(42, 'ralph.config.ts')), /^ralph\.config\.ts: the default export must be an object .* not 42$/);
    assert.match(errorOf(parseConfig([], 'ralph.config.ts')), /not a list$/);
  });
});
