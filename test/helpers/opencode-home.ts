/**
 * A fresh home for the real OpenCode CLI in a test: its own HOME, XDG folders and TMPDIR in a
 * temporary folder removed after the test, a config (OPENCODE_CONFIG_CONTENT) whose one provider is
 * a local fake OpenAI server (Chat Completions, `@ai-sdk/openai-compatible` with a `baseURL`), and an
 * environment that sends anything else it tries to a closed local port, so nothing reaches the
 * internet.
 *
 * What OpenCode 1.18 would reach out to otherwise: the model catalog (models.opencode.ai, at start
 * and hourly), an `npm install` of `@opencode-ai/plugin` into its config folder (registry.npmjs.org)
 * when that folder has no node_modules with it, language servers (downloaded when it edits a
 * language it has one for), and ripgrep (downloaded from GitHub the first time its grep or glob tool
 * runs without `rg` on PATH: tests script neither).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { makeTempDir } from './repo.ts';

/** The provider and model id the config names: pass `--model` this (or leave it: it is the config's default). */
export const OPENCODE_TEST_MODEL = 'fake/fake-model';
/** The key the fake server may require; the provider sends it as a Bearer token. */
export const OPENCODE_TEST_KEY = 'sk-opencode-test';

export interface OpencodeHome {
  /** HOME, XDG folders, TMPDIR, PATH, the config, switches that keep it offline, and proxies to nowhere. */
  env: Record<string, string>;
  home: string;
}

export async function makeOpencodeHome(t: TestContext, options: { baseUrl: string }): Promise<OpencodeHome> {
  const root = await makeTempDir(t, 'ralph-opencode-');
  const home = path.join(root, 'home');
  const tmp = path.join(root, 'tmp');
  const configDir = path.join(home, '.config', 'opencode');
  await mkdir(path.join(configDir, 'node_modules'), { recursive: true });
  await mkdir(tmp, { recursive: true });
  // What OpenCode checks before installing its plugin package into the config folder: it is "there".
  const plugin = { '@opencode-ai/plugin': '*' };
  await writeFile(path.join(configDir, 'package.json'), JSON.stringify({ dependencies: plugin }));
  await writeFile(path.join(configDir, 'package-lock.json'), JSON.stringify({ packages: { '': { dependencies: plugin } } }));
  const [providerId, modelId] = OPENCODE_TEST_MODEL.split('/') as [string, string];
  const config = {
    $schema: 'https://opencode.ai/config.json',
    autoupdate: false,
    share: 'disabled',
    model: OPENCODE_TEST_MODEL,
    provider: {
      [providerId]: {
        npm: '@ai-sdk/openai-compatible',
        name: 'fake-openai',
        options: { baseURL: options.baseUrl, apiKey: OPENCODE_TEST_KEY },
        models: { [modelId]: { name: 'Fake model' } },
      },
    },
  };
  // Port 9 (discard) on 127.0.0.1: nothing listens in a test; a request elsewhere fails at once.
  const nowhere = 'http://127.0.0.1:9';
  return {
    home,
    env: {
      PATH: [path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_STATE_HOME: path.join(home, '.local', 'state'),
      TMPDIR: tmp,
      OPENCODE_CONFIG_CONTENT: JSON.stringify(config),
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
      OPENCODE_DISABLE_SHARE: '1',
      HTTPS_PROXY: nowhere,
      HTTP_PROXY: nowhere,
      ALL_PROXY: nowhere,
      NO_PROXY: '127.0.0.1,localhost',
    },
  };
}
