import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import { Methods } from '../../../protocol/index.ts';
import { makeTempDir } from '../../../test/helpers/repo.ts';
import { ConfigService } from '../../config/config-service.ts';
import type { RequestContext } from '../context.ts';
import { modelHandlers } from './models.ts';
import { defer } from '../../../test/helpers/defer.ts';

const request: RequestContext = {
  client: { id: 'c1', name: 'test', connectedAt: new Date().toISOString() },
  cause: { client: 'c1', request: 1 },
};

it('models.list answers the table with config rows and the provider settings, never the key', async (t) => {
  const repo = await makeTempDir(t);
  await writeFile(
    path.join(repo, 'ralph.config.ts'),
    "export default { model: 'qwen3:8b', models: [{ id: 'qwen3:8b', apis: ['chat'] }] };\n",
  );
  const config = await ConfigService.start({
    repoRoot: repo,
    watch: false,
    env: { OPENAI_API_KEY: 'sk-never-sent', OPENAI_BASE_URL: 'http://localhost:11434/v1' },
  });
  defer(t, () => config.close());

  const result = await modelHandlers(config)['models.list']({}, request);
  Methods['models.list'].result.parse(result);
  assert.deepEqual(result.provider, {
    model: 'qwen3:8b',
    api: 'chat',
    baseURL: 'http://localhost:11434/v1',
    apiKeySet: true,
    configured: true,
  });
  assert.deepEqual(result.models.find((row) => row.id === 'qwen3:8b')?.apis, ['chat']);
  assert.ok(
    result.models.some((row) => row.id === 'gpt-5.4'),
    'the built-in rows are there too',
  );
  assert.doesNotMatch(JSON.stringify(result), /sk-never-sent/);
});
