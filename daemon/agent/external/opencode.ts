/**
 * OpenCode (`opencode-ai`, executable `opencode`; written against 1.18.33) as the body of one
 * iteration: `opencode run --format json`, headless in the goal's worktree, the prompt on stdin
 * (no argument-length limit, not visible in `ps`), one JSON event a line on stdout.
 *
 * Permissions (README "What each agent backend may do"). OpenCode's own default lets its agent do
 * everything except reach outside the project folder or read a .env file, which would ask; `run`
 * refuses every ask itself (it has nobody to ask), and a refused ask ends the run, whereas a call a
 * rule denies fails and the model goes on. Ralph passes its rules in OPENCODE_PERMISSION, which
 * OpenCode merges over every config file it reads (the worktree's `opencode.json` among them), so a
 * config the agent writes cannot widen them:
 * - `workspace` (the default): edits allowed; shell commands allowed, except `git push` (Ralph owns
 *   git); `webfetch`, `websearch` and `codesearch` denied (they reach the web); anything outside the
 *   worktree (`external_directory`: a path outside it in an edit, a read or a command) denied;
 *   .env files (not .env.example) may not be read. Its loop guard (the same call three times) still
 *   asks, so a model that loops ends its iteration.
 *   Shell commands are not sandboxed: OpenCode has no sandbox.
 * - `all`: `--auto`, OpenCode's own "approve everything not explicitly denied", and no rules of
 *   Ralph's (the user's own config still applies).
 * OPENCODE_DISABLE_AUTOUPDATE keeps it from updating itself between iterations. In a repository the
 * machine does not trust (a queue worker's), OPENCODE_DISABLE_PROJECT_CONFIG: OpenCode reads none of
 * the repository's config files or `.opencode/` folders (nor its AGENTS.md, which goes with them).
 *
 * Authentication: OpenCode's own: keys stored by `opencode auth login` (in
 * ~/.local/share/opencode/auth.json), or a provider's variable (OPENAI_API_KEY, ANTHROPIC_API_KEY
 * …), or a provider in its config (`provider.<id>.options.apiKey` / `baseURL`). `--model` takes
 * `provider/model`.
 *
 * What it does besides the model's calls (seen with a fresh HOME): it writes its config folder
 * (~/.config/opencode, where it also runs an `npm install` of `@opencode-ai/plugin` unless
 * node_modules is there with that package), its database and log under ~/.local/share/opencode,
 * fetches the model catalog from models.opencode.ai (OPENCODE_DISABLE_MODELS_FETCH turns it off;
 * costs come from that catalog), asks the model for a session title in an extra call unless
 * `--title` names one (Ralph does), and downloads ripgrep the first time its grep or glob tool runs
 * without `rg` on PATH.
 *
 * Its output (`run --format json`), each line `{type, timestamp, sessionID, …}`: `step_start`;
 * `text` (a finished text part: `part.text`); `reasoning` (only with `--thinking`); `tool_use` (a
 * tool call once it has ended: `part.tool`, `part.callID`, `part.state` with `status` `completed`
 * or `error`, `input`, `output` or `error`, `metadata.exit` for bash); `step_finish` (one model
 * call: `part.reason` `tool-calls` while it goes on, `stop` at its end; `part.tokens` input (not
 * cached) / output (without reasoning) / reasoning / cache.read / cache.write, and `part.cost`,
 * 0 when it knows no price); `error` (`error.name`: `APIError` with `data.statusCode`, `data.message`,
 * `data.responseHeaders`, `data.responseBody`; `ProviderAuthError`; `UnknownError` …), after which
 * the run ends with exit code 1. It retries rate limits and 5xx itself before reporting one. There
 * is no closing `result` line: the parser makes one of the final step.
 */
import { clipUnits, oneLine } from '../../../protocol/index.ts';
import type { AgentBackend, ExternalErrorKind, ExternalEvent, Invocation, InvocationInput } from './backend.ts';
import { count, excerpt, isRecord, jsonObjectLine, text, worktreePath } from './json-lines.ts';

/** A tool call's summary is one line of at most this many characters. */
const SUMMARY_MAX = 200;
/** What a tool's output keeps (its end: where a command's errors are). */
const OUTPUT_MAX = 2000;

/** The session title Ralph gives every run (spares OpenCode a model call to make one up). */
export const OPENCODE_SESSION_TITLE = 'Ralph iteration';

/** Ralph's permission rules in `workspace` mode (OpenCode's config `permission` section). */
export const OPENCODE_WORKSPACE_PERMISSION = {
  // Its default asks before reading a .env file, and a refused ask ends the run: denied instead.
  read: { '*': 'allow', '*.env': 'deny', '*.env.*': 'deny', '*.env.example': 'allow' },
  edit: 'allow',
  bash: { '*': 'allow', 'git push': 'deny', 'git push *': 'deny' },
  webfetch: 'deny',
  websearch: 'deny',
  codesearch: 'deny',
  external_directory: 'deny',
} as const;

/** Provider variables OpenCode reads by itself (its `env` list per provider), passed through although they look secret. */
export const OPENCODE_AUTH_ENV = [
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'GOOGLE_GENERATIVE_AI_API_KEY',
  'GEMINI_API_KEY',
  'OPENROUTER_API_KEY',
  'GROQ_API_KEY',
  'XAI_API_KEY',
  'DEEPSEEK_API_KEY',
  'MISTRAL_API_KEY',
  'OPENCODE_API_KEY',
  'OPENCODE_CONFIG',
  'OPENCODE_CONFIG_DIR',
  'OPENCODE_CONFIG_CONTENT',
] as const;

/** The arguments, environment and stdin of one headless run (exported for the tests). */
export function opencodeInvocation(input: InvocationInput): Invocation {
  const args = ['run', '--format', 'json', '--title', OPENCODE_SESSION_TITLE];
  const env: Record<string, string> = { OPENCODE_DISABLE_AUTOUPDATE: '1' };
  if (input.permissions === 'all') args.push('--auto');
  else env.OPENCODE_PERMISSION = JSON.stringify(OPENCODE_WORKSPACE_PERMISSION);
  // A repository it does not trust: none of its `opencode.json(c)` (providers with their own
  // baseURL, plugins, MCP servers) nor its `.opencode/` folder (plugins, agents) is loaded.
  if (input.untrustedRepository) env.OPENCODE_DISABLE_PROJECT_CONFIG = '1';
  if (input.model) args.push('--model', input.model);
  args.push(...input.extraArgs);
  return { args, env, stdin: input.prompt };
}

/** What the parser knows of the run it reads: its worktree (paths are shown relative to it) and model (without its provider). */
export interface OpencodeRunContext {
  cwd: string | null;
  model: string | null;
}

/** A `part` of a line, as far as the parser reads it. */
interface OpencodePart {
  type?: unknown;
  text?: unknown;
  tool?: unknown;
  callID?: unknown;
  state?: { status?: unknown; input?: unknown; output?: unknown; error?: unknown; metadata?: unknown; title?: unknown };
  reason?: unknown;
  tokens?: { input?: unknown; output?: unknown; reasoning?: unknown; cache?: { read?: unknown; write?: unknown } };
  cost?: unknown;
}

/** A fresh parser for one run's stdout. */
export function opencodeParser(context: OpencodeRunContext = { cwd: null, model: null }): (line: string) => ExternalEvent[] {
  /** The text parts of the current step (model call): the final step's are the run's final text. */
  let stepText: string[] = [];
  let lastText = '';

  return (raw) => {
    const event = jsonObjectLine(raw);
    if (!event) return [{ type: 'raw', line: raw }];
    const part: OpencodePart = isRecord(event.part) ? event.part : {};
    switch (event.type) {
      case 'step_start':
        stepText = [];
        return [];
      case 'reasoning':
        return [];
      case 'text': {
        const said = text(part.text);
        if (!said.trim()) return [];
        stepText.push(said);
        lastText = said;
        return [{ type: 'text', text: said }];
      }
      case 'tool_use':
        return toolEvents(part, context.cwd);
      case 'step_finish': {
        const tokens = isRecord(part.tokens) ? part.tokens : {};
        const cache = isRecord(tokens.cache) ? tokens.cache : {};
        const reasoning = count(tokens.reasoning);
        const events: ExternalEvent[] = [
          {
            type: 'usage',
            model: context.model,
            usage: {
              // OpenCode counts input without the cached part and output without reasoning; Ralph counts both in.
              inputTokens: count(tokens.input) + count(cache.read) + count(cache.write),
              cachedInputTokens: count(cache.read),
              outputTokens: count(tokens.output) + reasoning,
              reasoningTokens: reasoning,
            },
            // 0 is also what it says when it knows no price for the model: unknown, then (Ralph's own table may know it).
            costUsd: typeof part.cost === 'number' && part.cost > 0 ? part.cost : null,
          },
        ];
        // `tool-calls`: the model goes on with the calls' results. Anything else ends the run.
        if (part.reason !== 'tool-calls') events.push({ type: 'result', text: stepText.join('\n'), ok: part.reason === 'stop' });
        return events;
      }
      case 'error':
        return [opencodeError(event.error), { type: 'result', text: lastText, ok: false }];
      default:
        return [{ type: 'raw', line: raw }];
    }
  };
}

/** A finished tool call: its start and its end at once (OpenCode reports a call only once it has ended). */
function toolEvents(part: OpencodePart, cwd: string | null): ExternalEvent[] {
  const name = text(part.tool) || 'tool';
  const state = isRecord(part.state) ? part.state : {};
  const id = typeof part.callID === 'string' ? part.callID : null;
  const summary = opencodeToolSummary(name, state.input, cwd);
  const metadata = isRecord(state.metadata) ? state.metadata : {};
  // A shell command that exits non-zero, or a call of a tool that is not there (`invalid`), is a
  // completed call to OpenCode, and a failed one to the log.
  const exit = metadata.exit;
  const ok = state.status === 'completed' && name !== 'invalid' && (name !== 'bash' || exit === undefined || exit === null || exit === 0);
  const output = excerpt(state.status === 'error' ? text(state.error) : text(state.output), OUTPUT_MAX);
  return [
    { type: 'tool.start', id, name, summary },
    { type: 'tool.end', id, name, summary, ok, ...(output ? { output } : {}) },
  ];
}

/** One line saying what a tool call does: `write src/a.ts`, `bash npm test`, `grep TODO in src`. */
export function opencodeToolSummary(name: string, input: unknown, cwd: string | null): string {
  const args = isRecord(input) ? input : {};
  const str = (key: string): string | undefined => (typeof args[key] === 'string' ? args[key] : undefined);
  const shortPath = (value: string): string => worktreePath(value, cwd);
  let detail: string | undefined;
  switch (name) {
    case 'read':
    case 'write':
    case 'edit': {
      const file = str('filePath');
      detail = file === undefined ? undefined : shortPath(file);
      break;
    }
    case 'list':
      detail = str('path') === undefined ? undefined : shortPath(str('path')!);
      break;
    case 'bash':
      detail = str('command');
      break;
    case 'glob':
    case 'grep': {
      const pattern = str('pattern');
      const where = str('path');
      detail = pattern === undefined ? undefined : where ? `${pattern} in ${shortPath(where)}` : pattern;
      break;
    }
    case 'webfetch':
      detail = str('url');
      break;
    case 'websearch':
    case 'codesearch':
      detail = str('query');
      break;
    case 'task':
      detail = str('description') ?? str('prompt');
      break;
    case 'skill':
      detail = str('name');
      break;
    // The model called a tool that does not exist (or with bad arguments): which one.
    case 'invalid':
      detail = str('tool');
      break;
    case 'todowrite':
    case 'todoread':
      detail = undefined;
      break;
    default:
      // Any other tool (MCP tools among them): its first string argument says most.
      detail = Object.values(args).find((value): value is string => typeof value === 'string');
  }
  return clipUnits(oneLine(detail ? `${name} ${detail}` : name), SUMMARY_MAX);
}

/** An `error` line's error, by what it means for the goal. */
export function opencodeError(error: unknown): Extract<ExternalEvent, { type: 'error' }> {
  const record = isRecord(error) ? error : {};
  const name = text(record.name);
  const data = isRecord(record.data) ? record.data : {};
  const message = text(data.message) || name || 'OpenCode reported an error';
  const status = typeof data.statusCode === 'number' ? data.statusCode : null;
  const body = text(data.responseBody);
  const headers = isRecord(data.responseHeaders) ? data.responseHeaders : {};
  const kind = classifyOpencodeError(name, status, `${message}\n${body}`);
  const retryAfterSeconds = kind === 'rate-limit' ? retryAfter(headers) : undefined;
  return {
    type: 'error',
    kind,
    message: name && name !== 'APIError' ? `${name}: ${message}` : message,
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  };
}

/** A used-up quota, plan or credit (providers say so on a 429 or 402). */
const QUOTA = /insufficient_quota|quota|billing|credit balance|out of credits|usage limit|payment required/i;
const AUTH = /invalid_api_key|incorrect api key|invalid x-api-key|api key|unauthori[sz]ed|authentication|not logged in/i;
const RATE_LIMIT = /rate.?limit|too many requests|overloaded/i;

export function classifyOpencodeError(name: string, status: number | null, message: string): ExternalErrorKind {
  if (name === 'ProviderAuthError') return 'auth';
  if (status === 402 || QUOTA.test(message)) return 'quota';
  if (status === 401 || status === 403 || AUTH.test(message)) return 'auth';
  if (status === 429 || RATE_LIMIT.test(message)) return 'rate-limit';
  return 'other';
}

/** The wait a rate limit's response headers name (`retry-after-ms`, `retry-after` in seconds), if they do. */
function retryAfter(headers: Record<string, unknown>): number | undefined {
  const ms = Number(headers['retry-after-ms']);
  if (text(headers['retry-after-ms']) && Number.isFinite(ms) && ms >= 0) return ms / 1000;
  const seconds = Number(headers['retry-after']);
  if (text(headers['retry-after']) && Number.isFinite(seconds) && seconds >= 0) return seconds;
  return undefined;
}

export const opencodeBackend: AgentBackend = {
  name: 'opencode',
  displayName: 'OpenCode',
  executable: 'opencode',
  install: 'npm install -g opencode-ai',
  auth: '`opencode auth login`, or a provider key in the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY …) or in its config',
  authEnv: OPENCODE_AUTH_ENV,
  versionArgs: ['--version'],
  invocation: opencodeInvocation,
  // `provider/model`: the model's own id is what prices are known by.
  parser: (run) => opencodeParser({ cwd: run.cwd, model: run.model === null ? null : run.model.slice(run.model.indexOf('/') + 1) }),
};
