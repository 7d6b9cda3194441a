/**
 * SDK errors → ProviderError: one line a person can act on, by kind. The SDK has already retried
 * what can be retried by the time an error reaches here.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { formatSeconds } from '../../protocol/index.ts';
import { limitResetSeconds, QUOTA_ERROR_CODE } from './retry-waits.ts';
import { ProviderError } from './types.ts';

/** What an error message needs to know about the call. */
export interface CallContext {
  baseURL: string;
  /** Whether a real API key was configured (not the placeholder sent to key-less servers). */
  apiKeySet: boolean;
  /** HTTP requests the SDK made for this call (first try and retries). */
  tries: number;
  timeoutMs: number;
}

const MAX_SERVER_MESSAGE = 300;

export function abortedError(): ProviderError {
  return new ProviderError('aborted', 'the model call was cancelled');
}

export function hostOf(baseURL: string): string {
  try {
    return new URL(baseURL).host;
  } catch {
    return baseURL;
  }
}

function tries(count: number): string {
  return count === 1 ? '1 try' : `${count} tries`;
}

/** The server's own words: the error body's message (else its text), on one line and not too long. */
function serverMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  const text = typeof body?.message === 'string' ? body.message : error.message.replace(/^\d{3} /, '');
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_SERVER_MESSAGE ? `${line.slice(0, MAX_SERVER_MESSAGE - 1)}…` : line;
}

/** The `code` of the first error in a cause chain that has one (undici hides ECONNREFUSED two levels down). */
function networkCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (current instanceof AggregateError) {
      const inner = current.errors.map(networkCode).find((found) => found !== undefined);
      if (inner) return inner;
    }
    current = current.cause;
  }
  return undefined;
}

function networkError(error: APIConnectionError, call: CallContext): ProviderError {
  const where = `cannot reach ${call.baseURL}`;
  const code = networkCode(error.cause);
  const after = call.tries > 1 ? ` (${tries(call.tries)})` : '';
  const message = (() => {
    switch (code) {
      case 'ECONNREFUSED':
        return `${where}: connection refused — is the server running?`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `${where}: host ${hostOf(call.baseURL)} not found — check OPENAI_BASE_URL and the network`;
      case 'ECONNRESET':
        return `${where}: the connection was reset`;
      case 'ETIMEDOUT':
      case 'UND_ERR_CONNECT_TIMEOUT':
        return `${where}: the connection timed out`;
      default:
        return `${where}: ${code ?? (error.cause instanceof Error ? error.cause.message : error.message)}`;
    }
  })();
  return new ProviderError('network', message + after, { cause: error });
}

/** The ProviderError for an error the SDK threw; errors that are not the SDK's (bugs) are returned unchanged. */
export function toProviderError(error: unknown, call: CallContext): unknown {
  if (error instanceof ProviderError) return error;
  if (error instanceof APIUserAbortError) return abortedError();
  const host = hostOf(call.baseURL);
  if (error instanceof APIConnectionTimeoutError) {
    return new ProviderError('network', `no answer from ${host} within ${formatSeconds(call.timeoutMs / 1000)} (${tries(call.tries)})`, {
      cause: error,
    });
  }
  if (error instanceof APIConnectionError) return networkError(error, call);
  if (!(error instanceof APIError)) return error;

  const status = error.status;
  const detail = serverMessage(error);
  const options = { status, cause: error };
  if (status === undefined) {
    // An error reported inside a stream that had started fine.
    return new ProviderError('server', `${host} reported an error: ${detail}`, options);
  }
  if (status === 401) {
    const message = call.apiKeySet
      ? 'the provider refused the API key (401): check OPENAI_API_KEY'
      : `${host} requires an API key (401): set OPENAI_API_KEY`;
    return new ProviderError('auth', message, options);
  }
  if (status === 403) {
    return new ProviderError('auth', `the provider refused access (403): ${detail} — check OPENAI_API_KEY and the model's access`, options);
  }
  if (status === 429) {
    const retryAfterSeconds = error.headers ? limitResetSeconds(error.headers) : undefined;
    const limit = { ...options, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
    if (error.code === QUOTA_ERROR_CODE) {
      return new ProviderError('rate-limit', `${host} says the account's quota is used up (429): ${detail}`, { ...limit, quota: true });
    }
    return new ProviderError('rate-limit', `rate limited by ${host} after ${tries(call.tries)}: ${detail}`, limit);
  }
  if (status >= 500 || status === 408 || status === 409) {
    return new ProviderError('server', `${host} failed with ${status} after ${tries(call.tries)}: ${detail}`, options);
  }
  const hint = status === 404 ? ' — check the model name and OPENAI_BASE_URL' : '';
  return new ProviderError('bad-request', `${host} rejected the request (${status}): ${detail}${hint}`, options);
}
