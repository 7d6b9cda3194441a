/**
 * The OpenCode backend: its invocation, and its parser on lines OpenCode 1.18.33 printed
 * (`run --format json`, captured against test/fake-openai's Chat Completions with the backend's
 * own invocation; paths rewritten to /tmp/oc/repo). The `ProviderAuthError` and `length` lines are
 * written by hand after OpenCode's shapes (its error union, a step's finish reasons).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ExternalEvent } from './backend.ts';
import {
  classifyOpencodeError,
  type OPENCODE_WORKSPACE_PERMISSION,
  opencodeBackend,
  opencodeInvocation,
  opencodeParser,
  opencodeToolSummary,
} from './opencode.ts';

const CWD = '/tmp/oc/repo';
const FIXTURES = path.join(import.meta.dirname, '../../../test/fixtures/opencode');

function fixture(name: string): string[] {
  return readFileSync(path.join(FIXTURES, `${name}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean);
}

function parseAll(lines: string[]): ExternalEvent[] {
  const parse = opencodeParser({ cwd: CWD, model: 'fake-model' });
  return lines.flatMap((line) => parse(line));
}

function withoutUsage(events: ExternalEvent[]): ExternalEvent[] {
  return events.filter((event) => event.type !== 'usage');
}

describe('opencode invocation', () => {
  const input = { prompt: 'Do one step.', cwd: '/w/goal-3', model: null, permissions: 'workspace' as const, extraArgs: [] };

  it('runs `run --format json` with a title of its own (no title call), Ralph’s permission rules, no self-update, the prompt on stdin', () => {
    const invocation = opencodeInvocation(input);
    assert.deepEqual(invocation.args, ['run', '--format', 'json', '--title', 'Ralph iteration']);
    assert.equal(invocation.stdin, 'Do one step.');
    assert.equal(invocation.env?.OPENCODE_DISABLE_AUTOUPDATE, '1');
    const rules = JSON.parse(invocation.env?.OPENCODE_PERMISSION ?? '{}') as typeof OPENCODE_WORKSPACE_PERMISSION;
    assert.deepEqual(rules, {
      read: { '*': 'allow', '*.env': 'deny', '*.env.*': 'deny', '*.env.example': 'allow' },
      edit: 'allow',
      bash: { '*': 'allow', 'git push': 'deny', 'git push *': 'deny' },
      webfetch: 'deny',
      websearch: 'deny',
      codesearch: 'deny',
      external_directory: 'deny',
    });
  });

  it('names the model as provider/model and puts the config’s arguments last', () => {
    const { args } = opencodeInvocation({ ...input, model: 'anthropic/claude-sonnet-4-5', extraArgs: ['--variant', 'high'] });
    assert.deepEqual(args.slice(-4), ['--model', 'anthropic/claude-sonnet-4-5', '--variant', 'high']);
  });

  it('permissions "all": OpenCode’s --auto and none of Ralph’s rules', () => {
    const invocation = opencodeInvocation({ ...input, permissions: 'all' });
    assert.ok(invocation.args.includes('--auto'));
    assert.equal(invocation.env?.OPENCODE_PERMISSION, undefined);
  });

  it('in a repository it does not trust, OpenCode reads none of its config (OPENCODE_DISABLE_PROJECT_CONFIG); in the user’s own it does', () => {
    assert.equal(opencodeInvocation({ ...input, untrustedRepository: true }).env?.OPENCODE_DISABLE_PROJECT_CONFIG, '1');
    assert.equal(opencodeInvocation(input).env?.OPENCODE_DISABLE_PROJECT_CONFIG, undefined);
  });

  it('the backend’s parser shows paths relative to its run’s worktree and the model without its provider', () => {
    const events = opencodeBackend.parser({ cwd: CWD, model: 'fake/fake-model' })(fixture('write')[2]!);
    assert.deepEqual(
      events.map((event) => (event.type === 'tool.start' ? event.summary : event.type)),
      ['write hello.txt', 'tool.end'],
    );
    const usage = opencodeBackend.parser({ cwd: CWD, model: 'fake/fake-model' })(fixture('write')[3]!)[0];
    assert.equal(usage?.type === 'usage' ? usage.model : undefined, 'fake-model');
  });
});

describe('opencode parser', () => {
  it('a run that writes a file and lists the folder: its words, the tool calls with short paths, each step’s usage, the final text as the result', () => {
    const events = parseAll(fixture('write'));
    const write = { id: 'call_b5f7bce2c67fad68b7a8f0b2', name: 'write', summary: 'write hello.txt' };
    const ls = { id: 'call_5a3ae533ef62dd305d41c84a', name: 'bash', summary: 'bash ls' };
    assert.deepEqual(withoutUsage(events), [
      { type: 'text', text: 'I will write the file.' },
      { type: 'tool.start', ...write },
      { type: 'tool.end', ...write, ok: true, output: 'Wrote file successfully.' },
      { type: 'tool.start', ...ls },
      { type: 'tool.end', ...ls, ok: true, output: 'hello.txt\n' },
      { type: 'text', text: 'Done.\nRALPH_GOAL_DONE: wrote hello.txt' },
      { type: 'result', text: 'Done.\nRALPH_GOAL_DONE: wrote hello.txt', ok: true },
    ]);
    // Three model calls; the last one read 50 of its 150 input tokens from the cache. OpenCode
    // counts input without them; Ralph with them. Its cost 0 (no price for the model) is unknown.
    assert.deepEqual(
      events.filter((event) => event.type === 'usage'),
      [
        {
          type: 'usage',
          model: 'fake-model',
          usage: { inputTokens: 100, cachedInputTokens: 0, outputTokens: 20, reasoningTokens: 0 },
          costUsd: null,
        },
        {
          type: 'usage',
          model: 'fake-model',
          usage: { inputTokens: 2428, cachedInputTokens: 0, outputTokens: 12, reasoningTokens: 0 },
          costUsd: null,
        },
        {
          type: 'usage',
          model: 'fake-model',
          usage: { inputTokens: 150, cachedInputTokens: 50, outputTokens: 10, reasoningTokens: 0 },
          costUsd: null,
        },
      ],
    );
  });

  it('refused and failed calls are failed tool calls with the reason; the run goes on to its end', () => {
    const events = parseAll(fixture('tools'));
    const ends = events.filter((event) => event.type === 'tool.end');
    assert.deepEqual(
      ends.map((event) => [event.summary, event.ok]),
      [
        ['bash git push origin main', false],
        ['invalid webfetch', false],
        ['write /tmp/oc/outside.txt', false],
        ['read missing.txt', false],
        ['bash echo hi && exit 3', false],
        ['edit README.md', false],
      ],
    );
    assert.match(ends[0]?.output ?? '', /rule which prevents you from using this specific tool call/);
    assert.match(ends[1]?.output ?? '', /unavailable tool 'webfetch'/);
    assert.equal(ends[4]?.output, 'hi\n');
    // Reasoning counts in the output, and the cached part in the input, as Ralph counts them.
    assert.deepEqual(events.filter((event) => event.type === 'usage').at(-1), {
      type: 'usage',
      model: 'fake-model',
      usage: { inputTokens: 3000, cachedInputTokens: 2000, outputTokens: 40, reasoningTokens: 8 },
      costUsd: null,
    });
    assert.deepEqual(events.at(-1), { type: 'result', text: 'Stopping here.', ok: true });
  });

  it('a rejected key is an auth error, and the run ends failed', () => {
    assert.deepEqual(parseAll(fixture('auth-401')), [
      { type: 'error', kind: 'auth', message: 'Incorrect API key provided: sk-op*****test.' },
      { type: 'result', text: '', ok: false },
    ]);
  });

  it('a rate limit (after its own retries) is a rate-limit error with the wait the response named', () => {
    const [error, result] = parseAll(fixture('rate-limit-429'));
    assert.deepEqual(error && { ...error, message: '' }, { type: 'error', kind: 'rate-limit', message: '', retryAfterSeconds: 1 });
    assert.match(error?.type === 'error' ? error.message : '', /^Rate limit reached for requests per min/);
    assert.deepEqual(result, { type: 'result', text: '', ok: false });
  });

  it('a used-up quota (a 429 saying insufficient_quota) is a quota error, not a rate limit', () => {
    assert.deepEqual(parseAll(fixture('quota-429'))[0], {
      type: 'error',
      kind: 'quota',
      message: 'You exceeded your current quota, please check your plan and billing details.',
    });
  });

  it('a provider it has no key for is an auth error; a step cut at the length limit ends the run failed', () => {
    const events = parseAll([
      '{"type":"error","timestamp":1,"sessionID":"ses_1","error":{"name":"ProviderAuthError","data":{"providerID":"anthropic","message":"Missing API key"}}}',
    ]);
    assert.deepEqual(events[0], { type: 'error', kind: 'auth', message: 'ProviderAuthError: Missing API key' });
    const cut = parseAll([
      '{"type":"text","timestamp":1,"sessionID":"ses_1","part":{"type":"text","text":"Half a"}}',
      '{"type":"step_finish","timestamp":2,"sessionID":"ses_1","part":{"type":"step-finish","reason":"length","tokens":{"input":10,"output":5,"reasoning":0,"cache":{"read":0,"write":0}},"cost":0.002}}',
    ]);
    assert.deepEqual(cut.slice(1), [
      {
        type: 'usage',
        model: 'fake-model',
        usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 5, reasoningTokens: 0 },
        costUsd: 0.002,
      },
      { type: 'result', text: 'Half a', ok: false },
    ]);
  });

  it('what is not its JSON is kept raw', () => {
    assert.deepEqual(parseAll(['Error: something odd', '[1,2]', '{"type":"new_kind"}']), [
      { type: 'raw', line: 'Error: something odd' },
      { type: 'raw', line: '[1,2]' },
      { type: 'raw', line: '{"type":"new_kind"}' },
    ]);
  });
});

describe('opencode errors and summaries', () => {
  it('classifies by status and words', () => {
    assert.equal(classifyOpencodeError('APIError', 401, 'Incorrect API key provided'), 'auth');
    assert.equal(classifyOpencodeError('APIError', 402, 'Payment Required'), 'quota');
    assert.equal(classifyOpencodeError('APIError', 429, 'Too many requests'), 'rate-limit');
    assert.equal(classifyOpencodeError('APIError', 429, '{"error":{"type":"insufficient_quota"}}'), 'quota');
    assert.equal(classifyOpencodeError('APIError', 500, 'The server had an error'), 'other');
    assert.equal(classifyOpencodeError('UnknownError', null, 'boom'), 'other');
  });

  it('one line per call, paths relative to the worktree', () => {
    assert.equal(opencodeToolSummary('edit', { filePath: `${CWD}/src/a.ts`, oldString: 'a', newString: 'b' }, CWD), 'edit src/a.ts');
    assert.equal(opencodeToolSummary('grep', { pattern: 'TODO', path: `${CWD}/src` }, CWD), 'grep TODO in src');
    assert.equal(opencodeToolSummary('bash', { command: 'npm test\n  -- --watch=false' }, CWD), 'bash npm test -- --watch=false');
    assert.equal(opencodeToolSummary('todowrite', { todos: [] }, CWD), 'todowrite');
    assert.equal(opencodeToolSummary('mcp_search', { q: 'ralph' }, CWD), 'mcp_search ralph');
  });
});
