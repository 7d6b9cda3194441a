/**
 * The real Claude Code CLI (installed on demand at the pinned version, test/helpers/agent-cli.ts),
 * run as claudeInvocation says in a temporary git repository against test/fake-anthropic, with a
 * fresh HOME and nothing of this process's environment: what Ralph's iteration will do, minus the
 * harness. Nothing reaches the internet: the base URL is the fake, and the quiet variables of the
 * invocation keep Claude Code from every other call (the fake sees only `POST /v1/messages`).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it, type TestContext } from 'node:test';
import { startFakeAnthropicForTest, type FakeAnthropicServer } from '../fake-anthropic/index.ts';
import { installAgentCli, type InstalledCli } from '../helpers/agent-cli.ts';
import { makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { DONE_MARKER, type ExternalEvent, type ExternalPermissions } from '../../daemon/agent/external/backend.ts';
import { claudeBackend } from '../../daemon/agent/external/claude.ts';

/** Claude Code starts in about a second here; a run that hangs fails the test instead of the suite. */
const RUN_TIMEOUT_MS = 60_000;

interface Run {
  events: ExternalEvent[];
  exitCode: number | null;
  stderr: string;
}

/** One headless run of the CLI in `cwd`, as Ralph would start it, with its output parsed. */
async function runClaude(
  t: TestContext,
  cli: InstalledCli,
  server: FakeAnthropicServer,
  cwd: string,
  options: { permissions?: ExternalPermissions; env?: Record<string, string> } = {},
): Promise<Run> {
  const home = await makeTempDir(t, 'ralph-claude-home-');
  const invocation = claudeBackend.invocation({
    prompt: 'Create hello.txt, then say you are done.',
    cwd,
    model: null,
    permissions: options.permissions ?? 'workspace',
    extraArgs: [],
  });
  const child = spawn(cli.bin, invocation.args, {
    cwd,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      PATH: `${cli.binDir}${path.delimiter}/usr/local/bin:/usr/bin:/bin`,
      HOME: home,
      // Its socket (cc-socks/) and scratch files go here, removed with it, not in /tmp.
      TMPDIR: home,
      ANTHROPIC_BASE_URL: server.url,
      ANTHROPIC_API_KEY: 'sk-ant-test',
      // Anything but the fake goes to port 9 (discard) on 127.0.0.1, where nothing listens.
      HTTPS_PROXY: 'http://127.0.0.1:9',
      HTTP_PROXY: 'http://127.0.0.1:9',
      NO_PROXY: '127.0.0.1,localhost',
      ...invocation.env,
      ...options.env,
    },
  });
  const kill = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  t.after(kill);
  const timer = setTimeout(kill, RUN_TIMEOUT_MS);
  child.stdin.end(invocation.stdin ?? '');
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const parse = claudeBackend.parser({ cwd, model: null });
  const events: ExternalEvent[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  for await (const line of createInterface({ input: child.stdout })) events.push(...parse(line));
  const exitCode = await exited;
  clearTimeout(timer);
  kill(); // whatever it left in its group
  return { events, exitCode, stderr };
}

describe('Claude Code (real CLI) against the fake Anthropic API', () => {
  it('writes a file through its own Write tool, is refused what lies outside the worktree, and ends with the done marker', async (t) => {
    const cli = await installAgentCli('claude');
    const server = await startFakeAnthropicForTest(t);
    const repo = await makeTempRepo(t);
    const outside = path.join(await makeTempDir(t, 'ralph-claude-outside-'), 'escaped.txt');
    server.script(
      { text: 'I will write the file.', toolUses: [{ name: 'Write', input: { file_path: outside, content: 'no\n' } }] },
      { toolUses: [{ name: 'Bash', input: { command: 'git push origin main', description: 'push' } }] },
      { toolUses: [{ name: 'Write', input: { file_path: 'hello.txt', content: 'hello from claude\n' } }] },
      { text: `Wrote hello.txt.\n${DONE_MARKER}: hello.txt says hello` },
    );

    const run = await runClaude(t, cli, server, repo);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(await readFile(path.join(repo, 'hello.txt'), 'utf8'), 'hello from claude\n');
    assert.equal(existsSync(outside), false, 'an edit outside the worktree is refused');

    const ends = run.events.filter((event) => event.type === 'tool.end');
    assert.deepEqual(
      ends.map((end) => [end.summary, end.ok]),
      [
        [`Write ${outside}`, false],
        ['Bash git push origin main', false],
        ['Write hello.txt', true],
      ],
    );
    assert.ok(run.events.some((event) => event.type === 'tool.start' && event.name === 'Write' && event.summary === 'Write hello.txt'));
    const result = run.events.findLast((event) => event.type === 'result');
    assert.ok(result?.type === 'result');
    assert.equal(result.ok, true);
    assert.match(result.text, new RegExp(`^${DONE_MARKER}: hello.txt says hello$`, 'm'));
    assert.ok((result.totalCostUsd ?? 0) > 0);
    assert.equal(run.events.filter((event) => event.type === 'usage').length, 4, 'one usage event per model call');

    // Only model calls reached the server, each with the key; the last carried the Write's result.
    assert.deepEqual(
      server.requests.map((record) => `${record.method} ${record.path}`),
      Array(4).fill('POST /v1/messages'),
    );
    assert.ok(server.requests.every((record) => record.headers['x-api-key'] === 'sk-ant-test' && record.stream));
    const lastRequest = server.requests.at(-1)?.body as { messages: { content: unknown }[] };
    assert.match(JSON.stringify(lastRequest.messages.at(-1)?.content), /File created successfully/);
    assert.equal(server.pendingScript, 0);
  });

  it('with permissions all skips its checks (as root too): an edit outside the worktree goes through', async (t) => {
    const cli = await installAgentCli('claude');
    const server = await startFakeAnthropicForTest(t);
    const repo = await makeTempRepo(t);
    const outside = path.join(await makeTempDir(t, 'ralph-claude-outside-'), 'allowed.txt');
    server.script({ toolUses: [{ name: 'Write', input: { file_path: outside, content: 'yes\n' } }] }, { text: `${DONE_MARKER}: written` });
    const run = await runClaude(t, cli, server, repo, { permissions: 'all' });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(await readFile(outside, 'utf8'), 'yes\n');
    assert.deepEqual(
      run.events.filter((event) => event.type === 'tool.end').map((end) => end.ok),
      [true],
    );
  });

  it('reports a rejected key as an auth error and exits non-zero', async (t) => {
    const cli = await installAgentCli('claude');
    const server = await startFakeAnthropicForTest(t, { apiKey: 'sk-ant-other' });
    const repo = await makeTempRepo(t);
    // Claude Code retries even a 401, ten times over two minutes or more, before it reports it.
    const run = await runClaude(t, cli, server, repo, { env: { CLAUDE_CODE_MAX_RETRIES: '0' } });
    assert.notEqual(run.exitCode, 0);
    const errors = run.events.filter((event) => event.type === 'error');
    assert.deepEqual(
      errors.map((error) => error.kind),
      ['auth'],
    );
    assert.equal(run.events.findLast((event) => event.type === 'result')?.type, 'result');
    assert.equal(existsSync(path.join(repo, 'hello.txt')), false);
  });
});
