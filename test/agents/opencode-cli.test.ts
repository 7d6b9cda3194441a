/**
 * The real OpenCode CLI (`opencode-ai`, installed once into the shared cache) run as the OpenCode
 * backend runs it, in a temporary git repository, against test/fake-openai's Chat Completions
 * through an OpenAI-compatible provider in its config, with a fresh HOME and nothing reaching the
 * internet. Its stdout goes through the backend's parser: what Ralph's log would show.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { DONE_MARKER, type ExternalEvent } from '../../daemon/agent/external/backend.ts';
import { opencodeBackend } from '../../daemon/agent/external/opencode.ts';
import { startFakeOpenAIForTest } from '../fake-openai/fixtures.ts';
import type { FakeOpenAIServer } from '../fake-openai/server.ts';
import { installAgentCli } from '../helpers/agent-cli.ts';
import { makeOpencodeHome, OPENCODE_TEST_KEY, OPENCODE_TEST_MODEL } from '../helpers/opencode-home.ts';
import { makeTempRepo } from '../helpers/repo.ts';

interface OpencodeRun {
  events: ExternalEvent[];
  exitCode: number | null;
  stderr: string;
}

/** One headless run of the real CLI as the backend invokes it, its output parsed line by line. */
async function runOpencode(t: TestContext, server: FakeOpenAIServer, cwd: string): Promise<OpencodeRun> {
  const cli = await installAgentCli('opencode');
  const { env } = await makeOpencodeHome(t, { baseUrl: server.url });
  const invocation = opencodeBackend.invocation({
    prompt: 'Write notes/hello.txt saying hello, then say you are done.',
    cwd,
    model: OPENCODE_TEST_MODEL,
    permissions: 'workspace',
    extraArgs: [],
  });
  const child = spawn(cli.bin, invocation.args, {
    cwd,
    env: { ...env, ...invocation.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  // Whatever happens to the test, nothing it started outlives it.
  t.after(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  child.stdin.end(invocation.stdin ?? '');
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const parse = opencodeBackend.parser({ cwd, model: OPENCODE_TEST_MODEL });
  const events: ExternalEvent[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    if (process.env.OPENCODE_DEBUG) console.log(line);
    events.push(...parse(line));
  }
  return { events, exitCode: await exited, stderr };
}

test('OpenCode writes a file through its own write tool in the worktree, is refused a git push and a .env, and ends with the done marker', async (t) => {
  const server = await startFakeOpenAIForTest(t, { apiKey: OPENCODE_TEST_KEY });
  const repo = await makeTempRepo(t, { '.env': 'SECRET=s3cr3t\n' });
  server.script(
    {
      text: 'Adding the file.',
      toolCalls: [{ name: 'write', arguments: { filePath: path.join(repo, 'notes/hello.txt'), content: 'hello from opencode\n' } }],
    },
    { toolCalls: [{ name: 'bash', arguments: { command: 'git push origin main', description: 'Push the work' } }] },
    { toolCalls: [{ name: 'read', arguments: { filePath: '.env' } }] },
    { text: `Done.\n${DONE_MARKER}: wrote notes/hello.txt` },
  );

  const run = await runOpencode(t, server, repo);

  assert.equal(run.exitCode, 0, run.stderr);
  assert.equal(await readFile(path.join(repo, 'notes/hello.txt'), 'utf8'), 'hello from opencode\n');
  const ids = run.events.flatMap((event) => (event.type === 'tool.start' ? [event.id] : []));
  assert.equal(ids.length, 3);
  assert.ok(
    ids.every((id) => typeof id === 'string' && id.length > 0),
    'each call has an id pairing its start and end',
  );
  const write = { id: ids[0]!, name: 'write', summary: 'write notes/hello.txt' };
  const push = { id: ids[1]!, name: 'bash', summary: 'bash git push origin main' };
  const env = { id: ids[2]!, name: 'read', summary: 'read .env' };
  const events = run.events.filter((event) => event.type !== 'usage');
  // Refused by Ralph's rules: the call fails, and the model goes on.
  const refused = /rule which prevents you from using this specific tool call/;
  const [pushEnd, envEnd] = [events[4], events[6]];
  assert.ok(pushEnd?.type === 'tool.end' && envEnd?.type === 'tool.end');
  assert.match(pushEnd.output ?? '', refused);
  assert.match(envEnd.output ?? '', refused);
  assert.deepEqual(events, [
    { type: 'text', text: 'Adding the file.' },
    { type: 'tool.start', ...write },
    { type: 'tool.end', ...write, ok: true, output: 'Wrote file successfully.' },
    { type: 'tool.start', ...push },
    { type: 'tool.end', ...push, ok: false, output: pushEnd.output },
    { type: 'tool.start', ...env },
    { type: 'tool.end', ...env, ok: false, output: envEnd.output },
    { type: 'text', text: `Done.\n${DONE_MARKER}: wrote notes/hello.txt` },
    { type: 'result', text: `Done.\n${DONE_MARKER}: wrote notes/hello.txt`, ok: true },
  ]);
  const usages = run.events.filter((event) => event.type === 'usage');
  assert.equal(usages.length, 4, 'one usage per model call');
  assert.ok(usages.every((event) => event.usage.inputTokens > 0 && event.model === 'fake-model'));

  // Four model calls (its title came from the invocation, not from one more call), over Chat
  // Completions with the key, offering its tools but none that reach the web; the .env never sent.
  const requests = server.modelRequests();
  assert.equal(requests.length, 4, requests.map((record) => record.toolNames.join(',')).join(' | '));
  assert.ok(requests.every((record) => record.api === 'chat' && record.headers.authorization === `Bearer ${OPENCODE_TEST_KEY}`));
  const offered = requests[0]?.toolNames ?? [];
  assert.ok(offered.includes('write') && offered.includes('bash') && offered.includes('edit'), offered.join(','));
  assert.ok(!offered.includes('webfetch') && !offered.includes('websearch'), offered.join(','));
  assert.doesNotMatch(JSON.stringify(requests.map((record) => record.body)), /s3cr3t/);
});

test('a rejected key: the run ends failed with an auth error, not a done claim', async (t) => {
  const server = await startFakeOpenAIForTest(t, { apiKey: 'sk-another-key' });
  const repo = await makeTempRepo(t);

  const run = await runOpencode(t, server, repo);

  assert.notEqual(run.exitCode, 0);
  const errors = run.events.filter((event) => event.type === 'error');
  assert.deepEqual(
    errors.map((event) => event.kind),
    ['auth'],
  );
  assert.match(errors[0]?.message ?? '', /Incorrect API key provided/);
  assert.deepEqual(run.events.at(-1), { type: 'result', text: '', ok: false });
  assert.equal(server.modelRequests().length, 1, 'a 401 is not retried');
});
