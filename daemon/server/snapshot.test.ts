/** The config's client settings: in the snapshot, and again with every config.changed, to every attached client. */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { ClientSettings, EventData, EventEnvelope } from '../../protocol/index.ts';
import { defer, startTestDaemon } from '../../test/helpers/daemon.ts';
import { makeTempRepo } from '../../test/helpers/repo.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { DEFAULT_MODEL } from '../config/schema.ts';

const writeConfig = (repoRoot: string, text: string) => writeFile(path.join(repoRoot, 'ralph.config.ts'), text);

test('the snapshot carries the settings of ralph.config.ts; an edit reaches every attached client as config.changed', async (t) => {
  const repoRoot = await makeTempRepo(undefined, {
    'ralph.config.ts': "export default { chat: { model: 'gpt-5.5' }, tui: { keys: { goalNew: 'a' } }, executor: { maxIterations: 7 } };\n",
  });
  defer(t, () => rm(repoRoot, { recursive: true, force: true }));
  // No RALPH_MODEL from the machine running the tests: the model comes from the file.
  const { connect } = await startTestDaemon(t, repoRoot, { env: {}, configWatch: true });
  const first = await connect('tui');
  const second = await connect('tui');
  const expected: ClientSettings = { chatModel: 'gpt-5.5', tuiKeys: { goalNew: 'a' }, maxIterations: 7 };
  assert.deepEqual(first.snapshot.settings, expected);
  assert.deepEqual(second.snapshot.settings, expected);

  const changes = (events: EventEnvelope[]) =>
    events.flatMap((event): EventData<'config.changed'>[] => (event.type === 'config.changed' ? [event.data] : []));
  const firstEvents: EventEnvelope[] = [];
  const secondEvents: EventEnvelope[] = [];
  first.on('event', (event) => firstEvents.push(event));
  second.on('event', (event) => secondEvents.push(event));

  await writeConfig(repoRoot, "export default { tui: { keys: { goalQueue: 'a', quit: 'ctrl+q' } }, executor: { maxIterations: 12 } };\n");
  const reloaded: ClientSettings = { chatModel: DEFAULT_MODEL, tuiKeys: { goalQueue: 'a', quit: 'ctrl+q' }, maxIterations: 12 };
  for (const events of [firstEvents, secondEvents]) {
    const change = await waitFor(() => changes(events).at(-1), { message: 'config.changed after the edit' });
    assert.deepEqual(change.settings, reloaded);
    assert.equal(change.error, null);
  }

  // A file that no longer validates: the error, with the last good settings still in force.
  await writeConfig(repoRoot, "export default { executor: { maxIterations: 'many' } };\n");
  const failed = await waitFor(() => changes(firstEvents).find((change) => change.error !== null), {
    message: 'config.changed with the error',
  });
  assert.match(failed.error ?? '', /executor\.maxIterations/);
  assert.deepEqual(failed.settings, reloaded);

  // A client attaching now gets the settings in force in its snapshot.
  const late = await connect('tui');
  assert.deepEqual(late.snapshot.settings, reloaded);
});

test('RALPH_MODEL overrides the chat model the clients are told about', async (t) => {
  const { connect } = await startTestDaemon(t, undefined, { env: { RALPH_MODEL: 'local-llama' } });
  const client = await connect('tui');
  assert.deepEqual(client.snapshot.settings, { chatModel: 'local-llama', tuiKeys: {}, maxIterations: 50 });
});
