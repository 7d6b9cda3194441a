/**
 * Choosing a goal's agent backend on the command line (`goal add --agent`, shown by `goal show` and
 * `goal list`) and `ralph agents`, end to end: real `tui/bin/ralph.js` processes in a temporary git
 * repository against the real daemon the first command starts. Plus the agents table on its own.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentInfo, Goal } from '../../protocol/index.ts';
import { agentTable } from '../../tui/cli/agents-command.ts';
import { cliEnv, failedWith, killDaemon, ralph as runRalph, succeeded, type Run } from '../helpers/cli.ts';
import { makeTempDir, makeTempRepo } from '../helpers/repo.ts';

/** The daemon's pipeline is paused: these steps are about choosing, not running. */
const ENV = cliEnv({ RALPH_PIPELINE: 'paused', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });

describe('choosing the agent backend on the command line', () => {
  let repo = '';
  const ralph = (args: string[]): Promise<Run> => runRalph(args, { cwd: repo, env: ENV });

  before(async () => {
    repo = await makeTempRepo(undefined);
  });

  after(async () => {
    await killDaemon(repo);
    await rm(repo, { recursive: true, force: true });
  });

  it('an --agent that is no agent name exits 2 with one line, before any daemon starts', async () => {
    failedWith(
      await ralph(['goal', 'add', '--title', 'T', '--agent', 'Claude Code']),
      2,
      /--agent 'Claude Code' is no agent name \(ralph, claude, codex, opencode, gemini; see `ralph agents`\)/,
    );
    failedWith(await ralph(['goal', 'add', '--title', 'T', '--agent', '../codex']), 2, /is no agent name/);
    failedWith(await ralph(['goal', 'add', '--title', 'T', '--agent']), 2, /--agent needs a value/);
    assert.equal(existsSync(path.join(repo, '.ralph', 'daemon.json')), false, 'no daemon was started');
  });

  it('goal add --agent codex: the goal file, show, list and --json carry it; a goal without one shows the default', async () => {
    const added = JSON.parse(succeeded(await ralph(['goal', 'add', '--title', 'With Codex', '--agent', 'codex', '--json']))) as Goal;
    assert.equal(added.agent, 'codex');
    assert.equal(JSON.parse(await readFile(path.join(repo, '.ralph', 'goals', `${added.id}.json`), 'utf8')).agent, 'codex');
    const plain = succeeded(await ralph(['goal', 'add', '--title', 'Plain']));

    const shown = succeeded(await ralph(['goal', 'show', String(added.id)]));
    assert.match(shown, /^agent +codex$/m);
    assert.match(succeeded(await ralph(['goal', 'show', plain.trim()])), /^agent +the default \(executor\.agent in ralph\.config\.ts\)$/m);
    assert.equal((JSON.parse(succeeded(await ralph(['goal', 'show', String(added.id), '--json']))) as Goal).agent, 'codex');

    const table = succeeded(await ralph(['goal', 'list'])).split('\n');
    assert.match(table[0] ?? '', /^ID +STATE +AGENT +TITLE +UPDATED$/);
    assert.ok(
      table.some((line) => /^#1 +draft +codex +With Codex +/.test(line)),
      table.join('\n'),
    );
    assert.ok(
      table.some((line) => /^#2 +draft +Plain +/.test(line)),
      'a goal without its own agent has a blank cell',
    );
    const listed = JSON.parse(succeeded(await ralph(['goal', 'list', '--json']))) as Goal[];
    assert.deepEqual(
      listed.map((goal) => goal.agent),
      ['codex', undefined],
    );
  });

  it('an agent name the daemon does not know exits 2, naming the ones it does', async () => {
    failedWith(
      await ralph(['goal', 'add', '--title', 'Typo', '--agent', 'claud']),
      2,
      /unknown agent 'claud' \(agents: ralph, claude, codex, opencode, gemini/,
    );
    const listed = JSON.parse(succeeded(await ralph(['goal', 'list', '--json']))) as Goal[];
    assert.equal(listed.length, 2, 'no goal was created');
  });

  it("ralph agents: Ralph's own agent, installed, the default marked; --json is {agents, default}", async () => {
    const answer = JSON.parse(succeeded(await ralph(['agents', '--json']))) as { agents: AgentInfo[]; default: string };
    assert.equal(answer.default, 'ralph');
    assert.deepEqual(
      { ...answer.agents[0], auth: undefined },
      {
        name: 'ralph',
        displayName: 'Ralph',
        installed: true,
        version: answer.agents[0]?.version,
        path: null,
        auth: undefined,
        install: null,
        problem: null,
      },
    );
    assert.match(answer.agents[0]?.auth ?? '', /^the model provider: OPENAI_API_KEY not set, http:\/\/127\.0\.0\.1:9\/v1/);

    const text = succeeded(await ralph(['agents', '--refresh']));
    assert.match(text, /^ +NAME +AGENT +INSTALLED +VERSION +AUTH$/m);
    assert.match(text, /^\* +ralph +Ralph +yes +\S+ +the model provider: /m);
    assert.match(text, /^\* runs goals that name no agent \(executor\.agent in ralph\.config\.ts\)/m);
  });

  it('ralph --help lists the agents command and goal add --help the --agent option', async () => {
    assert.match(succeeded(await ralph(['--help'])), /^ {2}agents +the agent backends a goal may run with/m);
    assert.match(
      succeeded(await ralph(['goal', 'add', '--help'])),
      /--agent NAME +the agent that runs it: ralph, claude, codex, opencode, gemini/,
    );
  });
});

describe("ralph agents finds the agent CLIs on the daemon's PATH", () => {
  let repo = '';
  let bin = '';
  let env: NodeJS.ProcessEnv = {};

  before(async () => {
    repo = await makeTempRepo(undefined, {
      // Codex at a path of the config's: found there, not on PATH.
      'ralph.config.ts': "export default { executor: { agent: 'claude', agents: { codex: { path: 'tools/codex-dev' } } } };\n",
    });
    bin = await makeTempDir(undefined, 'ralph-agent-bin-');
    const write = async (file: string, body: string) => {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, `#!/bin/sh\n${body}\n`);
      await chmod(file, 0o755);
    };
    await write(path.join(bin, 'claude'), "echo '2.0.30 (Claude Code)'");
    await write(path.join(bin, 'gemini'), 'echo broken >&2; exit 1');
    await write(path.join(repo, 'tools', 'codex-dev'), "echo 'codex-cli 0.50.0'");
    // Only this folder and the system's: no CLI a developer installed is found instead.
    env = { ...ENV, PATH: [bin, path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter) };
  });

  after(async () => {
    await killDaemon(repo);
    await rm(repo, { recursive: true, force: true });
    await rm(bin, { recursive: true, force: true });
  });

  it('lists each as found: installed with its version, at the configured path, missing with how to install it; the default marked', async () => {
    const run = await runRalph(['agents', '--json'], { cwd: repo, env });
    const answer = JSON.parse(succeeded(run)) as { agents: AgentInfo[]; default: string };
    assert.equal(answer.default, 'claude');
    const byName = new Map(answer.agents.map((agent) => [agent.name, agent]));
    assert.deepEqual([...byName.keys()].sort(), ['claude', 'codex', 'gemini', 'opencode', 'ralph']);
    assert.deepEqual(
      [byName.get('claude')?.installed, byName.get('claude')?.version, byName.get('claude')?.path],
      [true, '2.0.30 (Claude Code)', path.join(bin, 'claude')],
    );
    assert.deepEqual(
      [byName.get('codex')?.version, byName.get('codex')?.path],
      ['codex-cli 0.50.0', path.join(repo, 'tools', 'codex-dev')],
    );
    assert.deepEqual([byName.get('gemini')?.installed, byName.get('gemini')?.version], [true, null]);
    assert.match(byName.get('gemini')?.problem ?? '', /--version` failed: broken/);
    assert.equal(byName.get('opencode')?.installed, false);
    assert.match(byName.get('opencode')?.problem ?? '', /opencode is not installed \(not on PATH\): .*install/);

    const text = succeeded(await runRalph(['agents'], { cwd: repo, env }));
    assert.match(text, /^\* +claude +Claude Code +yes +2\.0\.30 \(Claude Code\) +/m);
    assert.match(text, /^ +opencode +\S.* +no +— +/m);
    assert.match(text, /^opencode: opencode is not installed/m);
  });
});

describe('the agents table', () => {
  const ralphAgent: AgentInfo = {
    name: 'ralph',
    displayName: 'Ralph',
    installed: true,
    version: '0.1.0',
    path: null,
    auth: 'the model provider',
    install: null,
    problem: null,
  };
  const claude: AgentInfo = {
    name: 'claude',
    displayName: 'Claude Code',
    installed: false,
    version: null,
    path: null,
    auth: 'ANTHROPIC_API_KEY or `claude login`',
    install: 'npm install -g @anthropic-ai/claude-code',
    problem: 'claude is not installed (not on PATH): npm install -g @anthropic-ai/claude-code',
  };

  it('marks the default, shows a missing version as —, and says what is wrong with each that cannot run', () => {
    const lines = agentTable([ralphAgent, claude], 'claude');
    assert.match(lines[1] ?? '', /^ +ralph +Ralph +yes +0\.1\.0 +the model provider$/);
    assert.match(lines[2] ?? '', /^\* +claude +Claude Code +no +— +ANTHROPIC_API_KEY or `claude login`$/);
    assert.ok(lines.includes('claude: claude is not installed (not on PATH): npm install -g @anthropic-ai/claude-code'));
  });

  it("names a default it does not list, and keeps a CLI's version line to one clean line", () => {
    const lines = agentTable([{ ...ralphAgent, version: '1.0\u001b[2J\nsecond line' }], 'command');
    assert.ok(lines.every((line) => !line.includes('\u001b')));
    assert.match(lines[1] ?? '', /^ +ralph +Ralph +yes +1\.0 ?\[2J second line +the model provider$/);
    assert.ok(lines.includes("Goals that name no agent run with 'command' (executor.agent in ralph.config.ts)."));
  });
});
