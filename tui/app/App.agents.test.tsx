/** A goal's agent backend in the TUI: shown in its row, picked with A from the daemon's list, refused while it runs. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, RpcError, type AgentInfo, type Goal } from '../../protocol/index.ts';
import { FakeConnection, type RequestHandler } from '../../test/helpers/tui/fake-connection.ts';
import { makeEvent, makeGoal, makeSnapshot } from '../../test/helpers/tui/fixtures.ts';
import { KEYS, renderApp } from '../../test/helpers/tui/render-app.tsx';
import { eventually } from '../../test/helpers/tui/wait-for.ts';

function agent(name: string, installed: boolean): AgentInfo {
  return { name, displayName: name, installed, version: installed ? '1.0.0' : null, path: null, auth: '', install: null, problem: null };
}

const AGENTS = [agent('ralph', true), agent('claude', true), agent('codex', false)];

const GOALS: Goal[] = [makeGoal(1, 'running', 'Add a lock file'), { ...makeGoal(2, 'stuck', 'Watch the repo'), agent: 'codex' }];

/** Lists the agents, and answers goal.update with the goal as the daemon would have it. */
const daemonLike: RequestHandler = (method, params) => {
  if (method === 'agents.list') return { agents: AGENTS, default: 'ralph' };
  if (method === 'goal.update') {
    const { id, agent: chosen } = params as { id: number; agent: string | null };
    const { agent: _old, ...goal } = GOALS.find((candidate) => candidate.id === id)!;
    return { goal: chosen === null ? goal : { ...goal, agent: chosen } };
  }
  return undefined;
};

function agentsApp(t: Parameters<typeof renderApp>[0], handler = daemonLike) {
  const connection = new FakeConnection(makeSnapshot({ goals: GOALS }), handler);
  const app = renderApp(t, connection);
  app.resize(100, 24);
  return { connection, app };
}

async function selectStuckGoal(app: ReturnType<typeof renderApp>) {
  await app.press('j');
  await eventually(() => assert.match(app.frame(), /› #2 /));
}

describe("a goal's agent in the TUI", () => {
  test('the row of a goal with its own agent names it; one without shows none', async (t) => {
    const { app } = agentsApp(t);
    await eventually(() => assert.match(app.frame(), /#2 {2}Watch the repo +codex +stuck/));
    assert.doesNotMatch(app.frame(), /Add a lock file +(ralph|claude|codex)/);
  });

  test("A opens the picker on the goal's agent, the arrows move, Enter sets the choice with goal.update", async (t) => {
    const { connection, app } = agentsApp(t);
    await selectStuckGoal(app);
    await app.press('A');
    await eventually(() => assert.match(app.frame(), /Agent for #2: +default \(ralph\) +ralph +claude +codex \(missing\)/));
    assert.deepEqual(connection.actions(), [{ method: 'agents.list', params: {} }]);
    await app.press(KEYS.up);
    await app.press(KEYS.enter);
    await eventually(() => assert.deepEqual(connection.actions().at(-1), { method: 'goal.update', params: { id: 2, agent: 'claude' } }));
    await eventually(() => {
      assert.doesNotMatch(app.frame(), /Agent for #2/);
      assert.match(app.frame(), /• #2 runs with claude/);
    });
    // The row follows the daemon's event, as every client's does.
    connection.pushEvent(makeEvent(1, 'goal.updated', { goal: { ...GOALS[1]!, agent: 'claude' }, source: 'daemon' }));
    await eventually(() => assert.match(app.frame(), /#2 {2}Watch the repo +claude +stuck/));
  });

  test("the default is a choice: it clears the goal's own agent; Esc sets nothing", async (t) => {
    const { connection, app } = agentsApp(t);
    await selectStuckGoal(app);
    await app.press('A');
    await eventually(() => assert.match(app.frame(), /Agent for #2:/));
    await app.press(KEYS.escape);
    await eventually(() => assert.doesNotMatch(app.frame(), /Agent for #2:/));
    await app.press('A');
    await eventually(() => assert.match(app.frame(), /Agent for #2:/));
    await app.press(KEYS.down); // codex is the last: down goes round to the default
    await app.press(KEYS.enter);
    await eventually(() =>
      assert.deepEqual(
        connection.actions().filter((request) => request.method === 'goal.update'),
        [{ method: 'goal.update', params: { id: 2, agent: null } }],
      ),
    );
    await eventually(() => assert.match(app.frame(), /• #2 runs with the default agent/));
  });

  test('a running goal keeps its agent: A says why and asks the daemon nothing; a failed list says why', async (t) => {
    const failing: RequestHandler = (method, params) => {
      if (method === 'agents.list') throw new RpcError(ErrorCode.Unavailable, 'the daemon is stopping');
      return daemonLike(method, params);
    };
    const { connection, app } = agentsApp(t, failing);
    await eventually(() => assert.match(app.frame(), /› #1 /));
    await app.press('A');
    await eventually(() => assert.match(app.frame(), /• #1 is running: its agent can be changed once it is paused or stuck/));
    assert.deepEqual(connection.actions(), []);
    await selectStuckGoal(app);
    await app.press('A');
    await eventually(() => assert.match(app.frame(), /✗ could not list the agent backends: the daemon is stopping/));
    assert.doesNotMatch(app.frame(), /Agent for #2/);
  });
});
