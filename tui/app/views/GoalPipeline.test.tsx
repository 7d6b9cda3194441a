import assert from 'node:assert/strict';
import { test } from 'node:test';
import { render } from 'ink-testing-library';
import type { Goal } from '../../../protocol/index.ts';
import { makeGoal, makeSnapshot } from '../../../test/helpers/tui/fixtures.ts';
import { initialViewState } from '../state/view-state.ts';
import { GoalPipeline } from './GoalPipeline.tsx';
import { goalMeta } from './pipeline-lines.ts';
import { displayWidth } from './text.ts';

function frameOf(goals: Goal[], { selectedId = null as number | null, width = 60, height = 20 } = {}): string[] {
  const groups = [...new Set(goals.map((goal) => goal.state))].map((state) => ({
    state,
    goals: goals.filter((goal) => goal.state === state),
  }));
  const { lastFrame, unmount } = render(
    <GoalPipeline groups={groups} invalid={[]} selectedId={selectedId} width={width} height={height} />,
  );
  const lines = (lastFrame() ?? '').split('\n').map((line) => line.trimEnd());
  unmount();
  return lines;
}

test('rows are "#id  title  state", the selected one marked, states in one column', () => {
  const lines = frameOf([makeGoal(3, 'queued', 'Short'), makeGoal(12, 'queued', 'A somewhat longer title')], { selectedId: 12 });
  assert.equal(lines[0], 'Queued (2)');
  assert.match(lines[1] ?? '', /^ {2}#3 {3}Short +queued$/);
  assert.match(lines[2] ?? '', /^› #12 {2}A somewhat longer title +queued$/);
  const column = (line: string | undefined, text: string) => line?.indexOf(text);
  assert.equal(column(lines[1], 'Short'), column(lines[2], 'A somewhat'), 'titles in one column');
  assert.equal(column(lines[1], 'queued'), column(lines[2], 'queued'), 'states in one column');
});

test('a title is cut to the width, never wrapped', () => {
  const lines = frameOf([makeGoal(1, 'draft', 'word '.repeat(40).trim())], { width: 40 });
  assert.equal(lines.length, 2);
  assert.ok((lines[1] ?? '').length <= 40);
  assert.match(lines[1] ?? '', /^ {2}#1 {2}word word.*… {2}draft$/);
});

test('control characters in a title do not reach the terminal', () => {
  const lines = frameOf([makeGoal(1, 'draft', 'clear\u001b[2Jscreen\nand more')]);
  assert.ok(lines.every((line) => !line.includes('\u001b')));
  assert.match(lines[1] ?? '', /#1 {2}clear \[2Jscreen and more/);
});

test('a pipeline taller than its height scrolls to the selected goal', () => {
  const goals = Array.from({ length: 30 }, (_, i) => makeGoal(i + 1, 'queued'));
  const lines = frameOf(goals, { selectedId: 20, height: 7 });
  assert.equal(lines.length, 7);
  assert.match(lines[0] ?? '', /↑ \d+ more/);
  assert.match(lines[6] ?? '', /↓ \d+ more/);
  assert.ok(lines.some((line) => line.startsWith('› #20 ')));
});

test("beside the title: the goal's own agent, the iteration, the cost and a warning mark, the state still in its column", () => {
  const goals = [makeGoal(1, 'running', 'Add a lock file'), makeGoal(2, 'queued', 'Watch')];
  const groups = [
    { state: 'running' as const, goals: [goals[0]!] },
    { state: 'queued' as const, goals: [goals[1]!] },
  ];
  const metaOf = (goal: Goal) => (goal.id === 1 ? { agent: 'codex', iteration: 'it 3/50', usage: '$0.12', warning: true } : null);
  const { lastFrame, unmount } = render(
    <GoalPipeline groups={groups} invalid={[]} selectedId={1} width={70} height={10} metaOf={metaOf} />,
  );
  const lines = (lastFrame() ?? '').split('\n').map((line) => line.trimEnd());
  unmount();
  assert.match(lines[1] ?? '', /^› #1 {2}Add a lock file +codex · it 3\/50 · \$0\.12 ⚠ {2}\S running$/);
  assert.match(lines[3] ?? '', /^ {2}#2 {2}Watch +queued$/);
  assert.equal((lines[1]?.indexOf('running') ?? 0) - 2, lines[3]?.indexOf('queued'), 'states start in one column (the spinner first)');
});

test('titles with emoji, CJK and combining marks are cut to the pane, the state column kept (80 columns)', () => {
  const titles = [
    'Ship it ✅ then ☕ and ⭐ the repo ❌ no more ⌛ waiting for the 👍🏽 from review team',
    '修复中文标题的宽度计算问题并且确保状态列对齐不会被挤出屏幕之外的所有情况',
    'Cafe\u0301 re\u0301sume\u0301 na\u0131\u0308ve '.repeat(4),
  ];
  const lines = frameOf(
    titles.map((title, i) => makeGoal(i + 1, 'queued', title)),
    { width: 80 },
  );
  for (const line of lines.slice(1)) {
    assert.ok(displayWidth(line) <= 80, `fits 80 columns: ${line}`);
    assert.match(line, /… {2}queued$/, `the state is still there: ${line}`);
  }
});

test('a goal held by the goal it comes after shows "waits for #1" and its priority beside the title', () => {
  const first = makeGoal(1, 'running', 'Build the base');
  const second = { ...makeGoal(2, 'queued', 'Build on it'), after: [1], priority: 3 };
  const state = initialViewState(makeSnapshot({ goals: [first, second] }), 'open');
  const groups = [
    { state: 'running' as const, goals: [first] },
    { state: 'queued' as const, goals: [second] },
  ];
  const { lastFrame, unmount } = render(
    <GoalPipeline groups={groups} invalid={[]} selectedId={2} width={70} height={10} metaOf={(goal) => goalMeta(goal, state, 50)} />,
  );
  const lines = (lastFrame() ?? '').split('\n').map((line) => line.trimEnd());
  unmount();
  assert.match(lines[3] ?? '', /^› #2 {2}Build on it +prio 3 · waits for #1 {2}queued$/);
});

test('a remote goal’s row names the worker running it, and still fits 80 columns', () => {
  const running = makeGoal(1, 'running', 'Runs remotely on another machine with a long title');
  const queue = { url: 'redis://q:6379', reachable: true, workers: [{ goalId: 1, worker: 'far-away' }] };
  const state = initialViewState({ ...makeSnapshot({ goals: [running] }), queue }, 'open');
  const { lastFrame, unmount } = render(
    <GoalPipeline
      groups={[{ state: 'running', goals: [running] }]}
      invalid={[]}
      selectedId={1}
      width={80}
      height={10}
      metaOf={(goal) => goalMeta(goal, state, 50)}
    />,
  );
  const lines = (lastFrame() ?? '').split('\n').map((line) => line.trimEnd());
  unmount();
  assert.ok(displayWidth(lines[1] ?? '') <= 80, lines[1]);
  assert.match(lines[1] ?? '', /^› #1 {2}Runs remotely.* {2}on far-away {2}\S running$/);
});
