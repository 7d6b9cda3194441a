/** Several real clients on one real daemon: the same events in the same order, resume after a drop, restarts. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { RalphClient } from '../../protocol/client.ts';
import type { ConnectionStatus } from '../../protocol/client.ts';
import type { EventEnvelope, Snapshot } from '../../protocol/index.ts';
import { dropConnection, startTestDaemon } from '../helpers/daemon.ts';
import { waitFor } from '../helpers/wait.ts';

/** Everything a client emits, recorded from the moment it connected. */
function record(client: RalphClient) {
  const events: EventEnvelope[] = [];
  const snapshots: Snapshot[] = [];
  const statuses: ConnectionStatus[] = [];
  client.on('event', (event) => events.push(event));
  client.on('snapshot', (snapshot) => snapshots.push(snapshot));
  client.on('status', (status) => statuses.push(status));
  return { events, snapshots, statuses, seqs: () => events.map((event) => event.seq) };
}

/** seqs strictly increasing by one: nothing missed, nothing twice. */
function assertContiguous(seqs: number[], from: number, to: number, what: string) {
  assert.deepEqual(
    seqs,
    Array.from({ length: to - from + 1 }, (_, i) => from + i),
    `${what}: seqs ${from}..${to} exactly once`,
  );
}

describe('daemon with several clients', () => {
  it('three clients see the same events in the same order, and each other attach', async (t) => {
    const { daemon, connect } = await startTestDaemon(t);
    const a = await connect('a');
    const aLog = record(a);
    const b = await connect('b');
    const bLog = record(b);
    const c = await connect('c');
    const cLog = record(c);
    assert.deepEqual(
      c.snapshot.clients.map((client) => client.name),
      ['a', 'b', 'c'],
      'the snapshot lists every attached client',
    );

    // a saw its own attach (the event came right behind its snapshot), then b's, then c's.
    await waitFor(() => aLog.events.filter((event) => event.type === 'clients.changed').length >= 3, { message: 'a sees b and c attach' });
    const attachments = aLog.events.flatMap((event) => (event.type === 'clients.changed' ? [event.data.clients.map((x) => x.name)] : []));
    assert.deepEqual(attachments, [['a'], ['a', 'b'], ['a', 'b', 'c']]);

    const { goal: first } = await a.request('goal.create', { title: 'First goal' });
    const { goal: second } = await a.request('goal.create', { title: 'Second goal', queue: true });
    await a.request('goal.queue', { id: first.id, note: 'go' });
    await a.request('goal.cancel', { id: second.id });
    await a.request('goal.update', { id: first.id, title: 'First goal, renamed' });
    daemon.bus.publish('progress.report', { token: 'x', message: 'from the daemon itself' });

    const last = daemon.bus.lastSeq;
    for (const log of [aLog, bLog, cLog]) await waitFor(() => log.seqs().at(-1) === last, { message: `every client reaches seq ${last}` });
    // Compare from c's start: c saw nothing before its snapshot.
    const from = c.snapshot.seq + 1;
    const view = (log: ReturnType<typeof record>) =>
      log.events.filter((event) => event.seq >= from).map((event) => `${event.seq} ${event.type}`);
    assert.deepEqual(view(bLog), view(aLog));
    assert.deepEqual(view(cLog), view(aLog));
    assertContiguous(cLog.seqs(), from, last, 'c');
    // Events caused by a request name it.
    const created = cLog.events.find((event) => event.type === 'goal.created');
    assert.equal(created?.cause?.client, a.clientId);
    assert.deepEqual(
      cLog.events
        .filter((event) => event.type === 'goal.updated')
        .map((event) => (event.type === 'goal.updated' ? event.data.transition?.action : '')),
      ['queue', 'cancel', undefined],
    );
  });

  it('a dropped client reconnects and gets exactly the events it missed', async (t) => {
    const { daemon, connect } = await startTestDaemon(t);
    const writer = await connect('writer');
    const reader = await connect('reader');
    const log = record(reader);
    await writer.request('goal.create', { title: 'Before the drop' });
    await waitFor(() => reader.lastSeq === daemon.bus.lastSeq, { message: 'reader up to date' });
    const epoch = reader.daemon.epoch;

    dropConnection(reader);
    // Published while the reader is gone (its socket is already destroyed).
    for (let i = 0; i < 20; i++) daemon.bus.publish('progress.report', { token: 'gap', message: `missed ${i}` });
    await writer.request('goal.create', { title: 'During the drop' });

    await waitFor(() => log.statuses.includes('reconnecting') && reader.status === 'open', { message: 'reader reconnects' });
    await writer.request('goal.create', { title: 'After the drop' });
    await waitFor(() => reader.lastSeq === daemon.bus.lastSeq, { message: 'reader catches up' });

    assert.deepEqual(log.snapshots, [], 'resumed, not a fresh snapshot');
    assert.equal(reader.daemon.epoch, epoch);
    const seqs = log.seqs();
    assertContiguous(seqs, seqs[0]!, daemon.bus.lastSeq, 'reader');
    assert.ok(seqs[0]! <= reader.snapshot.seq + 2, 'the reader had events from before the drop');
    assert.equal(log.events.filter((event) => event.type === 'progress.report').length, 20, 'every missed event, once');
  });

  it('a client that fell too far behind gets a fresh snapshot instead', async (t) => {
    const { daemon, connect } = await startTestDaemon(t, undefined, { eventBufferSize: 5 });
    const writer = await connect('writer');
    const reader = await connect('reader');
    const log = record(reader);
    await waitFor(() => reader.lastSeq === daemon.bus.lastSeq, { message: 'reader up to date' });
    const before = reader.lastSeq;

    dropConnection(reader);
    for (let i = 0; i < 20; i++) daemon.bus.publish('progress.report', { token: 'gap', message: `lost ${i}` });
    await writer.request('goal.create', { title: 'Made while the reader was away' });

    await waitFor(() => log.snapshots.length === 1, { message: 'a fresh snapshot' });
    const snapshot = log.snapshots[0]!;
    assert.ok(snapshot.seq > before + 20);
    assert.equal(reader.snapshot, snapshot, 'client.snapshot is the fresh one');
    // The reader may be back before the goal is written: then the goal comes as an event after the snapshot.
    await waitFor(() => reader.lastSeq === daemon.bus.lastSeq, { message: 'reader up to date again' });
    const created = log.events.filter((event) => event.seq > snapshot.seq && event.type === 'goal.created');
    const seen = [...snapshot.goals, ...created.map((event) => (event.type === 'goal.created' ? event.data.goal : null))];
    assert.deepEqual(
      seen.map((goal) => goal?.title),
      ['Made while the reader was away'],
      'the goal is seen exactly once',
    );
    // Whatever came after it arrives once and in order; nothing at or below the snapshot's seq.
    await writer.request('goal.create', { title: 'After' });
    await waitFor(() => reader.lastSeq === daemon.bus.lastSeq, { message: 'reader catches up' });
    const after = log.events.filter((event) => event.seq > before).map((event) => event.seq);
    assert.ok(after.every((seq) => seq > snapshot.seq));
    assertContiguous(after, after[0]!, daemon.bus.lastSeq, 'after the snapshot');
  });

  it('follows a restarted daemon to its new endpoint and takes a snapshot of the new epoch', async (t) => {
    const first = await startTestDaemon(t);
    const client = await first.connect('tui');
    const log = record(client);
    await client.request('goal.create', { title: 'Survives the restart', queue: true });
    const oldEpoch = client.daemon.epoch;
    const oldUrl = first.daemon.url;

    await first.daemon.stop('restart');
    await waitFor(() => log.events.some((event) => event.type === 'daemon.stopping'), { message: 'daemon.stopping seen' });
    await waitFor(() => client.status === 'reconnecting', { message: 'the client notices' });
    await assert.rejects(client.request('goal.list'), /not connected/);

    const second = await startTestDaemon(t, first.repoRoot);
    await waitFor(() => client.status === 'open', { timeoutMs: 10_000, message: 'reconnected to the new daemon' });
    assert.notEqual(second.daemon.url, oldUrl);
    assert.notEqual(client.daemon.epoch, oldEpoch);
    assert.equal(log.snapshots.length, 1);
    assert.deepEqual(
      log.snapshots[0]!.goals.map((goal) => [goal.title, goal.state]),
      [['Survives the restart', 'queued']],
    );
    const { goals } = await client.request('goal.list');
    assert.equal(goals.length, 1);
  });

  it("passes the developer's file changes on as repo.changed events", async (t) => {
    const { repoRoot, connect } = await startTestDaemon(t, undefined, { repoWatch: true });
    const client = await connect('tui');
    assert.equal(client.snapshot.repo.branch, 'main');
    assert.equal(client.snapshot.repo.root, repoRoot);
    const log = record(client);
    await writeFile(path.join(repoRoot, 'notes.md'), 'edited beside the editor\n');
    const change = await waitFor(() => log.events.find((event) => event.type === 'repo.changed'), { message: 'a repo.changed event' });
    assert.ok(change.type === 'repo.changed' && change.data.paths.includes('notes.md'));
  });

  it('rejects requests in flight when the connection drops, and does not retry them', async (t) => {
    const { connect } = await startTestDaemon(t);
    const client = await connect('tui');
    const pending = client.request('goal.list');
    dropConnection(client);
    await assert.rejects(pending, /connection to the daemon was lost/);
    await waitFor(() => client.status === 'open', { message: 'reconnected' });
    assert.deepEqual((await client.request('goal.list')).goals, []);
  });

  it('a one-shot client (reconnect: false) closes for good when the daemon stops', async (t) => {
    const { daemon, connect } = await startTestDaemon(t);
    const client = await connect('cli', { reconnect: false });
    const log = record(client);
    await daemon.stop('test');
    await waitFor(() => client.status === 'closed', { message: 'closed' });
    assert.deepEqual(log.statuses, ['closed']);
    await assert.rejects(client.request('goal.list'), /closed/);
  });
});
