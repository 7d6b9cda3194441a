/**
 * Text from goal files, logs and models may carry escape sequences meant for the terminal (retitle
 * it, clear it, write its clipboard). The real `ralph` command prints such text with every control
 * stripped but Ralph's own styles, with and without colors, and `--json` escapes them.
 */
import assert from 'node:assert/strict';
import { appendFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Goal, LogEntry } from '../../protocol/index.ts';
import { startFakeOpenAI, type FakeOpenAIServer } from '../fake-openai/index.ts';
import { cliEnv, killDaemon, ralph, succeeded } from '../helpers/cli.ts';
import { makeTempRepo } from '../helpers/repo.ts';

const ESC = '\u001b';
const BEL = '\u0007';
const RETITLE = `${ESC}]0;pwned${BEL}`;
const CLEAR = `${ESC}[2J${ESC}[H`;
const CLIPBOARD = `${ESC}]52;c;cm0gLXJmIH4=${BEL}`;
const HOSTILE_TITLE = `Fix ${RETITLE}the ${CLEAR}build\u009b2J`;
const HOSTILE_SPEC = `## Objective\n\nDo it ${CLIPBOARD}now\r\n${ESC}[8mhidden${ESC}[0m\n`;

/** Ralph's own styles (what node's styleText paints) are the only escape sequences allowed through. */
const OWN_SGR = /\u001b\[(?:(?:0|1|2|3|4|22|23|24|3[0-9]|9[0-7])(?:;(?:0|1|2|3|4|22|23|24|3[0-9]|9[0-7]))*)?m/g;

function assertTerminalSafe(text: string, what: string): void {
  const bare = text.replace(OWN_SGR, '');
  const control = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.exec(bare);
  assert.equal(
    control,
    null,
    `${what} holds control U+${control?.[0].charCodeAt(0).toString(16).padStart(4, '0')}: ${JSON.stringify(text)}`,
  );
}

describe('the command line never writes escape sequences from goals, logs or models', () => {
  let repo = '';
  let server: FakeOpenAIServer;
  let env: NodeJS.ProcessEnv;
  const colorEnv = (): NodeJS.ProcessEnv => {
    const { NO_COLOR: _noColor, ...colored } = env;
    return { ...colored, FORCE_COLOR: '1' };
  };

  before(async () => {
    repo = await makeTempRepo(undefined);
    server = await startFakeOpenAI();
    env = cliEnv({ OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', RALPH_API: 'chat', RALPH_PIPELINE: 'paused' });
    const added = await ralph(['goal', 'add', '--title', HOSTILE_TITLE, '--spec', HOSTILE_SPEC, '--repo', repo], { cwd: repo, env });
    assert.equal(succeeded(added), '1\n');
    // A log line as a hostile repository (or a command's output) could leave it.
    const entry: LogEntry = {
      goalId: 1,
      index: 9,
      time: new Date().toISOString(),
      kind: `tool${ESC}[2J`,
      text: `ran ${CLIPBOARD}ls\n${RETITLE}done`,
    };
    await appendFile(path.join(repo, '.ralph', 'logs', '1.jsonl'), `${JSON.stringify(entry)}\n`);
  });

  after(async () => {
    await killDaemon(repo);
    await server.close();
    await rm(repo, { recursive: true, force: true });
  });

  for (const colors of [false, true]) {
    it(`goal list, goal show and logs (${colors ? 'with' : 'without'} colors)`, async () => {
      const runEnv = colors ? colorEnv() : env;
      const list = succeeded(await ralph(['goal', 'list', '--repo', repo], { cwd: repo, env: runEnv }));
      assertTerminalSafe(list, 'goal list');
      assert.match(list, /#1\s+draft\s+Fix \]0;pwned the \[2J \[Hbuild 2J/);
      if (colors) assert.match(list, /\u001b\[1m/, 'the header is still bold');

      const show = succeeded(await ralph(['goal', 'show', '1', '--repo', repo], { cwd: repo, env: runEnv }));
      assertTerminalSafe(show, 'goal show');
      assert.match(show, /Do it \]52;c;cm0gLXJmIH4=now\n/);
      assert.match(show, /\[8mhidden\[0m/);

      const logs = succeeded(await ralph(['logs', '1', '--repo', repo], { cwd: repo, env: runEnv }));
      assertTerminalSafe(logs, 'logs');
      assert.match(logs, /tool \[2J\s+ran \]52;c;cm0gLXJmIH4=ls\n\s+\]0;pwneddone/);
    });
  }

  it('--json escapes every control and keeps the values', async () => {
    const raw = succeeded(await ralph(['goal', 'show', '1', '--json', '--repo', repo], { cwd: repo, env: colorEnv() }));
    assert.doesNotMatch(raw, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    const goal = JSON.parse(raw) as Goal;
    assert.equal(goal.title, HOSTILE_TITLE);
    assert.equal(goal.spec, HOSTILE_SPEC);

    const lines = succeeded(await ralph(['logs', '1', '--json', '--repo', repo], { cwd: repo, env }));
    assert.doesNotMatch(lines, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    assert.ok(
      lines
        .trim()
        .split('\n')
        .some((line) => (JSON.parse(line) as LogEntry).text.includes(CLIPBOARD)),
    );
  });

  it('chat streams a reply whose escape sequences are split across deltas', async () => {
    server.script({ deltas: ['Hi ', ESC, ']0;pwn', `ed${BEL} there`, `${ESC}[2`, 'J!\r', '\n'], deltaDelayMs: 1 });
    const run = await ralph(['chat', 'hello', '--repo', repo], { cwd: repo, env: colorEnv() });
    assert.equal(run.code, 0, run.stderr);
    assertTerminalSafe(run.stdout, 'chat');
    assert.equal(run.stdout, 'Hi ]0;pwned there[2J!\n');
  });
});
