/**
 * `ralph models` end to end: real `tui/bin/ralph.js` processes in a temporary git repository with
 * a ralph.config.ts, against the real daemon the first command starts in the background with the
 * command's environment (OPENAI_*, RALPH_*). Plus the table's formatting on its own.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { ModelInfo, ProviderSettings } from '../../protocol/index.ts';
import { modelTable, providerLines } from '../../tui/cli/models-command.ts';
import { cliEnv, killDaemon, ralph as runRalph, succeeded, type Run } from '../helpers/cli.ts';
import { makeTempRepo } from '../helpers/repo.ts';

const SECRET_KEY = 'sk-test-must-never-be-printed';

/** The daemon started by the first command inherits this: a local server, a key, a model override. */
const ENV = cliEnv({ OPENAI_API_KEY: SECRET_KEY, OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', RALPH_MODEL: 'qwen3:8b' });

function ralph(args: string[], cwd: string): Promise<Run> {
  return runRalph(args, { cwd, env: ENV });
}

describe('ralph models', () => {
  let repo = '';

  before(async () => {
    repo = await makeTempRepo(undefined, {
      'ralph.config.ts': "export default { models: [{ id: 'qwen3:8b', contextWindow: 40960, apis: ['chat'] }] };\n",
    });
  });

  after(async () => {
    await killDaemon(repo);
    await rm(repo, { recursive: true, force: true });
  });

  it('--json prints {models, provider}: config rows, environment overrides, no key', async () => {
    const run = await ralph(['models', '--json'], repo);
    const output = JSON.parse(succeeded(run)) as { models: ModelInfo[]; provider: ProviderSettings };
    assert.deepEqual(output.provider, {
      model: 'qwen3:8b',
      api: 'chat',
      baseURL: 'http://127.0.0.1:11434/v1',
      apiKeySet: true,
      configured: true,
    });
    const local = output.models.find((row) => row.id === 'qwen3:8b');
    assert.equal(local?.contextWindow, 40960);
    assert.deepEqual(local?.pricing, { input: null, cachedInput: null, output: null });
    assert.ok(
      output.models.some((row) => row.id === 'gpt-5.5'),
      'the built-in rows are listed',
    );
    assert.doesNotMatch(run.stdout, new RegExp(SECRET_KEY));
  });

  it('prints the provider settings, then the table', async () => {
    const run = await ralph(['models'], repo);
    const text = succeeded(run);
    assert.match(text, /^Provider\n/);
    assert.match(text, /^model +qwen3:8b$/m);
    assert.match(text, /^API key +set$/m);
    assert.match(text, /^\* +qwen3:8b +40,960 +— +— +— +— +— +chat$/m, 'the model in use is marked; unknown figures show as —');
    assert.match(text, /^ +gpt-5\.4 +1,050,000 +128,000 +2\.50 +0\.25 +15\.00 +none,low,medium,high,xhigh +responses,chat$/m);
    assert.doesNotMatch(text, new RegExp(SECRET_KEY));
  });
});

describe('the models table', () => {
  const settings: ProviderSettings = { model: 'gpt-5.4-mini', api: 'responses', baseURL: null, apiKeySet: false, configured: false };

  it('says how to configure a provider when none is', () => {
    const text = providerLines(settings).join('\n');
    assert.match(text, /base URL +OpenAI \(default\)/);
    assert.match(text, /API key +not set/);
    assert.match(text, /No model provider is configured: set OPENAI_API_KEY/);
    assert.match(text, /Ollama: http:\/\/localhost:11434\/v1/);
    assert.doesNotMatch(providerLines({ ...settings, apiKeySet: true, configured: true }).join('\n'), /No model provider/);
  });

  it('prints prices with at least two decimals and as many as they have', () => {
    const row: ModelInfo = {
      id: 'm',
      contextWindow: null,
      maxOutputTokens: 8192,
      pricing: { input: 0.075, cachedInput: 180, output: 0.02 },
      reasoningEfforts: [],
      apis: ['responses'],
    };
    const [, line] = modelTable([row], 'other');
    assert.match(line ?? '', /^ +m +— +8,192 +0\.075 +180\.00 +0\.02 +— +responses$/);
  });
});
