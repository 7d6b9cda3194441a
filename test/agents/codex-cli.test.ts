/**
 * The real Codex CLI (`@openai/codex`, installed once into the shared cache) run as the Codex
 * backend runs it, in a temporary git repository, against test/fake-openai's Responses API through
 * its provider config, with a fresh CODEX_HOME and nothing reaching the internet. Its stdout goes
 * through the backend's parser: what Ralph's log would show.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { DONE_MARKER, type ExternalEvent } from '../../daemon/agent/external/backend.ts';
import { codexBackend } from '../../daemon/agent/external/codex.ts';
import { startFakeOpenAIForTest } from '../fake-openai/fixtures.ts';
import type { FakeOpenAIServer } from '../fake-openai/server.ts';
import { agentCliCacheDir, installAgentCli } from '../helpers/agent-cli.ts';
import { CODEX_TEST_KEY, makeCodexHome } from '../helpers/codex-home.ts';
import { makeTempRepo } from '../helpers/repo.ts';

const PATCH = '*** Begin Patch\n*** Add File: notes/hello.txt\n+hello from codex\n*** End Patch\n';

interface CodexRun {
  events: ExternalEvent[];
  exitCode: number | null;
  stderr: string;
}

/** One headless run of the real CLI as the backend invokes it, its output parsed line by line. */
async function runCodex(
  t: TestContext,
  server: FakeOpenAIServer,
  cwd: string,
  options: { providerSettings?: Record<string, number> } = {},
): Promise<CodexRun> {
  const cli = await installAgentCli('codex');
  const { env } = await makeCodexHome(t, { baseUrl: server.url, providerSettings: options.providerSettings });
  const invocation = codexBackend.invocation({
    prompt: 'Write notes/hello.txt saying hello, then say you are done.',
    cwd,
    model: 'gpt-5.5',
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
  const parse = codexBackend.parser({ cwd, model: 'gpt-5.5' });
  const events: ExternalEvent[] = [];
  for await (const line of createInterface({ input: child.stdout })) events.push(...parse(line));
  return { events, exitCode: await exited, stderr };
}

test('Codex writes a file through its own apply_patch in the worktree, and ends with the done marker', async (t) => {
  const server = await startFakeOpenAIForTest(t, { apiKey: CODEX_TEST_KEY });
  server.setScenario((request) =>
    request.pendingToolResults.length === 0
      ? {
          reasoning: { summary: 'One file to add.' },
          text: 'Adding the file.',
          toolCalls: [{ type: 'custom', name: 'apply_patch', arguments: PATCH }],
        }
      : { text: `Done.\n${DONE_MARKER}: wrote notes/hello.txt` },
  );
  const repo = await makeTempRepo(t);

  const run = await runCodex(t, server, repo);

  assert.equal(run.exitCode, 0, run.stderr);
  assert.equal(await readFile(path.join(repo, 'notes/hello.txt'), 'utf8'), 'hello from codex\n');
  const start = run.events.find((event) => event.type === 'tool.start');
  const edit = { id: start?.type === 'tool.start' ? start.id : null, name: 'edit', summary: 'add notes/hello.txt' };
  assert.ok(edit.id, 'the edit has an id pairing its start and end');
  assert.deepEqual(
    run.events.filter((event) => event.type !== 'usage'),
    [
      { type: 'text', text: 'Adding the file.' },
      { type: 'tool.start', ...edit },
      { type: 'tool.end', ...edit, ok: true },
      { type: 'text', text: `Done.\n${DONE_MARKER}: wrote notes/hello.txt` },
      { type: 'result', text: `Done.\n${DONE_MARKER}: wrote notes/hello.txt`, ok: true },
    ],
  );
  const usage = run.events.find((event) => event.type === 'usage');
  assert.ok(usage?.type === 'usage' && usage.usage.inputTokens > 0 && usage.usage.outputTokens > 0, 'the turn’s usage is reported');

  // Codex offered its own tools, and answered the patch with its result.
  const [first, second] = server.modelRequests();
  assert.ok(first?.toolNames.includes('apply_patch') && first.toolNames.includes('exec_command'), String(first?.toolNames));
  assert.equal(server.modelRequests().length, 2);
  assert.match(JSON.stringify(second?.body), /custom_tool_call_output.*Success\. Updated the following files/);
  assert.ok(
    server.requests.every((record) => record.api === 'responses'),
    `only the Responses API was asked: ${server.requests.map((record) => `${record.method} ${record.path}`).join(', ')}`,
  );
});

test('Codex’s sandbox here: a command may write the worktree, not outside it, and has no network', async (t) => {
  const server = await startFakeOpenAIForTest(t, { apiKey: CODEX_TEST_KEY });
  // Not in the temp folder: the sandbox lets commands write /tmp and TMPDIR.
  const outside = path.join(agentCliCacheDir(), `codex-sandbox-probe-${process.pid}.txt`);
  t.after(() => rm(outside, { force: true }));
  const inside = `echo inside > inside.txt && (curl -s -m 2 ${server.url}/models >/dev/null && echo network-reached || echo no-network)`;
  server.script(
    { toolCalls: [{ name: 'exec_command', arguments: { cmd: inside } }] },
    { toolCalls: [{ name: 'exec_command', arguments: { cmd: `echo outside > ${outside}` } }] },
    { text: `${DONE_MARKER}: tried` },
  );
  const repo = await makeTempRepo(t);

  const run = await runCodex(t, server, repo);

  assert.equal(run.exitCode, 0, run.stderr);
  assert.equal(await readFile(path.join(repo, 'inside.txt'), 'utf8'), 'inside\n');
  assert.equal(existsSync(outside), false, 'nothing was written outside the worktree');
  assert.equal(server.modelRequests().length, 3, 'the command’s curl never reached the server');
  assert.match(JSON.stringify(server.modelRequests()[2]?.body), /Read-only file system/);
  const ends = run.events.filter((event) => event.type === 'tool.end');
  assert.deepEqual(ends[0], {
    type: 'tool.end',
    id: 'item_0',
    name: 'shell',
    summary: `shell ${inside}`,
    ok: true,
    output: 'no-network\n',
  });
  // A command the sandbox refused is sometimes missing from Codex's --json output (0.171, a race of its own); when there, it failed.
  assert.ok(ends.slice(1).every((event) => event.type === 'tool.end' && !event.ok));
});

test('a rejected key: the run ends failed with an auth error, not a done claim', async (t) => {
  const server = await startFakeOpenAIForTest(t, { apiKey: 'sk-another-key' });
  const repo = await makeTempRepo(t);

  // No retries: Codex would otherwise try five times with backoff.
  const run = await runCodex(t, server, repo, { providerSettings: { request_max_retries: 0, stream_max_retries: 0 } });

  assert.notEqual(run.exitCode, 0);
  const errors = run.events.filter((event) => event.type === 'error');
  assert.deepEqual(
    errors.map((event) => event.kind),
    ['auth'],
  );
  assert.match(errors[0]?.message ?? '', /401 Unauthorized: Incorrect API key provided/);
  assert.deepEqual(run.events.at(-1), { type: 'result', text: '', ok: false });
});
