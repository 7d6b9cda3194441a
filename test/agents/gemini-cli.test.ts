/**
 * The real Gemini CLI (`@google/gemini-cli`, installed once into the shared cache) run as the
 * Gemini backend runs it, in a temporary git repository, against test/fake-gemini
 * (GOOGLE_GEMINI_BASE_URL), with a fresh HOME and nothing reaching the internet. Its stdout goes
 * through the backend's parser: what Ralph's log would show.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { DONE_MARKER, type ExternalEvent } from '../../daemon/agent/external/backend.ts';
import { geminiBackend } from '../../daemon/agent/external/gemini.ts';
import { type FakeGeminiServer, startFakeGemini } from '../fake-gemini/server.ts';
import { installAgentCli } from '../helpers/agent-cli.ts';
import { GEMINI_TEST_KEY, GEMINI_TEST_MODEL, makeGeminiHome } from '../helpers/gemini-home.ts';
import { makeTempRepo } from '../helpers/repo.ts';

interface GeminiRun {
  events: ExternalEvent[];
  exitCode: number | null;
  stderr: string;
}

async function startServer(t: TestContext): Promise<FakeGeminiServer> {
  const server = await startFakeGemini();
  t.after(() => server.close());
  return server;
}

/** One headless run of the real CLI as the backend invokes it, its output parsed line by line. */
async function runGemini(t: TestContext, server: FakeGeminiServer, cwd: string): Promise<GeminiRun> {
  const cli = await installAgentCli('gemini');
  const { env } = await makeGeminiHome(t, { baseUrl: server.url });
  const invocation = geminiBackend.invocation({
    prompt: 'Write notes/hello.txt saying hello, then say you are done.',
    cwd,
    model: GEMINI_TEST_MODEL,
    permissions: 'workspace',
    extraArgs: [],
  });
  const child = spawn(cli.bin, invocation.args, {
    cwd,
    env: { ...env, ...invocation.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  // Whatever happens to the test, nothing it started (it starts itself a second time) outlives it.
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
  const parse = geminiBackend.parser({ cwd, model: GEMINI_TEST_MODEL });
  const events: ExternalEvent[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    if (process.env.GEMINI_DEBUG) console.log(line);
    events.push(...parse(line));
  }
  return { events, exitCode: await exited, stderr };
}

test('Gemini CLI writes a file through its own write_file in the worktree, is refused a git push, and ends with the done marker', async (t) => {
  const server = await startServer(t);
  server.script(
    {
      text: 'Adding the file.',
      functionCalls: [{ name: 'write_file', args: { file_path: 'notes/hello.txt', content: 'hello from gemini\n' } }],
    },
    { functionCalls: [{ name: 'run_shell_command', args: { command: 'git push origin main', description: 'Push the work' } }] },
    {
      text: `Done.\n${DONE_MARKER}: wrote notes/hello.txt`,
      usage: { promptTokenCount: 900, candidatesTokenCount: 12, cachedContentTokenCount: 300 },
    },
  );
  const repo = await makeTempRepo(t);

  const run = await runGemini(t, server, repo);

  assert.equal(run.exitCode, 0, run.stderr);
  assert.equal(await readFile(path.join(repo, 'notes/hello.txt'), 'utf8'), 'hello from gemini\n');
  const ids = run.events.flatMap((event) => (event.type === 'tool.start' ? [event.id] : []));
  assert.equal(ids.length, 2);
  assert.ok(
    ids.every((id) => typeof id === 'string' && id.length > 0),
    'each call has an id pairing its start and end',
  );
  const write = { id: ids[0]!, name: 'write_file', summary: 'write_file notes/hello.txt' };
  const push = { id: ids[1]!, name: 'run_shell_command', summary: 'run_shell_command git push origin main' };
  const usage = run.events.find((event) => event.type === 'usage');
  assert.ok(usage?.type === 'usage');
  assert.deepEqual(run.events, [
    { type: 'text', text: 'Adding the file.' },
    { type: 'tool.start', ...write },
    { type: 'tool.end', ...write, ok: true },
    { type: 'tool.start', ...push },
    { type: 'tool.end', ...push, ok: false, output: 'Tool execution denied by policy.' },
    { type: 'text', text: `Done.\n${DONE_MARKER}: wrote notes/hello.txt` },
    usage,
    { type: 'result', text: `Done.\n${DONE_MARKER}: wrote notes/hello.txt`, ok: true },
  ]);
  // The run's totals: three model calls, the last one's cached tokens among its input.
  assert.equal(usage.model, GEMINI_TEST_MODEL);
  assert.equal(usage.usage.cachedInputTokens, 300);
  assert.ok(usage.usage.inputTokens > 900 && usage.usage.outputTokens > 12, JSON.stringify(usage.usage));

  // Three streamed calls to the named model with the key; its tools offered, web_fetch not.
  const requests = server.modelRequests();
  assert.equal(requests.length, 3, requests.map((record) => record.path).join(' | '));
  assert.ok(requests.every((record) => record.path === `/v1beta/models/${GEMINI_TEST_MODEL}:streamGenerateContent`));
  assert.ok(requests.every((record) => record.headers['x-goog-api-key'] === GEMINI_TEST_KEY));
  const offered = requests[0]?.toolNames ?? [];
  assert.ok(offered.includes('write_file') && offered.includes('replace') && offered.includes('run_shell_command'), offered.join(','));
  assert.ok(!offered.includes('web_fetch'), offered.join(','));
  assert.equal(server.requests.length, requests.length, 'nothing else was asked of the server');
});

test('a rejected key: the run ends failed with an auth error, not a done claim', async (t) => {
  const server = await startServer(t);
  server.injectFault({
    code: 400,
    status: 'INVALID_ARGUMENT',
    message: 'API key not valid. Please pass a valid API key.',
    details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }],
  });
  const repo = await makeTempRepo(t);

  const run = await runGemini(t, server, repo);

  assert.notEqual(run.exitCode, 0);
  assert.deepEqual(run.events, [
    { type: 'error', kind: 'auth', message: 'API key not valid. Please pass a valid API key. (400 INVALID_ARGUMENT)' },
    { type: 'result', text: '', ok: false },
  ]);
  assert.equal(server.modelRequests().length, 1, 'a bad key is not retried');
});
