import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../protocol/index.ts';
import { ID_SCAN_BYTES, decodeFrame, leadingId } from './frames.ts';

const id = (text: string) => leadingId(Buffer.from(text));

describe('leadingId: the id of a message too large to parse', () => {
  it('reads a top-level id from the head, wherever it is among the keys before the large part', () => {
    assert.equal(id('{"jsonrpc":"2.0","id":7,"method":"goal.create","params":{"spec":"xxxx'), 7);
    assert.equal(id('{"id":"abc","jsonrpc":"2.0"'), 'abc');
    assert.equal(id(' \n{ "jsonrpc" : "2.0" , "method" : "goal.list", "id" : -3 , "params": ['), -3);
    assert.equal(
      id('{"jsonrpc":"2.0","method":"x","small":{"id":1,"a":[1,"}"]},"id":"r\\"1"'),
      'r"1',
      'nested ids and braces in strings are skipped',
    );
    assert.equal(id('{"jsonrpc":"2.0","id":"é😀"'), 'é😀');
  });

  it('returns null when the id is not there, not readable, or not a valid id', () => {
    assert.equal(id('{"jsonrpc":"2.0","method":"goal.create","params":{"spec":"xxxx'), null, 'params first, id after');
    assert.equal(id('{"jsonrpc":"2.0","params":{"id":5}'), null, 'only a nested id');
    assert.equal(id('{"params":"has \\"id\\":5 inside","x":1'), null);
    assert.equal(id('{"id":1.5,'), null);
    assert.equal(id('{"id":9007199254740993,'), null, 'not a safe integer');
    assert.equal(id(`{"id":"${'x'.repeat(129)}",`), null, 'longer than an id may be');
    assert.equal(id('{"id":{"a":1},'), null);
    assert.equal(id('{"id":12'), null, 'cut off: the number may go on');
    assert.equal(id('[{"id":1}]'), null);
    assert.equal(id('not json'), null);
    assert.equal(id(''), null);
  });

  it('looks no further than its scan window', () => {
    const padded = `{"jsonrpc":"2.0","method":"m","pad":"${'p'.repeat(ID_SCAN_BYTES)}","id":5}`;
    assert.equal(id(padded), null);
    assert.equal(leadingId(Buffer.from(padded), padded.length), 5);
  });

  it('decodeFrame answers a too-large message with its id', () => {
    const data = Buffer.from(
      JSON.stringify({ jsonrpc: '2.0', id: 'big', method: 'goal.create', params: { title: 't', spec: 'x'.repeat(2000) } }),
    );
    const frame = decodeFrame(data, false, 1000);
    assert.deepEqual(frame, {
      kind: 'error',
      id: 'big',
      error: { code: ErrorCode.MessageTooLarge, message: `message of ${data.length} bytes is over the limit of 1000 bytes` },
    });
    assert.equal((decodeFrame(data, true, 1000) as { id: unknown }).id, null, 'a binary frame is no request');
  });

  it('decodeFrame: params past the bounds are the method’s InvalidParams; a notification gets no answer whatever its params', () => {
    const deep = `${'['.repeat(100)}${']'.repeat(100)}`;
    assert.deepEqual(decodeFrame(Buffer.from(`{"jsonrpc":"2.0","id":4,"method":"goal.list","params":${deep}}`), false, 1e6), {
      kind: 'error',
      id: 4,
      error: { code: ErrorCode.InvalidParams, message: 'invalid params for goal.list: nested deeper than 32 levels' },
    });
    assert.equal(
      (decodeFrame(Buffer.from(`{"jsonrpc":"2.0","id":4,"method":"nope","params":${deep}}`), false, 1e6) as { error: { code: number } })
        .error.code,
      ErrorCode.MethodNotFound,
    );
    assert.deepEqual(decodeFrame(Buffer.from(`{"jsonrpc":"2.0","method":"goal.list","params":${deep}}`), false, 1e6), {
      kind: 'notification',
    });
  });
});
