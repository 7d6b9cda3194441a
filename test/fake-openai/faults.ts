/**
 * Faults on demand: a rule says which fault, for how many requests, and (optionally) for which
 * requests. A request takes at most one fault of each family: an error status, a delay before
 * the first byte, and a broken body.
 */
import type { ScenarioRequest } from './request.ts';

export type Fault =
  /** 429 rate limited, with `retry-after` / `retry-after-ms` (default 10 ms, so tests stay fast). */
  | { kind: '429'; retryAfterSeconds?: number; retryAfterMs?: number; message?: string }
  /** 500 server error; without a retry-after the SDK backs off on its own (about 0.5 s, 1 s, …). */
  | { kind: '500'; retryAfterMs?: number; message?: string }
  /** Any other error status with an OpenAI error body (e.g. 400, 404, 503). */
  | { kind: 'status'; status: number; message?: string; type?: string; code?: string | null; retryAfterMs?: number }
  /** Waits this long before sending the status line and headers. */
  | { kind: 'slow-first-byte'; delayMs: number }
  /** Destroys the connection after this many stream events (non-streaming: halfway through the body). */
  | { kind: 'cut-stream'; afterEvents: number }
  /** Sends a body (or, streaming, an event's data after this many events) that is not JSON. */
  | { kind: 'invalid-json'; afterEvents?: number };

export type FaultKind = Fault['kind'];

export interface FaultOptions {
  /** How many matching requests get the fault; every one (until cleared) when omitted. */
  times?: number;
  /** Which requests get it; all model requests when omitted. */
  match?: (request: ScenarioRequest) => boolean;
}

type Family = 'status' | 'delay' | 'body';

function familyOf(fault: Fault): Family {
  switch (fault.kind) {
    case '429':
    case '500':
    case 'status':
      return 'status';
    case 'slow-first-byte':
      return 'delay';
    case 'cut-stream':
    case 'invalid-json':
      return 'body';
  }
}

interface FaultRule {
  fault: Fault;
  remaining: number;
  match: ((request: ScenarioRequest) => boolean) | undefined;
}

/** The faults a request drew, one per family at most. */
export interface DrawnFaults {
  status?: Extract<Fault, { kind: '429' | '500' | 'status' }>;
  delay?: Extract<Fault, { kind: 'slow-first-byte' }>;
  body?: Extract<Fault, { kind: 'cut-stream' | 'invalid-json' }>;
}

export class FaultRules {
  private rules: FaultRule[] = [];

  add(fault: Fault, options: FaultOptions = {}): void {
    const times = options.times ?? Number.POSITIVE_INFINITY;
    if (!(times > 0)) throw new Error(`fault times must be positive, got ${times}`);
    this.rules.push({ fault, remaining: times, match: options.match });
  }

  clear(): void {
    this.rules = [];
  }

  /** Picks (and counts down) the first matching rule of each family, in the order they were added. */
  draw(request: ScenarioRequest): DrawnFaults {
    const drawn: Partial<Record<Family, Fault>> = {};
    for (const rule of this.rules) {
      const family = familyOf(rule.fault);
      if (drawn[family] || rule.remaining <= 0) continue;
      if (rule.match && !rule.match(request)) continue;
      drawn[family] = rule.fault;
      rule.remaining -= 1;
    }
    this.rules = this.rules.filter((rule) => rule.remaining > 0);
    // The families partition the kinds, so each slot holds only its own kinds.
    return drawn as DrawnFaults;
  }
}
