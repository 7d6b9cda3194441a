/**
 * The config's secret rules take effect on reload (ralph.config.ts `secrets`): a variable named in
 * `hideEnv` is redacted from then on, in the goal file, the events and the answers, and the chat's
 * file tools read ignored files once `readIgnoredFiles` allows it.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { EventEnvelope } from '../../protocol/index.ts';
import { startFakeOpenAI, type ScenarioRequest } from '../fake-openai/index.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';

test('a config reload applies the secret rules: hideEnv redacts a variable from then on, readIgnoredFiles opens ignored files to the chat', async (t) => {
  const odd = 'odd-value-7c1e9a42';
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  const repo = await makeTempRepo(undefined, { '.gitignore': 'local.txt\n' });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  await writeFile(path.join(repo, 'local.txt'), 'ignored but harmless\n');
  const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key-0123', RALPH_API: 'chat', ODD_SETTING: odd };
  const daemon = await startTestDaemon(t, repo, { env, configWatch: true });
  const client = await daemon.connect();
  const events: EventEnvelope[] = [];
  client.on('event', (event) => events.push(event));

  const before = (await client.request('goal.create', { title: `uses ${odd}` })).goal;
  assert.equal(before.title, `uses ${odd}`, 'not a secret by its name: kept');

  const toolResults: string[] = [];
  const readLocal = async () => {
    toolResults.length = 0;
    server.script({ toolCalls: [{ name: 'read_file', arguments: { path: 'local.txt' } }] }, (request: ScenarioRequest) => {
      for (const item of request.conversation) if (item.kind === 'tool-result') toolResults.push(item.output);
      return { text: 'ok' };
    });
    const sent = await client.request('chat.send', { text: 'read local.txt' });
    await waitFor(() => events.some((event) => event.type === 'chat.message.done' && event.data.message.id === sent.replyMessageId), {
      message: 'the reply',
    });
    return toolResults.join('\n');
  };
  assert.match(await readLocal(), /refused: git ignores local\.txt/);

  const reloads = events.filter((event) => event.type === 'config.changed').length;
  await writeFile(
    path.join(daemon.repoRoot, 'ralph.config.ts'),
    "export default { secrets: { hideEnv: ['ODD_SETTING'], readIgnoredFiles: true } };\n",
  );
  await waitFor(() => events.filter((event) => event.type === 'config.changed').length > reloads, { message: 'the config to be reloaded' });

  const after = (await client.request('goal.create', { title: `uses ${odd}` })).goal;
  assert.equal(after.title, 'uses [redacted ODD_SETTING]', 'the answer is redacted');
  const file = await readFile(path.join(daemon.repoRoot, '.ralph', 'goals', `${after.id}.json`), 'utf8');
  assert.doesNotMatch(file, new RegExp(odd), 'and the goal file');
  const created = events.findLast((event) => event.type === 'goal.created');
  assert.doesNotMatch(JSON.stringify(created), new RegExp(odd), 'and the event');
  assert.match(await readLocal(), /ignored but harmless/, 'readIgnoredFiles lets the chat read it');
});
