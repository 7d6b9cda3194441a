import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyEnvOverrides, defaultApi, publicSettings, readEnvOverrides, resolveProvider } from './env.ts';
import { defaultConfig, parseConfig, type RalphConfig } from './schema.ts';

function configOf(value: object): RalphConfig {
  const result = parseConfig(value, 'ralph.config.ts');
  assert.ok(result.ok, result.ok ? '' : result.error);
  return result.config;
}

/** The provider for a config file's content and an environment. */
function providerFor(file: object, env: NodeJS.ProcessEnv, purpose: 'default' | 'chat' = 'default') {
  const overrides = readEnvOverrides(env);
  return resolveProvider(applyEnvOverrides(configOf(file), overrides), overrides, purpose);
}

describe('environment overrides', () => {
  it('win over the file: key, base URL, model, API, verify', () => {
    const env = {
      OPENAI_API_KEY: 'sk-env',
      OPENAI_BASE_URL: 'http://127.0.0.1:8787/v1',
      RALPH_MODEL: 'env-model',
      RALPH_API: 'responses',
      RALPH_VERIFY: 'make check',
    };
    const overrides = readEnvOverrides(env);
    assert.deepEqual(overrides.problems, []);
    const config = applyEnvOverrides(
      configOf({ model: 'file-model', api: 'chat', baseURL: 'https://example.test/v1', executor: { verify: 'npm test' } }),
      overrides,
    );
    assert.equal(config.model, 'env-model');
    assert.equal(config.executor.verify, 'make check');
    assert.deepEqual(resolveProvider(config, overrides), {
      model: 'env-model',
      api: 'responses',
      baseURL: 'http://127.0.0.1:8787/v1',
      apiKey: 'sk-env',
      configured: true,
    });
  });

  it('treat blank variables as unset', () => {
    const provider = providerFor({ model: 'file-model' }, { OPENAI_API_KEY: '  ', RALPH_MODEL: '', RALPH_API: '' });
    assert.equal(provider.apiKey, null);
    assert.equal(provider.model, 'file-model');
  });

  it('report a bad RALPH_API and fall back to the config and the default rule', () => {
    const overrides = readEnvOverrides({ RALPH_API: 'completions', OPENAI_BASE_URL: 'http://localhost:11434/v1' });
    assert.equal(overrides.api, null);
    assert.deepEqual(overrides.problems, ['RALPH_API: expected "responses" or "chat", got "completions" (ignored)']);
    assert.equal(resolveProvider(applyEnvOverrides(defaultConfig(), overrides), overrides).api, 'chat');
    assert.equal(providerFor({ api: 'responses' }, { RALPH_API: 'bogus' }).api, 'responses');
  });

  it('accept RALPH_API in any case', () => {
    assert.equal(readEnvOverrides({ RALPH_API: 'Chat' }).api, 'chat');
  });

  it('report a base URL that is not http(s), keeping it (a key is never redirected to OpenAI)', () => {
    const overrides = readEnvOverrides({ OPENAI_BASE_URL: 'localhost:11434', OPENAI_API_KEY: 'sk-local' });
    assert.match(overrides.problems[0] ?? '', /^OPENAI_BASE_URL: expected an http/);
    assert.equal(resolveProvider(defaultConfig(), overrides).baseURL, 'localhost:11434');
  });
});

describe('the default API', () => {
  it('is responses for OpenAI and chat for any other server', () => {
    assert.equal(defaultApi(null), 'responses');
    assert.equal(defaultApi('https://api.openai.com/v1'), 'responses');
    assert.equal(defaultApi('http://localhost:11434/v1'), 'chat');
    assert.equal(defaultApi('https://openrouter.ai/api/v1'), 'chat');
    assert.equal(defaultApi('not a url'), 'chat');
  });

  it('gives way to the config, and the config to RALPH_API', () => {
    assert.equal(providerFor({ baseURL: 'http://localhost:11434/v1' }, {}).api, 'chat');
    assert.equal(providerFor({ baseURL: 'http://localhost:11434/v1', api: 'responses' }, {}).api, 'responses');
    assert.equal(providerFor({ api: 'responses' }, { OPENAI_BASE_URL: 'http://vllm.internal/v1' }).api, 'responses');
    assert.equal(providerFor({ api: 'responses' }, { RALPH_API: 'chat' }).api, 'chat');
  });
});

describe('configured', () => {
  const cases: [string, object, NodeJS.ProcessEnv, boolean][] = [
    ['nothing set', {}, {}, false],
    ['a key only (OpenAI)', {}, { OPENAI_API_KEY: 'sk-1' }, true],
    ['a base URL only from the environment (Ollama needs no key)', {}, { OPENAI_BASE_URL: 'http://localhost:11434/v1' }, true],
    ['a base URL only from the file', { baseURL: 'http://localhost:11434/v1' }, {}, true],
    ['a key and a base URL', {}, { OPENAI_API_KEY: 'sk-1', OPENAI_BASE_URL: 'http://localhost:8000/v1' }, true],
    ['only a model and an API', { model: 'x', api: 'chat' }, { RALPH_MODEL: 'y' }, false],
  ];
  for (const [name, file, env, configured] of cases) {
    it(`${configured ? 'is' : 'is not'} when ${name}`, () => {
      assert.equal(providerFor(file, env).configured, configured);
    });
  }
});

describe('provider settings', () => {
  it('for the chat: its own model and effort, RALPH_MODEL still winning', () => {
    const file = { model: 'main', reasoningEffort: 'low', chat: { model: 'chatty', reasoningEffort: 'high' } };
    const chat = providerFor(file, {}, 'chat');
    assert.equal(chat.model, 'chatty');
    assert.equal(chat.reasoningEffort, 'high');
    const other = providerFor(file, {});
    assert.equal(other.model, 'main');
    assert.equal(other.reasoningEffort, 'low');
    assert.equal(providerFor(file, { RALPH_MODEL: 'forced' }, 'chat').model, 'forced');
    assert.equal(providerFor({ reasoningEffort: 'medium' }, {}, 'chat').reasoningEffort, 'medium');
  });

  it('for clients: whether a key is set, never the key', () => {
    const settings = publicSettings(providerFor({}, { OPENAI_API_KEY: 'sk-secret-123' }));
    assert.deepEqual(settings, { model: 'gpt-5.4-mini', api: 'responses', baseURL: null, apiKeySet: true, configured: true });
    assert.doesNotMatch(JSON.stringify(settings), /sk-secret/);
  });
});
