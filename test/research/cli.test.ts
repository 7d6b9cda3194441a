/**
 * `ralph research "q1" "q2" …` end to end: real `tui/bin/ralph.js` processes whose first run starts
 * the repository's daemon in the background, its provider pointed at a real fake-openai server. And
 * the terminal view's frames, drawn into a stand-in stream.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResearchRun } from '../../protocol/index.ts';
import { formatBar, LineView, TerminalView, type AgentLine } from '../../tui/cli/research-command.ts';
import { startFakeOpenAI, type FakeOpenAIServer } from '../fake-openai/index.ts';
import { cliEnv, killDaemon, startRalph } from '../helpers/cli.ts';
import { git, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { PRICED_MODEL } from '../chat/helpers.ts';
import { questionOf, researchScenario } from './helpers.ts';

describe('ralph research', () => {
  let repo = '';
  let server: FakeOpenAIServer;
  let env: NodeJS.ProcessEnv;
  /** Requests for questions containing "hold" wait until released. */
  let release: () => void = () => {};
  let held = new Promise<void>((resolve) => (release = resolve));
  const start = (...args: string[]) => startRalph([...args, '--repo', repo], { env });

  before(async () => {
    repo = await makeTempRepo(undefined);
    await writeFile(path.join(repo, 'ralph.config.ts'), 'export default { research: { concurrency: 4, maxSteps: 5 } };\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'config');
    const researcher = researchScenario();
    server = await startFakeOpenAI({
      scenario: async (request) => {
        if (questionOf(request)?.includes('hold')) await held;
        return researcher(request);
      },
    });
    env = cliEnv({ OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', RALPH_API: 'chat', RALPH_MODEL: PRICED_MODEL });
  });

  after(async () => {
    release();
    await killDaemon(repo);
    await server.close();
    await rm(repo, { recursive: true, force: true });
  });

  it('shows progress lines on stderr, prints the consolidated report on stdout, exits 0', async () => {
    const run = await start('research', 'What is A?', 'What is B?').done;
    assert.equal(run.code, 0, `stderr: ${run.stderr}`);
    assert.equal(run.stdout, 'Consolidated: What is A? / What is B?\n');
    const lines = run.stderr.split('\n').filter(Boolean);
    // Not a terminal: one plain line per change of an agent's state, no escape sequences.
    assert.doesNotMatch(run.stderr, /\x1b\[/);
    assert.ok(lines.includes('research a1 running: What is A?'), run.stderr);
    assert.ok(lines.includes('research a2 running: What is B?'), run.stderr);
    assert.ok(
      lines.some((line) => /^research a1 done: What is A\? \(2\/5 steps, [\d.k]+ tokens, \$0\.\d{4}, 1 source\)$/.test(line)),
      run.stderr,
    );
    assert.ok(
      lines.some((line) => /^research a2 done: What is B\? \(2\/5 steps/.test(line)),
      run.stderr,
    );
    assert.equal(lines.length, 4, run.stderr);
  });

  it('--json prints the finished run', async () => {
    const run = await start('research', 'What is C?', '--json').done;
    assert.equal(run.code, 0, `stderr: ${run.stderr}`);
    const parsed = ResearchRun.parse(JSON.parse(run.stdout));
    assert.equal(parsed.status, 'done');
    assert.deepEqual(parsed.questions, ['What is C?']);
    assert.deepEqual(parsed.agents[0]?.sources, [{ kind: 'file', ref: 'README.md' }]);
  });

  it('Ctrl+C cancels the run and exits 130', async () => {
    held = new Promise<void>((resolve) => (release = resolve));
    const before = server.modelRequests().length;
    const running = start('research', 'Please hold?', 'Also hold?');
    await waitFor(() => server.modelRequests().length >= before + 2, { timeoutMs: 20_000, message: 'both agents to call the model' });
    running.signal('SIGINT');
    const run = await running.done;
    assert.equal(run.code, 130, `stderr: ${run.stderr}`);
    assert.match(run.stderr, /research a1 cancelled: Please hold\?/);
    assert.match(run.stdout, /Not answered: the agent was cancelled/);
    await waitFor(
      () =>
        server
          .modelRequests()
          .slice(before)
          .every((record) => record.aborted),
      { message: 'the requests to be aborted' },
    );
    release();
  });

  it('refuses an empty question as bad usage', async () => {
    const run = await start('research', '  ').done;
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^ralph: a question is empty/);
  });
});

describe('research progress views', () => {
  const line = (id: string, status: AgentLine['status'], step: number, message?: string): AgentLine => ({
    id,
    question: `Question ${id}?`,
    status,
    step,
    maxSteps: 10,
    ...(message ? { message } : {}),
  });

  it('the terminal view redraws its lines in place', () => {
    const writes: string[] = [];
    const view = new TerminalView({ write: (text) => writes.push(text), columns: 100 });
    view.finish([line('a1', 'running', 2, 'reading README.md'), line('a2', 'queued', 0)]);
    view.finish([line('a1', 'done', 4), line('a2', 'running', 1, 'searching the web for x')]);
    assert.equal(writes.length, 2);
    assert.doesNotMatch(writes[0]!, /\x1b\[\d+A/, 'the first frame moves nothing');
    assert.match(writes[1]!, /^\x1b\[2A/, 'the second frame starts two lines up');
    const frame = writes[1]!.split('\n');
    assert.match(frame[0]!, /\r\x1b\[2K✓ a1 █{12} {2}4\/10 Question a1\? — done$/);
    assert.match(frame[1]!, /\r\x1b\[2K› a2 █░{11} {2}1\/10 Question a2\? — searching the web for x$/);
  });

  it('a bar never wraps: the question gives way first', () => {
    const long: AgentLine = {
      ...line('a1', 'running', 5, 'reading daemon/llm/models.ts'),
      question: 'Why '.repeat(50),
      tokens: 12_345,
      costUsd: 0.0123,
    };
    const wide = formatBar(long, 100);
    assert.ok(wide.length <= 100, `${wide.length}: ${wide}`);
    assert.match(wide, /Why Why .*… — reading daemon\/llm\/models\.ts · 12\.3k tokens · \$0\.0123$/);
    // Narrower still: the question keeps a few words, then the tail is cut too.
    const narrow = formatBar(long, 60);
    assert.equal(narrow.length, 60, narrow);
    assert.match(narrow, /Why Why Why… — reading daemon.*…$/);
  });

  it('the line view writes one line per change of state', () => {
    const writes: string[] = [];
    const view = new LineView({ write: (text) => writes.push(text) });
    const agent = line('a1', 'queued', 0);
    view.update([agent], agent);
    agent.status = 'running';
    view.update([agent], agent);
    agent.message = 'reading x';
    view.update([agent], agent);
    agent.status = 'failed';
    agent.message = 'rate limited by the server';
    view.update([agent], agent);
    assert.deepEqual(writes, [
      'research a1 queued: Question a1?\n',
      'research a1 running: Question a1?\n',
      'research a1 failed: Question a1? (0/10 steps, rate limited by the server)\n',
    ]);
  });
});
