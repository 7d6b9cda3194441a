/**
 * The schema of `ralph.config.ts`, with the default of every setting. Objects are strict: a key
 * the schema does not know (a typo) is an error naming its path, never silently ignored.
 *
 * The environment overrides some settings (see env.ts): OPENAI_API_KEY, OPENAI_BASE_URL,
 * RALPH_MODEL, RALPH_API, RALPH_VERIFY. The API key is never read from the file: the file is
 * committed, a key must not be.
 */
import { z } from 'zod';
import type { ModelApi, ReasoningEffort } from '../llm/types.ts';
import { ModelOverride } from '../llm/models.ts';
import { SANDBOX_MODES } from '../tools/sandbox.ts';

export const MODEL_APIS = ['responses', 'chat'] as const satisfies readonly ModelApi[];
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const satisfies readonly ReasoningEffort[];

export const ModelApiSchema = z.enum(MODEL_APIS);
export const ReasoningEffortSchema = z.enum(REASONING_EFFORTS);

/** The model used when neither the file nor RALPH_MODEL names one: small, cheap, and good at tools. */
export const DEFAULT_MODEL = 'gpt-5.4-mini';

const HttpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });
const Command = z.string().trim().min(1);

const CommandPolicy = z.strictObject({
  /** Commands the executor may run; empty (the default): any command that is not denied. */
  allow: z.array(Command).default([]),
  /**
   * Commands refused, checked before `allow`: added to the harness's own rules, which always apply
   * (DEFAULT_DENY_RULES in daemon/tools/command-policy.ts: the harness owns git, and no sudo).
   */
  deny: z.array(Command).default([]),
  /** A command still running after this long is killed. Default 300 (5 minutes). */
  timeoutSeconds: z.int().min(1).max(86_400).default(300),
  /** Output kept per command (the rest is cut, with a note) so one command cannot flood the context. Default 64 KiB. */
  outputLimitBytes: z
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(64 * 1024),
  /**
   * Where the agent's commands and the goal's check run (README "What holds where"): `auto` (default)
   * in a bubblewrap sandbox where `bwrap` works, otherwise as plain child processes (said in the
   * daemon's and the goal's log); `bwrap`: only in the sandbox (commands fail without it); `off`: never.
   */
  sandbox: z.enum(SANDBOX_MODES).default('auto'),
});

/** An environment variable's name. */
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');

/** The agent CLIs Ralph drives by name (daemon/agent/external/registry.ts); `ralph` is its own agent. */
export const EXTERNAL_AGENTS = ['claude', 'codex', 'opencode', 'gemini'] as const;
export type ExternalAgentName = (typeof EXTERNAL_AGENTS)[number];

/** How Ralph runs one agent CLI it knows by name (`executor.agents.claude`). */
const AgentCliOptions = z.strictObject({
  /** The executable, when it is not the CLI's usual name on PATH. */
  path: z.string().trim().min(1).optional(),
  /** The model to ask the CLI for; unset: the CLI's own default. */
  model: z.string().trim().min(1).optional(),
  /** Arguments appended after Ralph's own. */
  args: z.array(z.string()).default([]),
  /** `workspace` (default): edit the worktree and run commands there; `all`: skip the CLI's permission checks (README "Agent backends"). */
  permissions: z.enum(['workspace', 'all']).default('workspace'),
});

/**
 * Any other agent CLI: `command` is run in the goal's worktree for each iteration, the prompt on its
 * stdin and in the file RALPH_PROMPT_FILE names (daemon/agent/external/command.ts).
 */
const CommandAgent = z.strictObject({
  command: z.array(z.string().min(1)).min(1),
  /** Variables added to its environment (committed with the config: no secrets here). */
  env: z.record(EnvName, z.string()).optional(),
  /** `text` (default): plain lines; `stream-json`: one JSON event per line (command.ts documents them). */
  output: z.enum(['text', 'stream-json']).default('text'),
});

const Executor = z.strictObject({
  /**
   * The agent that runs each iteration: `ralph` (its own, the default), an agent CLI by name, or
   * `{ command: [...] }`. A goal may name another (its `agent` field).
   */
  agent: z
    .union([z.enum(['ralph', ...EXTERNAL_AGENTS]), CommandAgent], {
      error: `expected ${['ralph', ...EXTERNAL_AGENTS].map((name) => JSON.stringify(name)).join(', ')} or { command: [...] }`,
    })
    .default('ralph'),
  /** How each agent CLI is run when chosen. */
  agents: z
    .strictObject({
      claude: AgentCliOptions.optional(),
      codex: AgentCliOptions.optional(),
      opencode: AgentCliOptions.optional(),
      gemini: AgentCliOptions.optional(),
    })
    .default({}),
  /** Minutes one iteration of an agent CLI may run before it is stopped (its work so far is committed and checked). Default 30. */
  agentTimeoutMinutes: z
    .number()
    .positive()
    .max(24 * 60)
    .default(30),
  /** The goal check, run in the goal's workspace (e.g. `npm test`); null: none. RALPH_VERIFY overrides it. */
  verify: Command.nullable().default(null),
  /** `manual`: a done goal waits for `ralph goal land`; `auto`: it is landed when done. Default manual. */
  land: z.enum(['manual', 'auto']).default('manual'),
  /** Goals run at once, each in its own worktree. Default 1: one after another. */
  concurrency: z.int().min(1).max(16).default(1),
  /** Loop iterations per attempt before the goal is stuck. Default 50. */
  maxIterations: z.int().min(1).max(10_000).default(50),
  /** Wall-clock minutes per attempt before the goal is stuck. Default 120. */
  maxMinutes: z
    .number()
    .positive()
    .max(7 * 24 * 60)
    .default(120),
  /** USD per attempt before the goal is stuck (only enforceable where the model's prices are known). Default 10. */
  maxCostUsd: z.number().positive().default(10),
  /** Tokens (input + output) per attempt before the goal is stuck, while its cost is unknown (a model without prices). Default 10 million. */
  maxTokens: z.int().min(1000).default(10_000_000),
  /** Model calls per iteration: one step of the loop may read, edit and test, then it must stop. Default 30. */
  maxStepsPerIteration: z.int().min(1).max(500).default(30),
  /** Seconds the goal check (`verify`) may run before it is killed and counts as failed. Default 1800. */
  verifyTimeoutSeconds: z.int().min(1).max(86_400).default(1800),
  commands: CommandPolicy.prefault({}),
  /** Where iterations run: `local` (the default: here, in worktrees) or `queue` (workers on other machines, through BullMQ on Redis; README "Scale out"). */
  backend: z.enum(['local', 'queue']).default('local'),
  queue: z
    .strictObject({
      /** `redis://[:password@]host:6379` or `rediss://…` (TLS). RALPH_QUEUE_URL overrides it. */
      url: z.string().trim().min(1).optional(),
      /** The git remote workers fetch from and push `ralph/goal-<id>` to. Default `origin`. */
      remote: z.string().trim().min(1).default('origin'),
    })
    .prefault({}),
});

const Research = z.strictObject({
  /** Research agents running at once. Default 4. */
  concurrency: z.int().min(1).max(16).default(4),
  /** Model calls per research agent before it must report. Default 20. */
  maxSteps: z.int().min(1).max(500).default(20),
  /** Seconds per research agent before it is stopped and its partial findings kept. Default 600. */
  timeoutSeconds: z.int().min(10).max(86_400).default(600),
});

const Chat = z.strictObject({
  /** The chat's model when it should differ from `model` (RALPH_MODEL still overrides both). */
  model: z.string().trim().min(1).optional(),
  reasoningEffort: ReasoningEffortSchema.optional(),
});

const Secrets = z.strictObject({
  /**
   * Secret-looking variables of the daemon's environment that the agent's commands and the check still
   * get (e.g. `['NPM_TOKEN']` for a check that installs private packages). Their values are still
   * redacted from everything Ralph writes or sends.
   */
  passEnv: z.array(EnvName).default([]),
  /** Variables treated as secrets although their names do not look it (kept from commands, values redacted). */
  hideEnv: z.array(EnvName).default([]),
  /** The chat's and research agents' file tools may read files git ignores (`.env`, build output). Default false. */
  readIgnoredFiles: z.boolean().default(false),
});

const Tui = z.strictObject({
  /** Key bindings: action name → key (e.g. `{ newChat: 'ctrl+n' }`). */
  keys: z.record(z.string().min(1), z.string().min(1)).default({}),
});

/** Each kind of notification, on unless switched off (`notify.kinds.landed: false`). */
const NotifyKinds = z.strictObject({
  done: z.boolean().default(true),
  stuck: z.boolean().default(true),
  waiting: z.boolean().default(true),
  landed: z.boolean().default(true),
  budget: z.boolean().default(true),
});

/** Notifications (README "Notifications"; daemon/notify/): when a goal is done, stuck, waiting or landed, or a budget stops work. */
const Notify = z.strictObject({
  /** Attached terminals ring their bell. Default true. */
  bell: z.boolean().default(true),
  /** A desktop notification: OSC 9 / OSC 777 from attached terminals, `notify-send` when none is attached. Default true. */
  desktop: z.boolean().default(true),
  /**
   * A program run for every notification, the event as JSON on its stdin (ntfy, Slack …): an argv
   * list, never a shell line; run without the daemon's secrets (pass one with `secrets.passEnv`).
   */
  command: z.array(z.string().min(1)).min(1).optional(),
  kinds: NotifyKinds.prefault({}),
});

/** One spend budget for everything the daemon spends (goals, research, chat); README "Budget". Each limit is optional. */
const Budget = z.strictObject({
  /** USD a day (local time), across every model call whose price is known. */
  dailyUsd: z.number().positive().optional(),
  /** USD a calendar month (local time). */
  monthlyUsd: z.number().positive().optional(),
  /** Tokens (input + output) a day, priced or not. */
  dailyTokens: z.int().positive().optional(),
  /**
   * A provider's rate limit that asks for a longer wait than this (seconds) holds the whole pipeline
   * until its reset time instead of keeping a goal waiting. Default 60.
   */
  rateLimitPauseSeconds: z.number().positive().default(60),
});

export const RalphConfigSchema = z
  .strictObject({
    /** The model for every agent unless a section names another. RALPH_MODEL overrides it. Default gpt-5.4-mini. */
    model: z.string().trim().min(1).default(DEFAULT_MODEL),
    /** `responses` or `chat` (Chat Completions). Unset: `responses` for OpenAI, `chat` for any other base URL. RALPH_API overrides it. */
    api: ModelApiSchema.optional(),
    /** An OpenAI-compatible server (Ollama: http://localhost:11434/v1). Unset: OpenAI. OPENAI_BASE_URL overrides it. */
    baseURL: HttpUrl.optional(),
    /** Reasoning effort sent with every call unless a section sets its own; unset: the model's default. */
    reasoningEffort: ReasoningEffortSchema.optional(),
    /** Rows added to the model table, or partial rows overriding a built-in one with the same id. */
    models: z.array(ModelOverride).default([]),
    executor: Executor.prefault({}),
    research: Research.prefault({}),
    chat: Chat.prefault({}),
    secrets: Secrets.prefault({}),
    tui: Tui.prefault({}),
    notify: Notify.prefault({}),
    budget: Budget.prefault({}),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.models.forEach((row, index) => {
      if (seen.has(row.id)) ctx.addIssue({ code: 'custom', path: ['models', index, 'id'], message: `"${row.id}" appears twice` });
      seen.add(row.id);
    });
  });

/** The validated config, every default applied. */
export type RalphConfig = z.output<typeof RalphConfigSchema>;
/** What a config file may contain (everything optional). */
export type RalphConfigInput = z.input<typeof RalphConfigSchema>;

/** The config of a repository without a config file. */
export function defaultConfig(): RalphConfig {
  return RalphConfigSchema.parse({});
}

export type ParsedConfig = { ok: true; config: RalphConfig } | { ok: false; error: string };

/** Validates a config value; the error names the file and each bad key (`ralph.config.ts: executor.verfy: unknown key`). */
export function parseConfig(value: unknown, fileName: string): ParsedConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: `${fileName}: the default export must be an object (export default { ... }), not ${describeValue(value)}` };
  }
  const result = RalphConfigSchema.safeParse(value, { reportInput: true });
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, error: `${fileName}: ${describeIssues(result.error.issues)}` };
}

/** At most this many problems are spelled out; the rest are counted. */
const MAX_ISSUES_SHOWN = 5;

export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.flatMap(describeIssue);
  const shown = lines.slice(0, MAX_ISSUES_SHOWN).join('; ');
  return lines.length > MAX_ISSUES_SHOWN ? `${shown}; and ${lines.length - MAX_ISSUES_SHOWN} more` : shown;
}

/** Keys people are likely to try that Ralph deliberately reads elsewhere. */
const KEY_HINTS: Record<string, string> = {
  apiKey: 'set OPENAI_API_KEY in the environment instead: the config file is committed',
};

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const at = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const hint = issue.path.length === 0 ? KEY_HINTS[key] : undefined;
        return `${formatPath([...issue.path, key])}: unknown key${hint ? ` (${hint})` : ''}`;
      });
    case 'invalid_value':
      return [`${at}: expected ${alternatives(issue.values)}${got(issue.input)}`];
    case 'invalid_type':
      return [`${at}: expected ${TYPE_NAMES[issue.expected] ?? issue.expected}${got(issue.input)}`];
    case 'too_small':
      return [
        `${at}: ${issue.origin === 'array' ? `needs at least ${entries(issue.minimum)}` : `must be at least ${String(issue.minimum)}`}`,
      ];
    case 'too_big':
      return [
        `${at}: ${issue.origin === 'array' ? `may have at most ${entries(issue.maximum)}` : `must be at most ${String(issue.maximum)}`}`,
      ];
    default:
      return [`${at}: ${issue.message}`];
  }
}

const TYPE_NAMES: Partial<Record<string, string>> = {
  int: 'a whole number',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
};

const entries = (count: number | bigint) => `${String(count)} ${count === 1 ? 'entry' : 'entries'}`;

/** `executor.commands.allow[2]`; the whole config when the path is empty. */
function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'the config';
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`)).join('');
}

/** `"manual" or "auto"`, `"a", "b" or "c"`. */
function alternatives(values: readonly unknown[]): string {
  const quoted = values.map((value) => JSON.stringify(value));
  return quoted.length <= 1 ? (quoted[0] ?? 'nothing') : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
}

function got(input: unknown): string {
  return input === undefined ? '' : `, got ${describeValue(input)}`;
}

/** A short, safe rendering of a bad value: strings quoted and cut, objects by kind. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 39)}…` : value);
  return String(value);
}
