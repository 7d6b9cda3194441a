import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventBus, DEFAULT_RESUME_BUFFER_BYTES } from './bus.ts';

/** A `progress.report` whose frame is about `size` bytes. */
function publishSized(bus: EventBus, size: number) {
  return bus.publish('progress.report', { token: 't', message: 'x'.repeat(size) });
}

const seqs = (events: { envelope: { seq: number } }[] | null) => events?.map((event) => event.envelope.seq) ?? null;

describe('EventBus resume buffer', () => {
  it('keeps at most maxBytes of frames: older events go, a resume from before them needs a snapshot', () => {
    const bus = new EventBus(10_000, undefined, 10_000);
    const sizes: number[] = [];
    for (let i = 0; i < 100; i++) sizes.push(Buffer.byteLength(publishSized(bus, 1000).frame));
    // The newest frames that fit in 10,000 bytes, counted independently.
    let keptCount = 0;
    for (let total = 0; total + sizes[sizes.length - 1 - keptCount]! <= 10_000; keptCount++) total += sizes[sizes.length - 1 - keptCount]!;
    assert.ok(keptCount >= 8, `${keptCount} kept`);
    assert.equal(
      bus.bufferedBytes,
      sizes.slice(-keptCount).reduce((sum, size) => sum + size, 0),
    );
    assert.ok(bus.bufferedBytes <= 10_000);
    // The newest are there, contiguous; one before them is not.
    assert.deepEqual(
      seqs(bus.since(100 - keptCount)),
      Array.from({ length: keptCount }, (_, i) => 101 - keptCount + i),
    );
    assert.equal(bus.since(99 - keptCount), null);
    assert.equal(bus.since(0), null);
    assert.deepEqual(bus.since(100), []);
  });

  it('counts bytes as sent (UTF-8), not characters', () => {
    const bus = new EventBus(10_000, undefined, 1_000_000);
    const event = bus.publish('progress.report', { token: 't', message: '€'.repeat(1000) });
    assert.equal(bus.bufferedBytes, Buffer.byteLength(event.frame));
    assert.ok(bus.bufferedBytes > 3000, 'three bytes per €');
  });

  it('a frame larger than the bound is sent but not kept, and takes what came before with it', () => {
    const bus = new EventBus(10_000, undefined, 10_000);
    const received: number[] = [];
    bus.subscribe((event) => received.push(event.envelope.seq));
    publishSized(bus, 100);
    publishSized(bus, 100);
    publishSized(bus, 50_000);
    assert.deepEqual(received, [1, 2, 3], 'every client still gets it');
    assert.equal(bus.bufferedBytes, 0);
    assert.equal(bus.since(2), null, 'missing it means a snapshot');
    assert.deepEqual(bus.since(3), []);
    publishSized(bus, 100);
    assert.deepEqual(seqs(bus.since(3)), [4]);
  });

  it('still keeps at most `capacity` events, and the byte count follows', () => {
    const bus = new EventBus(5, undefined, 1_000_000);
    for (let i = 0; i < 12; i++) publishSized(bus, 10);
    assert.deepEqual(seqs(bus.since(7)), [8, 9, 10, 11, 12]);
    assert.equal(bus.since(6), null);
    const oneFrame = Buffer.byteLength(publishSized(bus, 10).frame);
    assert.ok(Math.abs(bus.bufferedBytes - 5 * oneFrame) <= 10, `${bus.bufferedBytes} ≈ 5 frames of ${oneFrame}`);
  });

  it('defaults to 32 MiB', () => {
    assert.equal(new EventBus().maxBytes, DEFAULT_RESUME_BUFFER_BYTES);
    assert.equal(DEFAULT_RESUME_BUFFER_BYTES, 32 * 1024 * 1024);
  });
});
