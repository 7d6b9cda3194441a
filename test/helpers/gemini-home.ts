/**
 * A fresh home for the real Gemini CLI in a test: its own HOME and TMPDIR in a temporary folder
 * removed after the test, a settings.json that keeps it quiet, GOOGLE_GEMINI_BASE_URL pointing it
 * at test/fake-gemini, and an environment that sends anything else it tries to a closed local port,
 * so nothing reaches the internet.
 *
 * What Gemini CLI 0.61 would reach out to otherwise (headless): Google's usage statistics
 * (`privacy.usageStatisticsEnabled`), and the real Gemini API. With GOOGLE_GEMINI_BASE_URL alone it
 * picks a "gateway" auth that it then refuses headless ("Invalid auth method selected"): the
 * settings select the API-key auth, which takes the base URL from the same variable.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { makeTempDir } from './repo.ts';

export const GEMINI_TEST_KEY = 'gemini-test-key';
/** A model named on every run: with its default (`auto`) it would first ask a small model which model to use. */
export const GEMINI_TEST_MODEL = 'gemini-2.5-flash';

export interface GeminiHome {
  /** HOME and GEMINI_CLI_HOME, TMPDIR, PATH (Node first: `gemini` is a Node script), the key, the base URL, and proxies to nowhere. */
  env: Record<string, string>;
  home: string;
}

export async function makeGeminiHome(t: TestContext | undefined, options: { baseUrl: string }): Promise<GeminiHome> {
  const root = await makeTempDir(t, 'ralph-gemini-');
  const home = path.join(root, 'home');
  const tmp = path.join(root, 'tmp');
  await mkdir(path.join(home, '.gemini'), { recursive: true });
  await mkdir(tmp, { recursive: true });
  const settings = {
    security: { auth: { selectedType: 'gemini-api-key' } },
    privacy: { usageStatisticsEnabled: false },
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    telemetry: { enabled: false },
  };
  await writeFile(path.join(home, '.gemini', 'settings.json'), JSON.stringify(settings, null, 2));
  // Port 9 (discard) on 127.0.0.1: nothing listens in a test; a request elsewhere fails at once.
  const nowhere = 'http://127.0.0.1:9';
  return {
    home,
    env: {
      PATH: [path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
      HOME: home,
      // Where it keeps ~/.gemini, whatever HOME is (a daemon's agents keep the daemon's HOME).
      GEMINI_CLI_HOME: home,
      TMPDIR: tmp,
      GEMINI_API_KEY: GEMINI_TEST_KEY,
      GOOGLE_GEMINI_BASE_URL: options.baseUrl,
      HTTPS_PROXY: nowhere,
      HTTP_PROXY: nowhere,
      ALL_PROXY: nowhere,
      NO_PROXY: '127.0.0.1,localhost',
    },
  };
}
