/**
 * `ralph chat "message"` end to end: real `tui/bin/ralph.js` processes whose first run starts the
 * repository's daemon in the background with the command's environment, which points the provider
 * at a real fake-openai server. The steps of one API share one repository and one daemon.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { RalphClient } from '../../protocol/client.ts';
import { ChatMessage } from '../../protocol/index.ts';
import { startFakeOpenAI, type FakeOpenAIServer } from '../fake-openai/index.ts';
import { endpointFromFile } from '../helpers/daemon.ts';
import { cliEnv, failedWith as failedWithCode, killDaemon, startRalph, type Run } from '../helpers/cli.ts';
import { makeTempRepo } from '../helpers/repo.ts';

const start = (args: string[], env: NodeJS.ProcessEnv) => startRalph(args, { env });
const failedWith = (run: Run, message: RegExp) => failedWithCode(run, 1, message);
import { waitFor } from '../helpers/wait.ts';
import { PRICED_MODEL } from './helpers.ts';

for (const api of ['chat', 'responses'] as const) {
  describe(`ralph chat (RALPH_API=${api})`, () => {
    let repo = '';
    let server: FakeOpenAIServer;
    let env: NodeJS.ProcessEnv;
    const ralph = (...args: string[]) => start([...args, '--repo', repo], env).done;

    before(async () => {
      repo = await makeTempRepo(undefined);
      server = await startFakeOpenAI();
      env = cliEnv({ OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', RALPH_API: api, RALPH_MODEL: PRICED_MODEL });
    });

    after(async () => {
      await killDaemon(repo);
      await server.close();
      await rm(repo, { recursive: true, force: true });
    });

    it('streams the reply to stdout and exits 0', async () => {
      server.script({ deltas: ['Hello', ',', ' developer', '!'], deltaDelayMs: 2 });
      const run = await ralph('chat', 'hello');
      assert.equal(run.code, 0, `stderr: ${run.stderr}`);
      assert.equal(run.stdout, 'Hello, developer!\n');
      assert.equal(run.stderr, '');
      assert.equal(server.modelRequests().at(-1)?.api, api);
    });

    it('--json prints the final message object', async () => {
      const run = await ralph('chat', 'as json please', '--json');
      assert.equal(run.code, 0, `stderr: ${run.stderr}`);
      const message = ChatMessage.parse(JSON.parse(run.stdout));
      assert.equal(message.status, 'done');
      assert.equal(message.role, 'assistant');
      assert.deepEqual(
        message.parts.map((part) => (part.type === 'text' ? part.text : '')),
        ['as json please'],
      );
      assert.equal(message.model, PRICED_MODEL);
    });

    it('a reply that ends in an error exits 1 with one line on stderr', async () => {
      server.injectFaults({ kind: '500', retryAfterMs: 5 }, { times: 10 });
      const run = await ralph('chat', 'this will fail');
      server.clearFaults();
      failedWith(run, /500/);
      assert.equal(run.stdout, '');
    });

    it('notes on stderr while it waits for an earlier turn, then for a rate limit', async () => {
      // The earlier turn's answer is held until the command's message is queued behind it.
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      server.script(async () => {
        await released;
        return { text: 'the earlier answer' };
      });
      const requestsBefore = server.modelRequests().length;
      const other = await RalphClient.connect({ endpoint: endpointFromFile(repo), name: 'other terminal', reconnect: false });
      other.on('event', (event) => {
        if (event.type === 'chat.message' && event.data.message.sender?.name === 'cli') release();
      });
      try {
        await other.request('chat.send', { text: 'an earlier message' });
        await waitFor(() => server.modelRequests().length > requestsBefore, { message: 'the earlier turn to call the model' });
        server.injectFaults({ kind: '429', retryAfterSeconds: 1 }, { times: 1 });
        const run = await ralph('chat', 'mine');
        assert.equal(run.code, 0, `stderr: ${run.stderr}`);
        assert.equal(run.stdout, 'mine\n', "only this turn's reply is printed");
        assert.deepEqual(run.stderr.split('\n').filter(Boolean), [
          'ralph: waiting for 1 earlier turn in the chat…',
          'ralph: waiting 1 s: rate limited',
        ]);
      } finally {
        await other.close();
      }
    });

    it('Ctrl+C interrupts the turn and exits 130; the next turn runs', async () => {
      const words = Array.from({ length: 300 }, (_, index) => ` w${index}`);
      server.script({ deltas: words, deltaDelayMs: 20 });
      const requestsBefore = server.modelRequests().length;
      const running = start(['chat', 'a long one please', '--repo', repo], env);
      await waitFor(() => running.stdout().length > 10, { timeoutMs: 15_000, message: 'the reply to start streaming' });
      running.signal('SIGINT');
      const run = await running.done;
      assert.equal(run.code, 130, `stderr: ${run.stderr}`);
      assert.ok(words.join('').startsWith(run.stdout.trimEnd()), 'what was printed is the start of the reply');
      await waitFor(() => server.modelRequests()[requestsBefore]?.aborted, { message: 'the server to see the request aborted' });

      // The daemon recorded the turn as interrupted, its text so far kept.
      const client = await RalphClient.connect({ endpoint: endpointFromFile(repo), name: 'test', reconnect: false });
      try {
        const history = await client.request('chat.history', { limit: 2 });
        const reply = history.messages.at(-1)!;
        assert.equal(reply.status, 'interrupted');
        assert.ok(reply.parts.length === 1 && reply.parts[0]?.type === 'text' && reply.parts[0].text.length > 0);
      } finally {
        await client.close();
      }
      const next = await ralph('chat', 'still there?');
      assert.equal(next.code, 0, `stderr: ${next.stderr}`);
      assert.equal(next.stdout, 'still there?\n');
    });
  });
}

describe('ralph chat without a provider', () => {
  let repo = '';
  before(async () => {
    repo = await makeTempRepo(undefined);
  });
  after(async () => {
    await killDaemon(repo);
    await rm(repo, { recursive: true, force: true });
  });

  it('prints how to configure one and exits 0', async () => {
    const run = await start(['chat', 'hello', '--repo', repo], cliEnv({})).done;
    assert.equal(run.code, 0, `stderr: ${run.stderr}`);
    assert.match(run.stdout, /OPENAI_API_KEY/);
    assert.match(run.stdout, /http:\/\/localhost:11434\/v1/);
    assert.equal(run.stderr, '');
  });
});
