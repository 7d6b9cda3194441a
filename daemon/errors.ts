/**
 * The daemon's domain errors: the few ways a service (the goal store, chat, research, landing)
 * refuses what it is asked, said in the domain's terms. The services know nothing of the transport;
 * the server maps each kind to its JSON-RPC code in one place (server/server.ts, `toRpcError`).
 * Anything else a service throws is a bug there, answered as an internal error.
 *
 * A goal action its state does not allow is the goal model's own InvalidTransitionError
 * (protocol/goal.ts), thrown by `transition` itself; it is the fifth kind.
 */

/** Each kind of refusal, for the server's table of codes (a new kind does not compile until it has one). */
export type DomainErrorKind = 'not-found' | 'conflict' | 'unavailable' | 'invalid-input';

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  /** Details a client may act on (a landing refusal's reason and files), sent with the error. */
  readonly data: unknown;
  constructor(message: string, data?: unknown) {
    super(message);
    this.data = data;
  }
}

/** What was asked for does not exist (a goal, a chat session or message, a research run or agent). */
export class NotFoundError extends DomainError {
  readonly kind = 'not-found';
  override readonly name = 'NotFoundError';
}

/** It exists, but its state refuses the request (a running goal's spec, a landing, an invalid goal file). */
export class ConflictError extends DomainError {
  readonly kind = 'conflict';
  override readonly name = 'ConflictError';
}

/** The service cannot do it now, whatever is asked (the daemon stopping, no provider, an unwritable folder). */
export class UnavailableError extends DomainError {
  readonly kind = 'unavailable';
  override readonly name = 'UnavailableError';
}

/** The request itself is wrong in a way only the service can see (an empty title, no questions). */
export class InvalidInputError extends DomainError {
  readonly kind = 'invalid-input';
  override readonly name = 'InvalidInputError';
}
