/**
 * The Gemini CLI backend: its invocation, its policy, and its parser on lines Gemini CLI 0.61.0
 * printed (`--output-format stream-json`, captured against test/fake-gemini with the backend's own
 * invocation; paths rewritten to /tmp/gm). The `error` lines (a retry warning, a blocked response)
 * and a result with several models are written by hand after its stream-json formatter's shapes.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ExternalEvent } from './backend.ts';
import {
  classifyGeminiError,
  GEMINI_WORKSPACE_POLICY,
  geminiBackend,
  geminiInvocation,
  geminiParser,
  geminiPolicyFile,
  geminiToolSummary,
} from './gemini.ts';

const CWD = '/tmp/gm/repo';
const FIXTURES = path.join(import.meta.dirname, '../../../test/fixtures/gemini-cli');

function fixture(name: string): string[] {
  return readFileSync(path.join(FIXTURES, `${name}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean);
}

function parseAll(lines: string[]): ExternalEvent[] {
  const parse = geminiParser({ cwd: CWD });
  return lines.flatMap((line) => parse(line));
}

describe('gemini invocation', () => {
  const input = { prompt: 'Do one step.', cwd: '/w/goal-3', model: null, permissions: 'workspace' as const, extraArgs: [] };

  it('runs headless with stream-json in a trusted worktree, auto-approving edits under Ralph’s policy, the prompt on stdin', () => {
    assert.deepEqual(geminiInvocation(input, '/p/workspace.toml'), {
      args: ['--output-format', 'stream-json', '--skip-trust', '--approval-mode', 'auto_edit', '--policy', '/p/workspace.toml', '-p', ''],
      // It starts once, not twice (over a second a run).
      env: { GEMINI_CLI_NO_RELAUNCH: 'true' },
      stdin: 'Do one step.',
    });
  });

  it('names the model and puts the config’s arguments after its own, before -p', () => {
    const { args } = geminiInvocation({ ...input, model: 'gemini-2.5-pro', extraArgs: ['--sandbox'] }, '/p/workspace.toml');
    assert.deepEqual(args.slice(-5), ['--model', 'gemini-2.5-pro', '--sandbox', '-p', '']);
  });

  it('permissions "all": yolo, and no policy of Ralph’s', () => {
    const { args } = geminiInvocation({ ...input, permissions: 'all' }, null);
    assert.deepEqual(args.slice(3, 5), ['--approval-mode', 'yolo']);
    assert.ok(!args.includes('--policy') && !args.includes('auto_edit'));
  });

  it('the policy allows the shell but not git push, and denies web_fetch; its file is private', () => {
    assert.match(GEMINI_WORKSPACE_POLICY, /toolName = "run_shell_command"\ndecision = "allow"\npriority = 100/);
    assert.match(GEMINI_WORKSPACE_POLICY, /toolName = "run_shell_command"\ncommandPrefix = "git push"\ndecision = "deny"\npriority = 200/);
    assert.match(GEMINI_WORKSPACE_POLICY, /toolName = "web_fetch"\ndecision = "deny"/);
    const file = geminiPolicyFile();
    assert.equal(readFileSync(file, 'utf8'), GEMINI_WORKSPACE_POLICY);
    assert.equal(statSync(path.dirname(file)).mode & 0o077, 0, 'nobody else may write the folder');
    assert.equal(geminiPolicyFile(), file, 'written once per process');
    const { args } = geminiBackend.invocation(input);
    assert.equal(args[args.indexOf('--policy') + 1], file);
    assert.ok(existsSync(file));
  });
});

describe('gemini invocation in a repository it does not trust', () => {
  const input = { prompt: 'Do one step.', cwd: '/w/goal-3', model: null, permissions: 'workspace' as const, extraArgs: [] };

  it('reads the repository as an untrusted folder (GEMINI_CLI_TRUST_WORKSPACE=false, over this machine’s); in the user’s own it does not say', () => {
    assert.equal(geminiBackend.invocation({ ...input, untrustedRepository: true }).env?.GEMINI_CLI_TRUST_WORKSPACE, 'false');
    assert.equal(geminiBackend.invocation(input).env?.GEMINI_CLI_TRUST_WORKSPACE, undefined);
  });
});

describe('gemini parser', () => {
  it('a run that writes a file, runs commands and is refused some: its words per turn, the calls, the totals, the final text as the result', () => {
    const events = parseAll(fixture('tools'));
    const calls = events.flatMap((event) => (event.type === 'tool.end' ? [[event.summary, event.ok, event.output ?? null]] : []));
    assert.deepEqual(calls, [
      ['write_file hello.txt', true, null],
      ['run_shell_command ls', true, 'hello.txt'],
      ['run_shell_command git push origin main', false, 'Tool execution denied by policy.'],
      ['read_file missing.txt', false, 'File not found: /tmp/gm/repo/missing.txt'],
      [
        'web_fetch fetch https://example.com',
        false,
        'Tool "web_fetch" not found. Did you mean one of: "grep_search", "read_file", "replace"?',
      ],
      ['write_file /tmp/gm/outside.txt', false, calls[5]?.[2] ?? null],
      // Gemini CLI reports a command's output, not its exit code.
      ['run_shell_command echo hi && exit 3', true, 'hi'],
    ]);
    assert.match(String(calls[5]?.[2]), /^Path not in workspace/);
    const write = { id: 'write_file__write_file_1796336750699_0', name: 'write_file', summary: 'write_file hello.txt' };
    assert.deepEqual(events.slice(0, 3), [
      { type: 'text', text: 'I will write the file, then look around.' },
      { type: 'tool.start', ...write },
      { type: 'tool.end', ...write, ok: true },
    ]);
    assert.deepEqual(events.slice(-3), [
      { type: 'text', text: 'Done.\nRALPH_GOAL_DONE: wrote hello.txt' },
      // Its totals for the run, per model; it reports no cost.
      {
        type: 'usage',
        model: 'gemini-2.5-flash',
        usage: { inputTokens: 3619, cachedInputTokens: 100, outputTokens: 170, reasoningTokens: 0 },
        costUsd: null,
      },
      { type: 'result', text: 'Done.\nRALPH_GOAL_DONE: wrote hello.txt', ok: true },
    ]);
  });

  it('text in pieces is one text event per turn', () => {
    const events = parseAll([
      '{"type":"init","timestamp":"t","session_id":"s","model":"gemini-2.5-pro"}',
      '{"type":"message","timestamp":"t","role":"user","content":"Do it"}',
      '{"type":"message","timestamp":"t","role":"assistant","content":"Hello ","delta":true}',
      '{"type":"message","timestamp":"t","role":"assistant","content":"world.","delta":true}',
      '{"type":"result","timestamp":"t","status":"success","stats":{"total_tokens":0,"input_tokens":0,"output_tokens":0,"cached":0,"input":0,"duration_ms":1,"tool_calls":0,"models":{}}}',
    ]);
    assert.deepEqual(events, [
      { type: 'text', text: 'Hello world.' },
      { type: 'result', text: 'Hello world.', ok: true },
    ]);
  });

  it('a rejected key (400 API_KEY_INVALID, 403 PERMISSION_DENIED) is an auth error in the API’s words, and the run ends failed', () => {
    assert.deepEqual(parseAll(fixture('auth-400')), [
      { type: 'error', kind: 'auth', message: 'API key not valid. Please pass a valid API key. (400 INVALID_ARGUMENT)' },
      { type: 'result', text: '', ok: false },
    ]);
    assert.deepEqual(
      parseAll(fixture('auth-403')).map((event) => (event.type === 'error' ? event.kind : event.type)),
      ['auth', 'result'],
    );
  });

  it('a used-up daily quota is a quota error; a rate limit it gave up retrying is a rate limit with the wait it suggests', () => {
    const [quota] = parseAll(fixture('quota-429'));
    assert.equal(quota?.type === 'error' && quota.kind, 'quota');
    assert.match(quota?.type === 'error' ? quota.message : '', /exhausted your daily quota/);
    const [rate, result] = parseAll(fixture('rate-limit-429'));
    assert.equal(rate?.type === 'error' && rate.kind, 'rate-limit');
    assert.equal(rate?.type === 'error' && rate.retryAfterSeconds, 1);
    assert.deepEqual(result, { type: 'result', text: '', ok: false });
  });

  it('its warnings are logged and the run goes on; an error line is classified', () => {
    assert.deepEqual(
      parseAll([
        '{"type":"error","timestamp":"t","severity":"warning","message":"Agent execution blocked: a hook said no"}',
        '{"type":"error","timestamp":"t","severity":"error","message":"Maximum session turns exceeded"}',
      ]),
      [
        { type: 'error', kind: 'other', message: 'Agent execution blocked: a hook said no' },
        { type: 'error', kind: 'other', message: 'Maximum session turns exceeded' },
      ],
    );
  });

  it('a result naming several models gives one usage each (the router’s small model among them)', () => {
    const events = parseAll([
      '{"type":"result","timestamp":"t","status":"success","stats":{"total_tokens":295,"input_tokens":279,"output_tokens":16,"cached":0,"input":279,"duration_ms":108,"tool_calls":0,"models":{"gemini-3.5-flash-lite":{"total_tokens":154,"input_tokens":143,"output_tokens":11,"cached":0,"input":143},"gemini-3.1-pro-preview":{"total_tokens":141,"input_tokens":136,"output_tokens":5,"cached":0,"input":136}}}}',
    ]);
    assert.deepEqual(
      events.map((event) => (event.type === 'usage' ? [event.model, event.usage.inputTokens, event.usage.outputTokens] : event.type)),
      [['gemini-3.5-flash-lite', 143, 11], ['gemini-3.1-pro-preview', 136, 5], 'result'],
    );
  });

  it('what is not its JSON is kept raw', () => {
    assert.deepEqual(parseAll(['Loaded cached credentials.', '"text"']), [
      { type: 'raw', line: 'Loaded cached credentials.' },
      { type: 'raw', line: '"text"' },
    ]);
  });
});

describe('gemini errors and summaries', () => {
  it('classifies by the words of the CLI and the API', () => {
    assert.equal(classifyGeminiError('When using Gemini API, you must specify the GEMINI_API_KEY environment variable.'), 'auth');
    assert.equal(classifyGeminiError('[API Error: You exceeded your current quota, please check your plan and billing details.]'), 'quota');
    assert.equal(classifyGeminiError('[API Error: got status: 429 Too Many Requests.]'), 'rate-limit');
    assert.equal(classifyGeminiError('[API Error: got status: 503 Service Unavailable.]'), 'other');
  });

  it('one line per call, paths relative to the worktree', () => {
    assert.equal(geminiToolSummary('replace', { file_path: `${CWD}/src/a.ts`, old_string: 'a', new_string: 'b' }, CWD), 'replace src/a.ts');
    assert.equal(geminiToolSummary('grep_search', { pattern: 'TODO', dir_path: `${CWD}/src` }, CWD), 'grep_search TODO in src');
    assert.equal(
      geminiToolSummary('run_shell_command', { command: 'npm test', dir_path: 'pkg' }, CWD),
      'run_shell_command npm test (in pkg)',
    );
    assert.equal(geminiToolSummary('mcp_tool', { q: 'ralph' }, CWD), 'mcp_tool ralph');
  });
});
