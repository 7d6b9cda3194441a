/**
 * Gemini CLI (`@google/gemini-cli`, executable `gemini`; written against 0.61.0) as the body of one
 * iteration: `gemini -p '' --output-format stream-json`, headless in the goal's worktree, the prompt
 * on stdin (no argument-length limit, not visible in `ps`; `-p` adds nothing to it), one JSON event
 * a line on stdout. `--skip-trust`: headless, it refuses a folder nobody has trusted, and the
 * worktree is Ralph's. (In 0.61 the flag trusts the folder only once the settings are read: the
 * worktree's `.gemini/settings.json` applies only where GEMINI_CLI_TRUST_WORKSPACE=true or the
 * user's trusted folders say so.) In a repository the machine does not trust (a queue worker's),
 * GEMINI_CLI_TRUST_WORKSPACE=false: its settings (hooks, MCP servers, tool commands) and its
 * `.gemini/.env` are never read, and of its `.env` only the auth variables this machine does not set.
 *
 * Permissions (README "What each agent backend may do"). Headless, Gemini CLI offers the model only
 * the tools it would not have to ask for, and the approval mode and policy rules decide which:
 * - `workspace` (the default): `--approval-mode auto_edit` (its file tools may write, inside the
 *   workspace folder only), and a policy file of Ralph's (`--policy`, rules in the user tier):
 *   shell commands allowed except `git push` (Ralph owns git), `web_fetch` denied (it reaches any
 *   URL). Its Google search stays (a call to the model's own API). Shell commands are not
 *   sandboxed (Gemini CLI's sandbox needs Docker or Podman; `--sandbox` in `args` asks for it).
 * - `all`: `--approval-mode yolo`: every tool, nothing asked.
 *
 * Authentication: GEMINI_API_KEY; or Vertex AI (GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_API_KEY,
 * or GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION); or a Google login made once in its
 * interactive mode (`gemini`, then /auth), which it keeps in ~/.gemini. GOOGLE_GEMINI_BASE_URL
 * points it at another server, but alone it selects a "gateway" auth that 0.61 refuses headless
 * ("Invalid auth method selected"): with it, ~/.gemini/settings.json must say
 * `security.auth.selectedType: "gemini-api-key"`.
 *
 * What it does besides the model's calls (seen with a fresh HOME): it writes ~/.gemini
 * (projects.json, history/, tmp/<project>/chats/ with the session), error reports in the temp
 * folder (gemini-client-error-*.json), sends usage statistics to Google unless settings.json says
 * `privacy.usageStatisticsEnabled: false`, and starts itself a second time (a child Node with a
 * larger heap) unless GEMINI_CLI_NO_RELAUNCH is set, as Ralph does. With model `auto` (its default) it first asks a
 * small model to pick the model for the turn. It retries 429s and 5xx itself (up to 10 times, 5 to
 * 30 s apart) before reporting one.
 *
 * Its output (stream-json), each line `{type, timestamp, …}`: `init` (`session_id`, `model`),
 * `message` (`role` user, then assistant text in pieces with `delta: true`), `tool_use`
 * (`tool_name`, `tool_id`, `parameters`), `tool_result` (`tool_id`, `status` success or error,
 * `output`, `error.type` / `error.message`), `error` (`severity` warning or error, `message`: a
 * retry, a blocked response, a turn limit), and `result` at the end (`status` success or error,
 * `error.type` / `error.message`, and `stats`: tokens in all and per model, no cost). The parser
 * joins the pieces of text into one `text` event per turn (before a tool call, and at the end) and
 * makes the result's usage events of its per-model totals.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clipUnits, oneLine } from '../../../protocol/index.ts';
import type { AgentBackend, ExternalErrorKind, ExternalEvent, Invocation, InvocationInput } from './backend.ts';
import { count, excerpt, isRecord, jsonObjectLine, text, worktreePath } from './json-lines.ts';

/** A tool call's summary is one line of at most this many characters. */
const SUMMARY_MAX = 200;
/** What a tool's output keeps (its end: where a command's errors are). */
const OUTPUT_MAX = 2000;

/**
 * Ralph's policy rules in `workspace` mode (Gemini CLI's policy engine, TOML). A higher priority
 * wins within a tier: the `git push` denial beats the shell's allowance.
 */
export const GEMINI_WORKSPACE_POLICY = `# Written by Ralph: what Gemini CLI may do unattended in a goal's worktree.
[[rule]]
toolName = "run_shell_command"
decision = "allow"
priority = 100

[[rule]]
toolName = "run_shell_command"
commandPrefix = "git push"
decision = "deny"
priority = 200

[[rule]]
toolName = "web_fetch"
decision = "deny"
priority = 200
`;

/**
 * Set for every run. GEMINI_CLI_NO_RELAUNCH: it does not start itself a second time with a heap of
 * half the machine's memory, which costs over a second a run; one step of a goal needs no such heap.
 */
export const GEMINI_ENV: Readonly<Record<string, string>> = { GEMINI_CLI_NO_RELAUNCH: 'true' };

export const GEMINI_AUTH_ENV = [
  'GEMINI_API_KEY',
  'GOOGLE_API_KEY',
  'GOOGLE_GEMINI_BASE_URL',
  'GOOGLE_VERTEX_BASE_URL',
  'GOOGLE_GENAI_USE_VERTEXAI',
  'GOOGLE_GENAI_USE_GCA',
  'GOOGLE_CLOUD_PROJECT',
  'GOOGLE_CLOUD_LOCATION',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'GEMINI_MODEL',
  'GEMINI_CLI_HOME',
] as const;

/** The arguments and stdin of one headless run (exported for the tests); `policyFile` holds GEMINI_WORKSPACE_POLICY (unused for `all`). */
export function geminiInvocation(input: InvocationInput, policyFile: string | null): Invocation {
  const args = ['--output-format', 'stream-json', '--skip-trust'];
  if (input.permissions === 'all') args.push('--approval-mode', 'yolo');
  else if (policyFile) args.push('--approval-mode', 'auto_edit', '--policy', policyFile);
  else args.push('--approval-mode', 'auto_edit');
  if (input.model) args.push('--model', input.model);
  args.push(...input.extraArgs);
  // Last: `-p` makes the run headless whatever the terminal; its (empty) value is appended to stdin.
  args.push('-p', '');
  const env: Record<string, string> = { ...GEMINI_ENV };
  // A repository it does not trust: its settings are loaded as an untrusted folder's (none of its
  // `.gemini/settings.json`, nor its `.gemini/.env`), whatever this machine's environment or
  // trusted folders say. --skip-trust still lets the run start: it takes effect after the settings are read.
  if (input.untrustedRepository) env.GEMINI_CLI_TRUST_WORKSPACE = 'false';
  return { args, env, stdin: input.prompt };
}

let policyFolder: string | null = null;

/**
 * The policy file, written once per process into a private folder of its own (mode 0700, a name
 * nobody can guess: no other user can put rules there), removed when the process exits; written
 * again should the folder have been cleaned away meanwhile.
 */
export function geminiPolicyFile(): string {
  if (policyFolder === null || !existsSync(policyFolder)) {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'ralph-gemini-policy-'));
    if (policyFolder === null) process.once('exit', () => rmSync(policyFolder ?? folder, { recursive: true, force: true }));
    policyFolder = folder;
  }
  const file = path.join(policyFolder, 'workspace.toml');
  if (!existsSync(file)) writeFileSync(file, GEMINI_WORKSPACE_POLICY, { mode: 0o600 });
  return file;
}

/** A fresh parser for one run's stdout. */
export function geminiParser(context: { cwd: string | null } = { cwd: null }): (line: string) => ExternalEvent[] {
  let model: string | null = null;
  /** The assistant's text since its last tool call, in the pieces it came in. */
  let pieces: string[] = [];
  let lastText = '';
  const calls = new Map<string, { name: string; summary: string }>();

  /** The turn's text so far as one event (nothing when it said nothing). */
  const flushText = (): ExternalEvent[] => {
    const said = pieces.join('');
    pieces = [];
    if (!said.trim()) return [];
    lastText = said;
    return [{ type: 'text', text: said }];
  };

  return (raw) => {
    const event = jsonObjectLine(raw);
    if (!event) return [{ type: 'raw', line: raw }];
    switch (event.type) {
      case 'init':
        model = text(event.model) && event.model !== 'auto' ? text(event.model) : null;
        return [];
      case 'message':
        if (event.role === 'assistant') pieces.push(text(event.content));
        return [];
      case 'tool_use': {
        const id = typeof event.tool_id === 'string' ? event.tool_id : null;
        const name = text(event.tool_name) || 'tool';
        const summary = geminiToolSummary(name, event.parameters, context.cwd);
        if (id !== null) calls.set(id, { name, summary });
        return [...flushText(), { type: 'tool.start', id, name, summary }];
      }
      case 'tool_result': {
        const id = typeof event.tool_id === 'string' ? event.tool_id : null;
        const call = (id !== null ? calls.get(id) : undefined) ?? { name: 'tool', summary: 'tool' };
        if (id !== null) calls.delete(id);
        const ok = event.status === 'success';
        const error = isRecord(event.error) ? event.error : {};
        const output = excerpt(ok ? text(event.output) : text(error.message) || text(event.output), OUTPUT_MAX);
        return [{ type: 'tool.end', id, ...call, ok, ...(output ? { output } : {}) }];
      }
      case 'error': {
        const message = text(event.message);
        // A warning (a retry, a blocked call) is worth a line in the log; the run goes on.
        if (event.severity !== 'error') return [{ type: 'error', kind: 'other', message }];
        return [...flushText(), geminiError(message)];
      }
      case 'result': {
        const events = flushText();
        const error = isRecord(event.error) ? event.error : null;
        if (error) events.push(geminiError(text(error.message) || text(error.type)));
        events.push(...statsUsage(event.stats, model));
        events.push({ type: 'result', text: lastText, ok: event.status === 'success' });
        return events;
      }
      default:
        return [{ type: 'raw', line: raw }];
    }
  };
}

/** The result's per-model totals as one usage event each (Gemini CLI reports no cost). */
function statsUsage(stats: unknown, initModel: string | null): ExternalEvent[] {
  if (!isRecord(stats)) return [];
  const perModel = isRecord(stats.models) ? Object.entries(stats.models).filter(([, value]) => isRecord(value)) : [];
  const entries: [string | null, Record<string, unknown>][] =
    perModel.length > 0 ? (perModel as [string, Record<string, unknown>][]) : [[initModel, stats]];
  return entries.flatMap(([name, totals]): ExternalEvent[] => {
    const usage = {
      inputTokens: count(totals.input_tokens),
      cachedInputTokens: count(totals.cached),
      outputTokens: count(totals.output_tokens),
      reasoningTokens: 0,
    };
    if (usage.inputTokens === 0 && usage.outputTokens === 0) return [];
    return [{ type: 'usage', model: name, usage, costUsd: null }];
  });
}

/** One line saying what a tool call does: `write_file src/a.ts`, `run_shell_command npm test`. */
export function geminiToolSummary(name: string, parameters: unknown, cwd: string | null): string {
  const args = isRecord(parameters) ? parameters : {};
  const str = (key: string): string | undefined => (typeof args[key] === 'string' ? args[key] : undefined);
  const shortPath = (value: string): string => worktreePath(value, cwd);
  let detail: string | undefined;
  switch (name) {
    case 'read_file':
    case 'write_file':
    case 'replace': {
      const file = str('file_path') ?? str('absolute_path');
      detail = file === undefined ? undefined : shortPath(file);
      break;
    }
    case 'list_directory':
      detail = str('dir_path') === undefined ? undefined : shortPath(str('dir_path')!);
      break;
    case 'read_many_files':
      detail = Array.isArray(args.include) ? args.include.filter((value) => typeof value === 'string').join(' ') : undefined;
      break;
    case 'run_shell_command': {
      const command = str('command');
      const where = str('dir_path') ?? str('directory');
      detail = command === undefined ? undefined : where ? `${command} (in ${shortPath(where)})` : command;
      break;
    }
    case 'glob':
    case 'grep_search':
    case 'search_file_content': {
      const pattern = str('pattern');
      const where = str('dir_path') ?? str('path');
      detail = pattern === undefined ? undefined : where ? `${pattern} in ${shortPath(where)}` : pattern;
      break;
    }
    case 'web_fetch':
      detail = str('prompt');
      break;
    case 'google_web_search':
      detail = str('query');
      break;
    default:
      // Any other tool (MCP tools among them): its first string argument says most.
      detail = Object.values(args).find((value): value is string => typeof value === 'string');
  }
  return clipUnits(oneLine(detail ? `${name} ${detail}` : name), SUMMARY_MAX);
}

/** An error Gemini CLI reported, by what it means for the goal. */
export function geminiError(message: string): Extract<ExternalEvent, { type: 'error' }> {
  const kind = classifyGeminiError(message);
  const retryAfterSeconds = kind === 'rate-limit' ? retryAfter(message) : undefined;
  return { type: 'error', kind, message: readableApiError(message), ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) };
}

/**
 * `[API Error: {"error":{"code":400,"message":"API key not valid…","status":"INVALID_ARGUMENT",…}}]`
 * → `API key not valid… (400 INVALID_ARGUMENT)`: the API's own words, without its JSON.
 */
function readableApiError(message: string): string {
  const match = /^\[API Error: (\{[\s\S]*\})\]\s*$/.exec(message.trim());
  if (!match) return message;
  try {
    const body: unknown = JSON.parse(match[1]!);
    const error = isRecord(body) && isRecord(body.error) ? body.error : null;
    if (!error || !text(error.message)) return message;
    const status = [typeof error.code === 'number' ? String(error.code) : '', text(error.status)].filter(Boolean).join(' ');
    return status ? `${text(error.message)} (${status})` : text(error.message);
  } catch {
    return message;
  }
}

/** How Gemini CLI and the API word a used-up quota (its "daily quota", a free tier's limit, billing). */
const QUOTA = /exhausted your (daily )?quota|quota exceeded|exceeded your current quota|billing|free.?tier|check your plan/i;
const AUTH =
  /api key not valid|api_key_invalid|invalid api key|permission_denied|unauthenticated|\b401\b|\b403\b|must specify the GEMINI_API_KEY|invalid auth method|login required|not logged in|credentials/i;
const RATE_LIMIT = /\b429\b|resource_exhausted|resource has been exhausted|rate.?limit|too many requests/i;

export function classifyGeminiError(message: string): ExternalErrorKind {
  if (QUOTA.test(message)) return 'quota';
  if (AUTH.test(message)) return 'auth';
  if (RATE_LIMIT.test(message)) return 'rate-limit';
  return 'other';
}

/** "Suggested retry after 30s.", "Please retry in 5.2s": the wait the message names, if it does. */
function retryAfter(message: string): number | undefined {
  const match = /(?:retry after|retry in|try again in)\s+(\d+(?:\.\d+)?)\s*(ms|s)\b/i.exec(message);
  if (!match) return undefined;
  const value = Number(match[1]);
  return match[2] === 'ms' ? value / 1000 : value;
}

export const geminiBackend: AgentBackend = {
  name: 'gemini',
  displayName: 'Gemini CLI',
  executable: 'gemini',
  install: 'npm install -g @google/gemini-cli',
  auth: 'GEMINI_API_KEY (or Vertex AI: GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_API_KEY or GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION), or a Google login made once in `gemini`',
  authEnv: GEMINI_AUTH_ENV,
  versionArgs: ['--version'],
  invocation: (input) => geminiInvocation(input, input.permissions === 'all' ? null : geminiPolicyFile()),
  parser: (run) => geminiParser({ cwd: run.cwd }),
};
