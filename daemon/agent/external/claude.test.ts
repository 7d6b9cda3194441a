/**
 * The Claude Code backend: its invocation, and its parser on output the real CLI (2.1.332) wrote
 * against test/fake-anthropic (test/fixtures/claude-code/*.jsonl, captured as they were printed,
 * with the flags claudeInvocation gives; `no-partial-messages` without --include-partial-messages).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ExternalEvent, InvocationInput } from './backend.ts';
import { CLAUDE_QUIET_ENV, claudeBackend, claudeParser, toolSummary } from './claude.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/claude-code');

/** Every event the parser makes of a captured run, line by line. */
function parseFixture(name: string): ExternalEvent[] {
  const parse = claudeParser();
  return readFileSync(path.join(FIXTURES, `${name}.jsonl`), 'utf8')
    .split('\n')
    .flatMap((line) => parse(line));
}

function ofType<T extends ExternalEvent['type']>(events: ExternalEvent[], type: T): Extract<ExternalEvent, { type: T }>[] {
  return events.filter((event): event is Extract<ExternalEvent, { type: T }> => event.type === type);
}

const input: InvocationInput = { prompt: 'Write hello.txt', cwd: '/work/tree', model: null, permissions: 'workspace', extraArgs: [] };

describe('claude invocation', () => {
  it('runs headless with stream-json, the prompt on stdin, edits accepted in the worktree and a short allowed-tools list', () => {
    const invocation = claudeBackend.invocation(input);
    assert.deepEqual(invocation.args, [
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--include-partial-messages',
      '--permission-mode',
      'acceptEdits',
      '--allowedTools',
      'Read,Glob,Grep,Bash',
      '--disallowedTools',
      'Bash(git push:*)',
    ]);
    assert.equal(invocation.stdin, 'Write hello.txt');
    assert.deepEqual(invocation.env, { ...CLAUDE_QUIET_ENV });
    assert.equal(invocation.env?.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC, '1');
  });

  it('skips permissions only when told to, and puts the model and the extra arguments last', () => {
    const invocation = claudeBackend.invocation({
      ...input,
      permissions: 'all',
      model: 'claude-sonnet-5-5',
      extraArgs: ['--max-turns', '40'],
    });
    assert.ok(invocation.args.includes('--dangerously-skip-permissions'));
    assert.ok(!invocation.args.includes('--allowedTools'));
    assert.equal(invocation.env?.IS_SANDBOX, '1');
    assert.deepEqual(invocation.args.slice(-4), ['--model', 'claude-sonnet-5-5', '--max-turns', '40']);
    assert.ok(!claudeBackend.invocation(input).args.includes('--dangerously-skip-permissions'));
  });

  it('in a repository it does not trust, loads only the user’s settings and no MCP servers, before the model and the extra arguments', () => {
    const { args } = claudeBackend.invocation({
      ...input,
      untrustedRepository: true,
      model: 'claude-sonnet-5-5',
      extraArgs: ['--max-turns', '40'],
    });
    assert.deepEqual(args.slice(-7), [
      '--setting-sources',
      'user',
      '--strict-mcp-config',
      '--model',
      'claude-sonnet-5-5',
      '--max-turns',
      '40',
    ]);
    assert.ok(!claudeBackend.invocation(input).args.includes('--setting-sources'), 'the user’s own repository: its settings apply');
  });

  it('names the variables it authenticates with and how to install it', () => {
    assert.deepEqual([...claudeBackend.authEnv], ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_MODEL']);
    assert.equal(claudeBackend.executable, 'claude');
    assert.equal(claudeBackend.install, 'npm install -g @anthropic-ai/claude-code');
  });
});

describe('claude parser', () => {
  it('reads a run that writes a file: the words, the Write call and its end, each model call’s usage, and the result with the marker', () => {
    assert.deepEqual(parseFixture('write'), [
      { type: 'text', text: 'I will create hello.txt now.' },
      { type: 'tool.start', id: 'toolu_19_1', name: 'Write', summary: 'Write hello.txt' },
      {
        type: 'usage',
        model: 'claude-opus-5-5',
        usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 5, reasoningTokens: 0 },
        costUsd: null,
      },
      {
        type: 'tool.end',
        id: 'toolu_19_1',
        name: 'Write',
        summary: 'Write hello.txt',
        ok: true,
        output:
          'File created successfully at: /tmp/cc-probe/r-partial/hello.txt (file state is current in your context — no need to Read it back)',
      },
      { type: 'text', text: 'Wrote hello.txt.\nRALPH_GOAL_DONE: hello.txt holds hi' },
      {
        type: 'usage',
        model: 'claude-opus-5-5',
        usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 5, reasoningTokens: 0 },
        costUsd: null,
      },
      {
        type: 'result',
        text: 'Wrote hello.txt.\nRALPH_GOAL_DONE: hello.txt holds hi',
        ok: true,
        model: 'claude-opus-5-5',
        totalCostUsd: 0.00028000000000000003,
        usage: { inputTokens: 20, cachedInputTokens: 0, outputTokens: 10, reasoningTokens: 0 },
      },
    ]);
  });

  it('ends refused and failed tool calls not ok, and knows every line of a run (nothing raw)', () => {
    const events = parseFixture('tools');
    assert.deepEqual(ofType(events, 'raw'), []);
    assert.deepEqual(
      ofType(events, 'tool.end').map((end) => [end.summary, end.ok]),
      [
        ['Bash echo hi && ls', true],
        ['Bash git push origin main', false],
        ['WebFetch https://example.com', false],
        ['Read /tmp/cc-probe/nonexistent.txt', false],
        ['Write /tmp/cc-probe/outside.txt', false],
        ['Bash false', false],
      ],
    );
    assert.match(ofType(events, 'tool.end')[1]?.output ?? '', /git push origin main has been denied/);
    assert.deepEqual(
      ofType(events, 'tool.start').map((start) => start.id),
      ofType(events, 'tool.end').map((end) => end.id),
    );
    assert.equal(ofType(events, 'usage').length, 7);
    assert.deepEqual(
      ofType(events, 'result').map((result) => [result.ok, result.text]),
      [[true, 'Checked the tools.\nRALPH_GOAL_DONE: tools checked']],
    );
  });

  it('counts a model call once when its blocks come on several lines without stream events', () => {
    const events = parseFixture('no-partial-messages');
    const usage = ofType(events, 'usage');
    assert.equal(usage.length, 7, 'seven model calls, whatever the number of their lines');
    assert.deepEqual(usage[0]?.usage, { inputTokens: 10, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0 });
    assert.deepEqual(ofType(events, 'result')[0]?.usage, { inputTokens: 70, cachedInputTokens: 0, outputTokens: 35, reasoningTokens: 0 });
  });

  it('maps a rejected key to auth, low credit to quota, a 500 to other: one error each, and a result that failed', () => {
    for (const [fixture, kind, message] of [
      ['auth-401', 'auth', 'Invalid API key · Fix external API key'],
      ['credit-400', 'quota', 'Credit balance is too low'],
      ['server-error-500', 'other', /^API Error: 500 Internal server error/],
    ] as const) {
      const events = parseFixture(fixture);
      const errors = ofType(events, 'error');
      assert.equal(errors.length, 1, fixture);
      assert.equal(errors[0]?.kind, kind, fixture);
      if (typeof message === 'string') assert.equal(errors[0]?.message, message, fixture);
      else assert.match(errors[0]?.message ?? '', message, fixture);
      assert.equal(errors[0]?.retryAfterSeconds, undefined);
      assert.deepEqual(
        ofType(events, 'result').map((result) => result.ok),
        [false],
        fixture,
      );
      assert.deepEqual(ofType(events, 'raw'), [], fixture);
    }
  });

  it('maps a 429 it gave up on to rate-limit, waiting as long as its own last retry did', () => {
    const events = parseFixture('rate-limit-429');
    assert.deepEqual(events.slice(0, 2), [
      { type: 'error', kind: 'other', message: 'a model call failed with 429 (rate_limit); it retries in 2.4 s (attempt 1 of 1)' },
      {
        type: 'error',
        kind: 'rate-limit',
        message: 'API Error: Request rejected (429) · Number of request tokens has exceeded your per-minute rate limit',
        retryAfterSeconds: 3,
      },
    ]);
    assert.equal(ofType(events, 'result')[0]?.ok, false);
  });

  it('reports an error result without a text (max turns) by its errors', () => {
    const events = parseFixture('max-turns');
    assert.deepEqual(ofType(events, 'error'), [{ type: 'error', kind: 'other', message: 'Reached maximum number of turns (1)' }]);
    assert.deepEqual(
      ofType(events, 'result').map((result) => [result.ok, result.text]),
      [[false, 'Reached maximum number of turns (1)']],
    );
  });

  it('keeps lines it does not know as raw, and skips blank ones', () => {
    const parse = claudeParser();
    assert.deepEqual(parse(''), []);
    assert.deepEqual(parse('Error: something broke'), [{ type: 'raw', line: 'Error: something broke' }]);
    assert.deepEqual(parse('[1,2]'), [{ type: 'raw', line: '[1,2]' }]);
    assert.deepEqual(parse('{"type":"telemetry","x":1}'), [{ type: 'raw', line: '{"type":"telemetry","x":1}' }]);
    assert.deepEqual(parse('{"type":"system","subtype":"status","status":"requesting"}'), []);
  });
});

describe('claude tool summaries', () => {
  it('say each call in one short line, paths relative to the worktree when inside it', () => {
    const cwd = '/work/tree';
    assert.equal(toolSummary('Write', { file_path: '/work/tree/src/a.ts', content: 'x' }, cwd), 'Write src/a.ts');
    assert.equal(toolSummary('Edit', { file_path: '/etc/hosts' }, cwd), 'Edit /etc/hosts');
    assert.equal(toolSummary('Edit', { file_path: '/work/tree-other/a.ts' }, cwd), 'Edit /work/tree-other/a.ts');
    assert.equal(
      toolSummary('Bash', { command: 'npm test \\\n  -- --watch=false', description: 'run tests' }, cwd),
      'Bash npm test \\ -- --watch=false',
    );
    assert.equal(toolSummary('Grep', { pattern: 'TODO', path: '/work/tree/src' }, cwd), 'Grep TODO in src');
    assert.equal(toolSummary('mcp__db__query', { sql: 'select 1' }, cwd), 'mcp__db__query select 1');
    assert.equal(toolSummary('TodoWrite', { todos: [] }, cwd), 'TodoWrite');
    assert.equal(toolSummary('Bash', { command: 'x'.repeat(500) }, null).length, 160);
  });
});
