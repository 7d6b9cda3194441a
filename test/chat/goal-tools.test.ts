/**
 * The chat agent's goal tools over a real goal store in a temporary folder: create_goal writes a
 * draft or a queued goal with its links, list_goals lists every goal compactly.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { Goal } from '../../protocol/index.ts';
import type { ChatTurn } from '../../daemon/chat/chat-turn.ts';
import { createGoalTool, listGoalsTool, missingSpecSections } from '../../daemon/chat/goal-tools.ts';
import { storeFixture } from '../helpers/store.ts';
import { runTool, type Tool } from '../../daemon/tools/tool.ts';
import { waitFor } from '../helpers/wait.ts';

const SPEC = [
  '## Objective',
  'Support the new models.',
  '## Reference',
  '- daemon/llm/models.ts',
  '## Outcomes',
  '- rows added',
  '## Acceptance',
  '- npm test passes',
  '',
].join('\n');

/** A turn of session `session` whose last research run is `research` (what the chat service would say). */
function turnOf(session: string, research?: string): ChatTurn {
  return {
    session,
    cause: { client: 'c1', request: 7 },
    lastResearchRun: () => research,
    showResearchRun: () => {},
    whenAnswered: () => {},
  };
}

function call(tool: Tool, args: unknown, root: string) {
  return runTool(tool, JSON.stringify(args), { root, signal: new AbortController().signal });
}

describe('create_goal', () => {
  it('writes a draft linked to the session and its last research run; queue: true writes it queued', async (t) => {
    const fixture = await storeFixture(t);
    const store = await fixture.open();

    const draft = await call(
      createGoalTool(store, turnOf('2026-11-26-1', 'r-20261126-100501-ab12')),
      { title: 'Support the new models', spec: SPEC },
      fixture.repoRoot,
    );
    assert.equal(draft.isError, undefined, draft.output);
    assert.deepEqual(JSON.parse(draft.output), { id: 1, state: 'draft', title: 'Support the new models' });
    assert.equal(draft.summary, 'created goal #1 (draft): Support the new models');
    const onDisk = Goal.parse(JSON.parse(await readFile(store.fileOf(1), 'utf8')));
    assert.equal(onDisk.state, 'draft');
    assert.equal(onDisk.spec, SPEC);
    assert.deepEqual(onDisk.links, { research: 'r-20261126-100501-ab12', chat: '2026-11-26-1' });
    // The event names the request that caused the turn.
    const created = fixture.events.find((event) => event.type === 'goal.created');
    assert.deepEqual(created?.cause, { client: 'c1', request: 7 });

    const queued = await call(
      createGoalTool(store, turnOf('2026-11-26-1')),
      { title: 'Run it now', spec: SPEC, queue: true },
      fixture.repoRoot,
    );
    assert.deepEqual(JSON.parse(queued.output), { id: 2, state: 'queued', title: 'Run it now' });
    assert.equal(store.get(2)?.state, 'queued');
    assert.deepEqual(store.get(2)?.links, { chat: '2026-11-26-1' }, 'no research run: no research link');

    const explicitDraft = await call(
      createGoalTool(store, turnOf('2026-11-26-1')),
      { title: 'Later', spec: SPEC, queue: false },
      fixture.repoRoot,
    );
    assert.equal(JSON.parse(explicitDraft.output).state, 'draft');
  });

  it('refuses a spec without the four sections, or a bad title, and writes nothing', async (t) => {
    const fixture = await storeFixture(t);
    const store = await fixture.open();
    const tool = createGoalTool(store, turnOf('2026-11-26-1'));

    const noSections = await call(tool, { title: 'Vague', spec: 'Make the models better.' }, fixture.repoRoot);
    assert.equal(noSections.isError, true);
    assert.match(noSections.output, /lacks the sections ## Objective, ## Reference, ## Outcomes, ## Acceptance/);
    const blankTitle = await call(tool, { title: '   ', spec: SPEC }, fixture.repoRoot);
    assert.equal(blankTitle.isError, true);
    assert.match(blankTitle.output, /invalid arguments/);
    const noSpec = await call(tool, { title: 'No spec' }, fixture.repoRoot);
    assert.equal(noSpec.isError, true);
    assert.deepEqual(store.list(), []);
  });

  it('knows a section heading wherever it is, and only as a heading', () => {
    assert.deepEqual(missingSpecSections(SPEC), []);
    assert.deepEqual(missingSpecSections('## objective\n##  Reference: files\n## Outcomes\n'), ['Acceptance']);
    assert.deepEqual(missingSpecSections('The Objective, Reference, Outcomes and Acceptance.\n### Acceptance'), [
      'Objective',
      'Reference',
      'Outcomes',
      'Acceptance',
    ]);
  });
});

describe('list_goals', () => {
  it('lists id, state and title of every goal, invalid files included, by id', async (t) => {
    const fixture = await storeFixture(t);
    const store = await fixture.open();
    const tool = listGoalsTool(store);

    const empty = await call(tool, {}, fixture.repoRoot);
    assert.equal(empty.output, 'There are no goals yet.');

    await store.create({ title: 'First', spec: SPEC });
    await store.create({ title: 'Second', spec: SPEC, queue: true });
    await store.create({ title: 'Third', spec: SPEC });
    await writeFile(store.fileOf(3), '{ not json');
    await waitFor(() => store.invalid().length === 1, { message: 'goal 3 to be seen as invalid' });

    const listed = await call(tool, {}, fixture.repoRoot);
    const lines = listed.output.split('\n');
    assert.deepEqual(lines.slice(0, 2), ['#1 draft: First', '#2 queued: Second']);
    assert.match(lines[2] ?? '', /^#3 invalid: /);
    assert.equal(lines.length, 3);
    assert.equal(listed.summary, '2 goals, 1 invalid');
  });
});
