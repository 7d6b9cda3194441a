/**
 * The Codex backend: its invocation, and its parser on lines Codex 0.171 printed (`exec --json`,
 * captured against test/fake-openai; the `mcp_tool_call` lines follow Codex's documented shape).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExternalEvent } from './backend.ts';
import { classifyCodexError, codexBackend, codexInvocation, codexParser, unwrapShell } from './codex.ts';

const CWD = '/tmp/cx/repo';

function parseAll(lines: string[], cwd: string | null = CWD): ExternalEvent[] {
  const parse = codexParser({ cwd, model: 'gpt-5.5' });
  return lines.flatMap((line) => parse(line));
}

const THREAD = '{"type":"thread.started","thread_id":"01a23df8-c3a5-7d01-8b2e-310a42c88592"}';
const TURN = '{"type":"turn.started"}';

describe('codex invocation', () => {
  const input = { prompt: 'Do one step.', cwd: '/w/goal-3', model: null, permissions: 'workspace' as const, extraArgs: [] };

  it('runs exec --json in the worktree, sandboxed to it, never asking, the prompt on stdin', () => {
    assert.deepEqual(codexInvocation(input), {
      args: [
        'exec',
        '--json',
        '--color',
        'never',
        '--skip-git-repo-check',
        '--cd',
        '/w/goal-3',
        '--sandbox',
        'workspace-write',
        '-c',
        'approval_policy="never"',
        '-',
      ],
      stdin: 'Do one step.',
    });
  });

  it('names the model, and puts the config’s arguments after its own, before the prompt', () => {
    const { args } = codexInvocation({ ...input, model: 'gpt-5.5', extraArgs: ['-c', 'sandbox_workspace_write.network_access=true'] });
    assert.deepEqual(args.slice(-5), ['--model', 'gpt-5.5', '-c', 'sandbox_workspace_write.network_access=true', '-']);
  });

  it('permissions "all" bypass the sandbox and approvals, and nothing else asks for a sandbox', () => {
    const { args } = codexInvocation({ ...input, permissions: 'all' });
    assert.ok(args.includes('--dangerously-bypass-approvals-and-sandbox'));
    assert.ok(!args.includes('--sandbox'));
    assert.ok(!args.includes('approval_policy="never"'));
  });
});

describe('codex invocation in a repository it does not trust', () => {
  const input = { prompt: 'Do one step.', cwd: '/w/goal-3', model: 'gpt-5', permissions: 'workspace' as const, extraArgs: [] };

  it('makes the worktree an untrusted project whatever this machine’s config trusts (no project config, MCP servers or hooks); the user’s own repository is left to that config', () => {
    const { args } = codexInvocation({ ...input, untrustedRepository: true });
    const at = args.indexOf('projects={"/w/goal-3"={trust_level="untrusted"}}');
    assert.ok(at > 0 && args[at - 1] === '-c', args.join(' '));
    assert.ok(at < args.indexOf('--model'), 'before the model and the config’s arguments');
    assert.ok(!codexInvocation(input).args.some((arg) => arg.includes('trust_level')));
  });
});

describe('codex parser', () => {
  it('a run that writes a file: its words, the edit as a tool call with a relative path, usage, the final message', () => {
    const events = parseAll([
      THREAD,
      TURN,
      '{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"I will write the file."}}',
      '{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"Writing the file now."}}',
      '{"type":"item.started","item":{"id":"item_2","type":"file_change","changes":[{"path":"/tmp/cx/repo/src/hello.txt","kind":"add"}],"status":"in_progress"}}',
      '{"type":"item.completed","item":{"id":"item_2","type":"file_change","changes":[{"path":"/tmp/cx/repo/src/hello.txt","kind":"add"}],"status":"completed"}}',
      '{"type":"item.completed","item":{"id":"item_3","type":"agent_message","text":"Wrote it.\\nRALPH_GOAL_DONE: wrote src/hello.txt"}}',
      '{"type":"turn.completed","usage":{"input_tokens":13758,"cached_input_tokens":0,"cache_write_input_tokens":0,"output_tokens":83,"reasoning_output_tokens":22}}',
    ]);
    const edit = { id: 'item_2', name: 'edit', summary: 'add src/hello.txt' };
    assert.deepEqual(events, [
      { type: 'text', text: 'Writing the file now.' },
      { type: 'tool.start', ...edit },
      { type: 'tool.end', ...edit, ok: true },
      { type: 'text', text: 'Wrote it.\nRALPH_GOAL_DONE: wrote src/hello.txt' },
      {
        type: 'usage',
        model: 'gpt-5.5',
        usage: { inputTokens: 13758, cachedInputTokens: 0, outputTokens: 83, reasoningTokens: 22 },
        costUsd: null,
      },
      { type: 'result', text: 'Wrote it.\nRALPH_GOAL_DONE: wrote src/hello.txt', ok: true },
    ]);
  });

  it('shell commands: the command as the model wrote it, success by exit code, the output kept', () => {
    const events = parseAll([
      `{"type":"item.started","item":{"id":"item_0","type":"command_execution","command":"/bin/bash -lc 'echo hi > a.txt && cat a.txt && id -u'","aggregated_output":"","exit_code":null,"status":"in_progress"}}`,
      `{"type":"item.completed","item":{"id":"item_0","type":"command_execution","command":"/bin/bash -lc 'echo hi > a.txt && cat a.txt && id -u'","aggregated_output":"hi\\n0\\n","exit_code":0,"status":"completed"}}`,
      `{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc 'npm test --silent'","aggregated_output":"","exit_code":null,"status":"in_progress"}}`,
      `{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc 'npm test --silent'","aggregated_output":"","exit_code":254,"status":"failed"}}`,
    ]);
    const echo = { id: 'item_0', name: 'shell', summary: 'shell echo hi > a.txt && cat a.txt && id -u' };
    const npm = { id: 'item_1', name: 'shell', summary: 'shell npm test --silent' };
    assert.deepEqual(events, [
      { type: 'tool.start', ...echo },
      { type: 'tool.end', ...echo, ok: true, output: 'hi\n0\n' },
      { type: 'tool.start', ...npm },
      { type: 'tool.end', ...npm, ok: false },
    ]);
  });

  it('web searches and MCP tool calls are tool calls too; an item that only completes gets its start first', () => {
    const events = parseAll([
      '{"type":"item.started","item":{"id":"item_0","type":"web_search","id":"ws_85f0bd8081088f023ca15f6fb27c7d1b","query":"ralph loop","action":{"type":"search","query":"ralph loop"}}}',
      '{"type":"item.completed","item":{"id":"item_0","type":"web_search","id":"ws_85f0bd8081088f023ca15f6fb27c7d1b","query":"ralph loop","action":{"type":"search","query":"ralph loop"}}}',
      '{"type":"item.completed","item":{"id":"item_1","type":"mcp_tool_call","server":"docs","tool":"lookup","arguments":{"word":"ralph"},"result":{"content":[{"type":"text","text":"definition of ralph"}],"structured_content":null},"error":null,"status":"completed"}}',
      '{"type":"item.completed","item":{"id":"item_2","type":"mcp_tool_call","server":"docs","tool":"lookup","arguments":{},"result":null,"error":{"message":"word is required"},"status":"failed"}}',
    ]);
    const search = { id: 'ws_85f0bd8081088f023ca15f6fb27c7d1b', name: 'web_search', summary: 'web search ralph loop' };
    const lookup = { id: 'item_1', name: 'docs.lookup', summary: 'docs.lookup {"word":"ralph"}' };
    const failed = { id: 'item_2', name: 'docs.lookup', summary: 'docs.lookup {}' };
    assert.deepEqual(events, [
      { type: 'tool.start', ...search },
      { type: 'tool.end', ...search, ok: true },
      { type: 'tool.start', ...lookup },
      { type: 'tool.end', ...lookup, ok: true, output: 'definition of ralph' },
      { type: 'tool.start', ...failed },
      { type: 'tool.end', ...failed, ok: false, output: 'word is required' },
    ]);
  });

  it('several files in one patch, and paths outside the worktree (or with no worktree known) as Codex wrote them', () => {
    const line =
      '{"type":"item.completed","item":{"id":"item_4","type":"file_change","changes":[{"path":"/tmp/cx/repo/a.ts","kind":"update"},{"path":"/tmp/cx/repo/b.ts","kind":"add"},{"path":"/etc/x","kind":"delete"}],"status":"completed"}}';
    assert.equal((parseAll([line])[0] as { summary: string }).summary, 'edit 3 files: a.ts, b.ts, /etc/x');
    assert.equal((parseAll([line], null)[0] as { summary: string }).summary, 'edit 3 files: /tmp/cx/repo/a.ts, /tmp/cx/repo/b.ts, /etc/x');
  });

  it('its warnings and retries are logged errors that stop nothing; the fatal one is classified once, and the turn failed', () => {
    const events = parseAll([
      THREAD,
      '{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata for `gpt-5.4` not found. Defaulting to fallback metadata; this can degrade performance and cause issues."}}',
      TURN,
      '{"type":"error","message":"Reconnecting... 1/5 (unexpected status 401 Unauthorized: Incorrect API key provided: sk-te*****test., url: http://127.0.0.1:18787/v1/responses, request id: req_0d65781b06d5aa439bd4f1066b3ccb28)"}',
      '{"type":"error","message":"unexpected status 401 Unauthorized: Incorrect API key provided: sk-te*****test., url: http://127.0.0.1:18787/v1/responses, request id: req_0019d49121aba1219bb4cb7d89ce69ce"}',
      '{"type":"turn.failed","error":{"message":"unexpected status 401 Unauthorized: Incorrect API key provided: sk-te*****test., url: http://127.0.0.1:18787/v1/responses, request id: req_0019d49121aba1219bb4cb7d89ce69ce"}}',
    ]);
    assert.deepEqual(
      events.map((event) =>
        event.type === 'error' ? `error ${event.kind}` : event.type === 'result' ? `result ok=${event.ok}` : event.type,
      ),
      ['error other', 'error other', 'error auth', 'result ok=false'],
    );
  });

  it('classifies rate limits, used-up quota and other failures as Codex words them', () => {
    const cases: [string, string][] = [
      ['exceeded retry limit, last status: 429 Too Many Requests, request id: req_3f84cbe60693a8c0c5ba6952dfabc626', 'rate-limit'],
      ['Quota exceeded. Check your plan and billing details.', 'quota'],
      ["You've hit your usage limit. Upgrade to Pro or try again at 3:05 PM.", 'quota'],
      ['We’re currently experiencing high demand, which may cause temporary errors.', 'other'],
      ['unexpected status 401 Unauthorized: Missing bearer or basic authentication in header', 'auth'],
    ];
    for (const [message, kind] of cases) assert.equal(classifyCodexError(message), kind, message);

    const [failure] = parseAll(['{"type":"turn.failed","error":{"message":"Rate limit reached for gpt-5.5. Please try again in 20s."}}']);
    assert.deepEqual(failure, {
      type: 'error',
      kind: 'rate-limit',
      message: 'Rate limit reached for gpt-5.5. Please try again in 20s.',
      retryAfterSeconds: 20,
    });
  });

  it('a line that is not its JSON, an unknown event or an unknown item is kept raw', () => {
    const lines = [
      'WARNING: proceeding, even though we could not create PATH aliases',
      '{"type":"thread.compacted"}',
      '{"type":"item.completed","item":{"id":"item_9","type":"collab_tool_call","tool":"spawn_agent"}}',
      '[1,2]',
    ];
    assert.deepEqual(
      parseAll(lines),
      lines.map((line) => ({ type: 'raw', line })),
    );
  });

  it('the backend’s parser reads paths relative to its run’s worktree', () => {
    const [start] = codexBackend.parser({ cwd: '/w/goal-7', model: 'gpt-5.5' })(
      '{"type":"item.started","item":{"id":"item_1","type":"file_change","changes":[{"path":"/w/goal-7/src/a.ts","kind":"update"}],"status":"in_progress"}}',
    );
    assert.deepEqual(start, { type: 'tool.start', id: 'item_1', name: 'edit', summary: 'edit src/a.ts' });
  });
});

describe('unwrapShell', () => {
  it('takes the command out of the shell Codex wraps it in, undoing its quoting', () => {
    assert.equal(unwrapShell(`/bin/bash -lc 'npm test'`), 'npm test');
    assert.equal(unwrapShell(`/bin/bash -lc 'echo '\\''hi'\\'' > a.txt'`), `echo 'hi' > a.txt`);
    assert.equal(unwrapShell('bash -c "echo \\"x\\""'), 'echo "x"');
    assert.equal(unwrapShell('/usr/bin/zsh -lc ls'), 'ls');
    assert.equal(unwrapShell('git status'), 'git status');
  });
});
