import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentInfo } from '../../../protocol/index.ts';
import { makeGoal } from '../../../test/helpers/tui/fixtures.ts';
import { openAgentPicker, pickedAgent, reduceAgentPicker } from './agent-picker.ts';

function agent(name: string, installed = true): AgentInfo {
  return { name, displayName: name, installed, version: null, path: null, auth: '', install: null, problem: null };
}

const AGENTS = [agent('ralph'), agent('claude'), agent('codex', false)];

describe('the agent picker', () => {
  it("offers the config's default first, then every backend, the cursor on the goal's own", () => {
    const picker = openAgentPicker({ ...makeGoal(3, 'stuck'), agent: 'claude' }, AGENTS, 'ralph');
    assert.deepEqual(picker.choices, [
      { name: null, label: 'default (ralph)', installed: true },
      { name: 'ralph', label: 'ralph', installed: true },
      { name: 'claude', label: 'claude', installed: true },
      { name: 'codex', label: 'codex', installed: false },
    ]);
    assert.equal(picker.goalId, 3);
    assert.equal(picker.index, 2);
    assert.equal(openAgentPicker(makeGoal(4, 'draft'), AGENTS, 'codex').index, 0, 'a goal with none of its own: the default');
  });

  it('keeps a name the daemon does not list as a choice, so the cursor shows it', () => {
    const picker = openAgentPicker({ ...makeGoal(5), agent: 'my-cli' }, AGENTS, 'ralph');
    assert.deepEqual(picker.choices.at(-1), { name: 'my-cli', label: 'my-cli', installed: false });
    assert.equal(picker.index, picker.choices.length - 1);
  });

  it('moves around in a ring and does not change what it was given', () => {
    const picker = openAgentPicker(makeGoal(6), AGENTS, 'ralph');
    const frozen = structuredClone(picker);
    assert.equal(reduceAgentPicker(picker, { kind: 'move', step: -1 }).index, 3, 'back from the first: the last');
    const down = reduceAgentPicker(reduceAgentPicker(picker, { kind: 'move', step: 1 }), { kind: 'move', step: 1 });
    assert.equal(down.index, 2);
    assert.equal(reduceAgentPicker({ ...picker, index: 3 }, { kind: 'move', step: 1 }).index, 0);
    assert.deepEqual(picker, frozen);
  });

  it("picks the name under the cursor, null for the default, nothing when it is the goal's already", () => {
    const own = openAgentPicker({ ...makeGoal(7), agent: 'claude' }, AGENTS, 'ralph');
    assert.equal(pickedAgent(own), undefined, 'unchanged');
    assert.equal(pickedAgent(reduceAgentPicker(own, { kind: 'move', step: 1 })), 'codex');
    assert.equal(pickedAgent({ ...own, index: 0 }), null, 'back to the default');
    assert.equal(pickedAgent(openAgentPicker(makeGoal(8), AGENTS, 'ralph')), undefined, 'the default, already');
  });
});
