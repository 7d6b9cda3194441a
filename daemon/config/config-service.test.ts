/**
 * ConfigService on real files in a temporary folder: loading every supported form, clear errors,
 * the last valid config kept, and live reload through real file edits.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { ConfigService, type ConfigServiceOptions, type RalphConfig } from './config-service.ts';
import { loadConfig } from './load.ts';
import { DEFAULT_MODEL } from './schema.ts';
import { defer } from '../../test/helpers/defer.ts';

const DEFINE_CONFIG = fileURLToPath(new URL('./define-config.ts', import.meta.url));

interface Started {
  service: ConfigService;
  changes: RalphConfig[];
  errors: string[];
}

async function startService(t: TestContext, repoRoot: string, options: Partial<ConfigServiceOptions> = {}): Promise<Started> {
  const changes: RalphConfig[] = [];
  const errors: string[] = [];
  const service = await ConfigService.start({
    repoRoot,
    env: {},
    onChange: (config) => changes.push(config),
    onError: (message) => errors.push(message),
    ...options,
  });
  defer(t, () => service.close());
  return { service, changes, errors };
}

describe('loading ralph.config.ts', () => {
  it('uses the defaults when there is no file', async (t) => {
    const repo = await makeTempDir(t);
    const { service } = await startService(t, repo, { watch: false });
    assert.equal(service.config.model, DEFAULT_MODEL);
    assert.equal(service.error, null);
    assert.equal(service.file, null);
  });

  it('loads a plain default-exported object written in TypeScript', async (t) => {
    const repo = await makeTempDir(t);
    await writeFile(
      path.join(repo, 'ralph.config.ts'),
      "const verify: string = 'npm test';\nexport default { model: 'gpt-5.4', executor: { verify, land: 'auto' as const } };\n",
    );
    const { service } = await startService(t, repo, { watch: false });
    assert.equal(service.error, null);
    assert.equal(service.config.model, 'gpt-5.4');
    assert.equal(service.config.executor.verify, 'npm test');
    assert.equal(service.config.executor.land, 'auto');
    assert.equal(service.config.executor.concurrency, 1, 'defaults fill the rest');
    assert.equal(service.file, path.join(repo, 'ralph.config.ts'));
  });

  it('loads defineConfig(...)', async (t) => {
    const repo = await makeTempDir(t);
    await writeFile(
      path.join(repo, 'ralph.config.ts'),
      `import { defineConfig } from ${JSON.stringify(DEFINE_CONFIG)};\nexport default defineConfig({ research: { concurrency: 2 } });\n`,
    );
    const { service } = await startService(t, repo, { watch: false });
    assert.equal(service.error, null);
    assert.equal(service.config.research.concurrency, 2);
  });

  it('loads .mjs, and .js in both CommonJS and ES module folders (module.exports too)', async (t) => {
    const esmRepo = await makeTempDir(t);
    await writeFile(path.join(esmRepo, 'package.json'), '{ "type": "module" }\n');
    await writeFile(path.join(esmRepo, 'ralph.config.js'), "export default { model: 'from-esm-js' };\n");
    const esm = await loadConfig(esmRepo);
    assert.equal(esm.ok && esm.config.model, 'from-esm-js');
    assert.equal(esm.file, path.join(esmRepo, 'ralph.config.js'));

    const cjsRepo = await makeTempDir(t);
    await writeFile(path.join(cjsRepo, 'ralph.config.js'), "export default { model: 'from-cjs-js' };\n");
    const cjs = await loadConfig(cjsRepo);
    assert.equal(cjs.ok && cjs.config.model, 'from-cjs-js');
    await writeFile(path.join(cjsRepo, 'ralph.config.js'), "module.exports = { model: 'from-module-exports' };\n");
    const moduleExports = await loadConfig(cjsRepo);
    assert.equal(moduleExports.ok && moduleExports.config.model, 'from-module-exports');

    const mjsRepo = await makeTempDir(t);
    await writeFile(path.join(mjsRepo, 'ralph.config.mjs'), "export default { model: 'from-mjs' };\n");
    const mjs = await loadConfig(mjsRepo);
    assert.equal(mjs.ok && mjs.config.model, 'from-mjs');
  });

  it('prefers ralph.config.ts when several files exist', async (t) => {
    const repo = await makeTempDir(t);
    await writeFile(path.join(repo, 'ralph.config.js'), "export default { model: 'js' };\n");
    await writeFile(path.join(repo, 'ralph.config.ts'), "export default { model: 'ts' };\n");
    const result = await loadConfig(repo);
    assert.equal(result.ok && result.config.model, 'ts');
  });

  it('names the file and the key of a validation error, and keeps the defaults', async (t) => {
    const repo = await makeTempDir(t);
    await writeFile(path.join(repo, 'ralph.config.ts'), "export default { model: 'mine', executor: { land: 'later' } };\n");
    const { service, errors } = await startService(t, repo, { watch: false });
    assert.equal(service.error, 'ralph.config.ts: executor.land: expected "manual" or "auto", got "later"');
    assert.equal(service.config.model, DEFAULT_MODEL, 'nothing of the bad file is used');
    assert.deepEqual(errors, [], 'listeners hear about reloads; at start the caller reads `error`');
  });

  it('reports a file that throws, or does not parse, in one line naming it', async (t) => {
    const repo = await makeTempDir(t);
    const file = path.join(repo, 'ralph.config.ts');
    await writeFile(file, "throw new Error('no config for you');\n");
    assert.deepEqual(await loadConfig(repo), { ok: false, error: 'ralph.config.ts: failed to load: no config for you', file });
    await writeFile(file, 'export default { model: ;\n');
    const broken = await loadConfig(repo);
    assert.equal(broken.ok, false);
    assert.match(broken.ok ? '' : broken.error, /^ralph\.config\.ts:1:\d+: Unexpected ";"$/);
    await writeFile(file, 'export const model = "x";\n');
    const noDefault = await loadConfig(repo);
    assert.equal(noDefault.ok ? '' : noDefault.error, 'ralph.config.ts: has no default export (export default { ... })');
  });

  it('gives up on a file that never finishes loading', async (t) => {
    const repo = await makeTempDir(t);
    await writeFile(path.join(repo, 'ralph.config.mts'), 'await new Promise(() => {});\nexport default {};\n');
    const result = await loadConfig(repo, { timeoutMs: 200 });
    assert.equal(result.ok ? '' : result.error, 'ralph.config.mts: did not finish loading within 200 ms');
  });
});

describe('the environment', () => {
  it('overrides the file and reports unusable values in `error`', async (t) => {
    const repo = await makeTempDir(t);
    await writeFile(path.join(repo, 'ralph.config.ts'), "export default { model: 'file-model', executor: { verify: 'npm test' } };\n");
    const { service } = await startService(t, repo, {
      watch: false,
      env: { RALPH_MODEL: 'env-model', RALPH_VERIFY: 'make check', RALPH_API: 'soap', OPENAI_API_KEY: 'sk-secret' },
    });
    assert.equal(service.config.model, 'env-model');
    assert.equal(service.config.executor.verify, 'make check');
    assert.equal(service.error, 'RALPH_API: expected "responses" or "chat", got "soap" (ignored)');
    assert.equal(service.provider().apiKey, 'sk-secret');
    assert.deepEqual(service.providerSettings(), {
      model: 'env-model',
      api: 'responses',
      baseURL: null,
      apiKeySet: true,
      configured: true,
    });
  });

  it('is not needed: no key and no base URL is a valid, unconfigured state', async (t) => {
    const repo = await makeTempDir(t);
    const { service } = await startService(t, repo, { watch: false });
    assert.equal(service.provider().configured, false);
    assert.equal(service.error, null);
  });
});

describe('the model table from the config', () => {
  it('adds and overrides rows', async (t) => {
    const repo = await makeTempDir(t);
    await writeFile(
      path.join(repo, 'ralph.config.ts'),
      "export default { models: [{ id: 'qwen3:8b', contextWindow: 40960, apis: ['chat'] }, { id: 'gpt-5.4', pricing: { output: 99 } }] };\n",
    );
    const { service } = await startService(t, repo, { watch: false });
    assert.deepEqual(service.models().get('qwen3:8b')?.apis, ['chat']);
    assert.equal(service.models().get('gpt-5.4')?.pricing.output, 99);
    assert.equal(service.models().get('gpt-5.4')?.pricing.input, 2.5, 'the rest of the built-in row stays');
  });
});

describe('reload on change', () => {
  it('applies an edit, keeps the last valid config through a broken one, and recovers', async (t) => {
    const repo = await makeTempDir(t);
    const file = path.join(repo, 'ralph.config.ts');
    await writeFile(file, "export default { model: 'first' };\n");
    const { service, changes, errors } = await startService(t, repo);
    assert.equal(service.config.model, 'first');

    await writeFile(file, "export default { model: 'second', models: [{ id: 'second', contextWindow: 1000 }] };\n");
    await waitFor(() => service.config.model === 'second', { timeoutMs: 10_000, message: 'the edit to be loaded' });
    assert.equal(changes.at(-1)?.model, 'second');
    assert.equal(service.models().get('second')?.contextWindow, 1000, 'the model table follows the config');

    await writeFile(file, "export default { model: 'third', executor: { verfy: 'npm test' } };\n");
    await waitFor(() => service.error !== null, { timeoutMs: 10_000, message: 'the broken edit to be reported' });
    assert.equal(service.error, 'ralph.config.ts: executor.verfy: unknown key');
    assert.deepEqual(errors, ['ralph.config.ts: executor.verfy: unknown key']);
    assert.equal(service.config.model, 'second', 'the last valid config stays in force');

    await writeFile(file, "export default { model: 'fourth' };\n");
    await waitFor(() => service.config.model === 'fourth', { timeoutMs: 10_000, message: 'the fix to be loaded' });
    assert.equal(service.error, null);
  });

  it('sees a config file created after start, and falls back to the defaults when it is removed', async (t) => {
    const repo = await makeTempDir(t);
    const { service, changes } = await startService(t, repo);
    const file = path.join(repo, 'ralph.config.mjs');
    await writeFile(file, "export default { model: 'created' };\n");
    await waitFor(() => service.config.model === 'created', { timeoutMs: 10_000, message: 'the new file to be loaded' });
    await rm(file);
    await waitFor(() => service.config.model === DEFAULT_MODEL, { timeoutMs: 10_000, message: 'the defaults after removal' });
    assert.equal(service.file, null);
    assert.ok(changes.length >= 2);
  });

  it('ignores other files in the repository root', async (t) => {
    const repo = await makeTempDir(t);
    const { service, changes } = await startService(t, repo);
    await writeFile(path.join(repo, 'notes.ts'), "export default { model: 'not a config' };\n");
    await writeFile(path.join(repo, 'ralph.config.ts'), "export default { model: 'real' };\n");
    await waitFor(() => service.config.model === 'real', { timeoutMs: 10_000, message: 'the config to be loaded' });
    assert.ok(
      changes.every((config) => config.model === 'real'),
      'only the config file caused reloads',
    );
  });
});
