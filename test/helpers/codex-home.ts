/**
 * A fresh home for the real Codex CLI in a test: its own HOME, CODEX_HOME and TMPDIR in a temporary
 * folder removed after the test, a config.toml pointing it at a local fake OpenAI server (Responses
 * API) with nothing that phones home, and an environment that sends anything else it tries to a
 * closed local port, so nothing reaches the internet.
 *
 * What Codex 0.171 would reach out to otherwise: the plugin marketplace (github.com,
 * api.github.com, chatgpt.com) at every start, its update check, analytics (ab.chatgpt.com), and
 * api.openai.com (it reads no OPENAI_BASE_URL). TMPDIR is not the folder holding CODEX_HOME: Codex
 * refuses to link its sandbox helper into a CODEX_HOME inside the temp folder, and every sandboxed
 * command would then fail.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { codexProviderConfig } from '../../daemon/agent/external/codex.ts';
import { makeTempDir } from './repo.ts';

export interface CodexHome {
  /** HOME, CODEX_HOME, TMPDIR, the key, PATH (Node first: the `codex` launcher is a Node script), and proxies to nowhere. */
  env: Record<string, string>;
  codexHome: string;
}

/** The key the fake server is started with and Codex sends (as OPENAI_API_KEY, the provider's env_key). */
export const CODEX_TEST_KEY = 'sk-codex-test';

export async function makeCodexHome(
  t: TestContext,
  options: { baseUrl: string; pathDirs?: readonly string[]; providerSettings?: Record<string, number> },
): Promise<CodexHome> {
  const root = await makeTempDir(t, 'ralph-codex-');
  const home = path.join(root, 'home');
  const codexHome = path.join(home, '.codex');
  const tmp = path.join(root, 'tmp');
  await mkdir(codexHome, { recursive: true });
  await mkdir(tmp, { recursive: true });
  const provider = codexProviderConfig({ baseUrl: options.baseUrl, envKey: 'OPENAI_API_KEY', name: 'fake-openai' });
  const extra = Object.entries(options.providerSettings ?? {}).map(([key, value]) => `${key} = ${value}`);
  const config = [
    'check_for_update_on_startup = false',
    provider.trimEnd(),
    ...extra,
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[feedback]',
    'enabled = false',
    '',
    '[otel]',
    'exporter = "none"',
    '',
    // The plugin marketplace syncs from GitHub and chatgpt.com at every start.
    '[features]',
    'plugins = false',
    '',
  ].join('\n');
  await writeFile(path.join(codexHome, 'config.toml'), config);
  // Port 9 (discard) on 127.0.0.1: nothing listens in a test; a request elsewhere fails at once.
  const nowhere = 'http://127.0.0.1:9';
  return {
    codexHome,
    env: {
      PATH: [...(options.pathDirs ?? []), path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
      HOME: home,
      CODEX_HOME: codexHome,
      TMPDIR: tmp,
      OPENAI_API_KEY: CODEX_TEST_KEY,
      HTTPS_PROXY: nowhere,
      HTTP_PROXY: nowhere,
      ALL_PROXY: nowhere,
      NO_PROXY: '127.0.0.1,localhost',
    },
  };
}
