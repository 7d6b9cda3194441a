import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBus } from './bus.ts';
import { ProgressTracker } from './progress-tracker.ts';

test('the tracker holds what is in progress: begin adds, reports merge, end removes', () => {
  const bus = new EventBus();
  const tracker = new ProgressTracker(bus);
  bus.publish('progress.begin', { token: 'run', kind: 'research', title: 'Research: 2 questions' });
  bus.publish('progress.begin', { token: 'a1', kind: 'research-agent', title: 'Which models?', total: 20, parent: 'run' });
  bus.publish('progress.report', { token: 'a1', done: 3, message: 'reading daemon/llm/models.ts', tokens: 1200 });
  bus.publish('progress.report', { token: 'a1', done: 4 });
  bus.publish('progress.report', { token: 'unknown', done: 1 });
  const [run, agent] = tracker.active();
  assert.equal(run?.token, 'run');
  assert.deepEqual(
    { ...agent, startedAt: undefined },
    {
      token: 'a1',
      kind: 'research-agent',
      title: 'Which models?',
      total: 20,
      parent: 'run',
      done: 4,
      message: 'reading daemon/llm/models.ts',
      tokens: 1200,
      startedAt: undefined,
    },
  );
  bus.publish('progress.end', { token: 'a1', outcome: 'done' });
  assert.deepEqual(
    tracker.active().map((unit) => unit.token),
    ['run'],
  );
  tracker.close();
  bus.publish('progress.end', { token: 'run', outcome: 'done' });
  assert.equal(tracker.active().length, 1, 'a closed tracker no longer follows the bus');
});
