/**
 * The generic `command` backend: any agent CLI Ralph has no adapter for, as the config names it
 * (`executor.agent: { command: ['my-agent', '--headless'], env?, output? }`).
 *
 * How it is run, for each iteration, in the goal's worktree:
 * - `command[0]` is the executable (looked up on PATH), the rest its arguments; `env` is added to
 *   the environment Ralph gives every agent (README "Agent backends").
 * - The iteration's prompt is written to its stdin, which is then closed, and is also in the file
 *   the variable RALPH_PROMPT_FILE names (outside the worktree, removed after the run), for a CLI
 *   that takes its prompt as a file or an argument (`sh -c 'my-agent "$(cat "$RALPH_PROMPT_FILE")"'`).
 * - It says the goal is done with a line `RALPH_GOAL_DONE: <summary>` in its final message.
 *
 * Its output (stdout; stderr is kept only to explain a failure):
 * - `text` (the default): every line is the agent's words. The final message, where the done
 *   marker is looked for, is the last lines it printed.
 * - `stream-json`: every line is one JSON object, an `ExternalEvent` (backend.ts) as it is:
 *     {"type":"text","text":"…"}
 *     {"type":"tool.start","id":"1","name":"Write","summary":"Write hello.txt"}
 *     {"type":"tool.end","id":"1","name":"Write","summary":"Write hello.txt","ok":true,"output":"…"}
 *     {"type":"usage","model":"m","usage":{"inputTokens":10,"outputTokens":5},"costUsd":0.001}
 *     {"type":"result","text":"… RALPH_GOAL_DONE: …","ok":true}
 *     {"type":"error","kind":"rate-limit","message":"…","retryAfterSeconds":30}
 *   `id`, `model`, `costUsd` may be left out (null), as may any token count (0). A line that is
 *   not such an object is logged as it is (a `raw` event), never a failure of the run.
 */
import path from 'node:path';
import { z } from 'zod';
import type { AgentBackend, ExternalEvent } from './backend.ts';

/** The config's `executor.agent` when it is a command. */
export interface CommandAgentSpec {
  command: readonly string[];
  env?: Record<string, string>;
  output: 'text' | 'stream-json';
}

/** The backend's name, in the log and in errors. */
export const COMMAND_BACKEND = 'command';

const Count = z.int().nonnegative().default(0);
const Usage = z.strictObject({
  inputTokens: Count,
  cachedInputTokens: Count,
  outputTokens: Count,
  reasoningTokens: Count,
});
const Id = z.string().nullable().default(null);

/** One `stream-json` line: an ExternalEvent, with the optional parts filled in. */
const StreamEvent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), text: z.string() }),
  z.strictObject({ type: z.literal('tool.start'), id: Id, name: z.string(), summary: z.string() }),
  z.strictObject({
    type: z.literal('tool.end'),
    id: Id,
    name: z.string(),
    summary: z.string(),
    ok: z.boolean(),
    output: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('usage'),
    model: z.string().nullable().default(null),
    usage: Usage,
    costUsd: z.number().nonnegative().nullable().default(null),
  }),
  z.strictObject({
    type: z.literal('result'),
    text: z.string(),
    ok: z.boolean(),
    totalCostUsd: z.number().nonnegative().nullable().optional(),
    usage: Usage.optional(),
    model: z.string().nullable().optional(),
  }),
  z.strictObject({
    type: z.literal('error'),
    kind: z.enum(['auth', 'quota', 'rate-limit', 'other']),
    message: z.string(),
    retryAfterSeconds: z.number().nonnegative().optional(),
  }),
  z.strictObject({ type: z.literal('raw'), line: z.string() }),
]);

/** One line of `stream-json` output as events: the event it holds, or the line as `raw`. */
export function parseStreamJsonLine(line: string): ExternalEvent[] {
  if (line.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return [{ type: 'raw', line }];
  }
  const parsed = StreamEvent.safeParse(value);
  return parsed.success ? [parsed.data as ExternalEvent] : [{ type: 'raw', line }];
}

/** One line of `text` output: the agent's words (blank lines carry none). */
function parseTextLine(line: string): ExternalEvent[] {
  return line.trim() === '' ? [] : [{ type: 'text', text: line }];
}

/** The backend for a command the config names. */
export function commandBackend(spec: CommandAgentSpec): AgentBackend {
  const [executable, ...args] = spec.command;
  if (!executable) throw new Error('executor.agent.command is empty');
  const parse = spec.output === 'stream-json' ? parseStreamJsonLine : parseTextLine;
  return {
    name: COMMAND_BACKEND,
    displayName: path.basename(executable),
    executable,
    install: `check executor.agent.command in ralph.config.ts: ${executable} must be on PATH (or a path to it)`,
    auth: 'its own: Ralph passes the variables of executor.agent.env and secrets.passEnv',
    authEnv: [],
    versionArgs: ['--version'],
    invocation: (input) => ({ args: [...args, ...input.extraArgs], ...(spec.env ? { env: { ...spec.env } } : {}), stdin: input.prompt }),
    parser: () => parse,
  };
}
