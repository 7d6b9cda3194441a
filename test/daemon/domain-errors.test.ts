/**
 * The services refuse in domain terms (daemon/errors.ts) and the server alone turns a refusal into
 * a JSON-RPC error: through a real daemon and client, each kind reaches the client with the code,
 * the message and the data clients have always been given.
 */
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConflictError, InvalidInputError, NotFoundError, UnavailableError } from '../../daemon/errors.ts';
import { domainRpcError } from '../../daemon/server/server.ts';
import { RpcRequestError, type RalphClient } from '../../protocol/client.ts';
import { ErrorCode } from '../../protocol/index.ts';
import { defer, startTestDaemon } from '../helpers/daemon.ts';
import { makeTempRepo } from '../helpers/repo.ts';

/** The error a request is answered with; fails when it succeeds. */
async function refusal(request: Promise<unknown>): Promise<{ code: number; message: string; data?: unknown }> {
  try {
    await request;
  } catch (error) {
    assert.ok(error instanceof RpcRequestError, `expected a JSON-RPC error, got ${String(error)}`);
    return error.data === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, data: error.data };
  }
  assert.fail('expected the request to be refused');
}

describe('domain errors through a real daemon', () => {
  it('each refusal of the store, the chat, research and landing reaches the client with its code and message', async (t) => {
    const repo = await makeTempRepo(undefined);
    defer(t, () => rm(repo, { recursive: true, force: true }));
    await mkdir(path.join(repo, '.ralph', 'goals'), { recursive: true });
    await writeFile(path.join(repo, '.ralph', 'goals', '5.json'), 'not json\n');
    const { connect } = await startTestDaemon(t, repo, { env: {}, configWatch: false });
    const client: RalphClient = await connect('cli');
    const { goal } = await client.request('goal.create', { title: 'Refused things' });
    await client.request('goal.cancel', { id: goal.id });

    // Not found (the store, the chat, research).
    assert.deepEqual(await refusal(client.request('goal.get', { id: 99 })), {
      code: ErrorCode.NotFound,
      message: 'goal #99 does not exist',
    });
    assert.deepEqual(await refusal(client.request('goal.queue', { id: 99 })), {
      code: ErrorCode.NotFound,
      message: 'goal #99 does not exist',
    });
    assert.deepEqual(await refusal(client.request('chat.history', { session: 'nope' })), {
      code: ErrorCode.NotFound,
      message: "no chat session 'nope'",
    });
    assert.deepEqual(await refusal(client.request('research.cancel', { runId: 'r-20260101-100000-0001' })), {
      code: ErrorCode.NotFound,
      message: "no research run 'r-20260101-100000-0001'",
    });

    // Conflict: a final goal cannot be edited; an invalid goal file says why; only a done goal lands.
    assert.deepEqual(await refusal(client.request('goal.update', { id: goal.id, title: 'Again' })), {
      code: ErrorCode.Conflict,
      message: `goal #${goal.id} is cancelled: it cannot be edited now`,
    });
    for (const request of [client.request('goal.get', { id: 5 }), client.request('goal.queue', { id: 5 })]) {
      const answer = await refusal(request);
      assert.equal(answer.code, ErrorCode.Conflict);
      assert.match(answer.message, /^goal #5's file is invalid: not valid JSON: .*; fix or delete \.ralph\/goals\/5\.json$/);
    }
    assert.deepEqual(await refusal(client.request('goal.land', { id: goal.id })), {
      code: ErrorCode.Conflict,
      message: `goal #${goal.id} is cancelled: only a done goal can land`,
    });

    // Invalid transition: the goal model's own error.
    assert.deepEqual(await refusal(client.request('goal.queue', { id: goal.id })), {
      code: ErrorCode.InvalidTransition,
      message: `goal #${goal.id} is cancelled: cannot queue (only from draft, paused)`,
    });

    // Unavailable: research without a provider.
    const unavailable = await refusal(client.request('research.start', { questions: ['anything?'] }));
    assert.equal(unavailable.code, ErrorCode.Unavailable);
    assert.match(unavailable.message, /^research needs a model provider, and none is configured: set OPENAI_API_KEY/);
  });

  it('maps every kind to its code once, keeping the message and the data', () => {
    const files = { reason: 'uncommitted-changes', files: ['a.txt'] };
    assert.deepEqual(domainRpcError(new NotFoundError('gone')), { code: ErrorCode.NotFound, message: 'gone' });
    assert.deepEqual(domainRpcError(new ConflictError('refused', files)), { code: ErrorCode.Conflict, message: 'refused', data: files });
    assert.deepEqual(domainRpcError(new UnavailableError('stopping')), { code: ErrorCode.Unavailable, message: 'stopping' });
    assert.deepEqual(domainRpcError(new InvalidInputError('empty')), { code: ErrorCode.InvalidParams, message: 'empty' });
  });
});
