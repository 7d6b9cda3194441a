import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { describeWait, errorLine, firstLine, formatBytes, formatSeconds, messageOf, oneLine, plural } from './text.ts';

describe('shared wording', () => {
  it('puts text on one line: line breaks, tabs and escapes become single spaces', () => {
    assert.equal(oneLine('  not a valid goal:\n  title: too long\r\n\tstate: bad  '), 'not a valid goal: title: too long state: bad');
    assert.equal(oneLine('a\u001b]0;pwned\u0007b'), 'a ]0;pwned b');
    assert.equal(oneLine('\n\n'), '');
  });

  it("says what was thrown: an Error's message, anything else as text", () => {
    assert.equal(messageOf(new RangeError('too deep')), 'too deep');
    assert.equal(messageOf('plain words'), 'plain words');
    assert.equal(messageOf(42), '42');
  });

  it("gives an error's first line, trimmed, bounded and never empty", () => {
    assert.equal(errorLine(new Error('  git failed: 128  \nfatal: not a git repository\n')), 'git failed: 128');
    assert.equal(errorLine(new Error('')), 'unknown error');
    assert.equal(errorLine(undefined), 'undefined');
    assert.equal(errorLine(new Error('x'.repeat(900))).length, 500);
    assert.equal(errorLine(new Error('x'.repeat(900)), 200).length, 200);
    // A cut never splits a surrogate pair.
    assert.equal(errorLine(new Error(`${'x'.repeat(199)}😀`), 200), 'x'.repeat(199));
  });

  it('says durations in tenths of a second below ten seconds, in whole seconds from there', () => {
    assert.equal(formatSeconds(0.2), '0.2 s');
    assert.equal(formatSeconds(0.04), '0 s');
    assert.equal(formatSeconds(2), '2 s');
    assert.equal(formatSeconds(9.54), '9.5 s');
    assert.equal(formatSeconds(12.34), '12 s');
    assert.equal(formatSeconds(300), '300 s');
  });

  it("says a model call's wait in words, with its time", () => {
    assert.equal(describeWait({ seconds: 2.54, reason: 'rate-limit' }), 'waiting 2.5 s: rate limited');
    assert.equal(describeWait({ seconds: 30, reason: 'server-error' }), 'waiting 30 s: the server had an error');
    assert.equal(describeWait({ seconds: 0, reason: 'stream-restart' }), 'waiting 0 s: restarting the stream');
  });

  it('says sizes in B, KiB and MiB, with a tenth only where it is not whole', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1024), '1 KiB');
    assert.equal(formatBytes(64 * 1024 + 100), '64.1 KiB');
    assert.equal(formatBytes(16 * 1024 * 1024), '16 MiB');
    assert.equal(formatBytes(2.5 * 1024 * 1024), '2.5 MiB');
  });

  it('counts things in words, with a plural of its own where it is not an s', () => {
    assert.equal(plural(1, 'goal'), '1 goal');
    assert.equal(plural(0, 'goal'), '0 goals');
    assert.equal(plural(3, 'invalid file'), '3 invalid files');
    assert.equal(plural(2, 'reply', 'replies'), '2 replies');
  });

  it('takes text up to its first line break', () => {
    assert.equal(firstLine('done: all green\nsecond line'), 'done: all green');
    assert.equal(firstLine('no break'), 'no break');
    assert.equal(firstLine('\nafter an empty first line'), '');
  });

  it('imports nothing at run time: the command line loads it before it knows which command runs', async () => {
    const source = await readFile(new URL('./text.ts', import.meta.url), 'utf8');
    const runtimeImports = source.split('\n').filter((line) => /^(import|export) .* from /.test(line) && !/^import type /.test(line));
    assert.deepEqual(runtimeImports, []);
  });
});
