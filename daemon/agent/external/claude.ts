/**
 * Claude Code (`@anthropic-ai/claude-code`, written against 2.1.332) as the body of an iteration.
 *
 * How it is run: `claude -p --output-format stream-json --verbose --include-partial-messages`, the
 * prompt on stdin (no length limit, not visible in `ps`), in the goal's worktree. In `-p` mode
 * Claude Code shows no onboarding and skips the folder-trust dialog, so it runs unattended in a
 * fresh HOME too; it writes its state there all the same (`~/.claude.json`, the session's
 * transcript in `~/.claude/projects/<cwd>/`, backups and plugin caches under `~/.claude/`) and
 * listens on a socket under `/tmp/cc-socks/` while it runs.
 *
 * Permissions (README "What each agent backend may do"):
 * - `workspace` (the default): `--permission-mode acceptEdits` accepts Claude Code's file edits
 *   (Edit, Write, NotebookEdit) inside the worktree only; an edit outside it would ask, and in `-p`
 *   mode nobody answers, so it is refused. `--allowedTools Read,Glob,Grep,Bash` lets it read and
 *   search and run commands (tests, builds) without asking. Naming Edit or Write there would allow
 *   them anywhere on disk, so they are left to acceptEdits. `git push` is denied: Ralph owns git.
 *   Everything else (WebFetch, WebSearch, MCP tools …) would ask, and is refused.
 *   Bash commands are not confined to the worktree: Claude Code's own sandbox needs bubblewrap.
 * - `all`: `--dangerously-skip-permissions`. Claude Code refuses it as root unless IS_SANDBOX=1,
 *   which is then set: the user has said to skip every check, and that one is a check too.
 *
 * In a repository the machine does not trust (a queue worker's), `--setting-sources user
 * --strict-mcp-config`: the repository's `.claude/settings.json` and `settings.local.json` (their
 * `env`, `hooks`, `apiKeyHelper`, plugins) and its `.mcp.json` are not loaded; its CLAUDE.md still is.
 *
 * Its environment keeps it quiet: CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC (no connectivity check
 * `HEAD /api/hello` on the base URL, no MCP registry fetch, no telemetry export to
 * api.anthropic.com), DISABLE_AUTOUPDATER, DISABLE_TELEMETRY, DISABLE_ERROR_REPORTING.
 *
 * Its output, one JSON object a line: `system` (`init` with the cwd and model; `api_retry` each time
 * it retries a failed model call itself: a 401, 429 or 5xx, up to 10 times with backoff, minutes in
 * all, before it reports the error; `permission_denied`; status chatter), `stream_event` (the API's
 * own stream events, wrapped: only `message_start` and `message_delta` are read, for each model
 * call's usage), `assistant` (one content block a line: text, thinking, tool_use; several lines
 * may share a message id; an API error comes as a synthetic assistant message with `error` and
 * `api_error_status`), `user` (tool results, `is_error` when a tool failed or was refused), and
 * `result` at the end (the final text, `is_error`, `total_cost_usd`, summed `usage`, `modelUsage`;
 * `subtype` `error_max_turns`, `error_during_execution` … with `errors` instead of a text).
 */
import type { CallUsage } from '../../../protocol/index.ts';
import { clipUnits, oneLine } from '../../../protocol/text.ts';
import type { AgentBackend, ExternalErrorKind, ExternalEvent, InvocationInput, Invocation } from './backend.ts';
import { worktreePath } from './json-lines.ts';

/** Tools it may use without asking in `workspace` mode (edits come from acceptEdits, inside the worktree only). */
export const CLAUDE_ALLOWED_TOOLS = ['Read', 'Glob', 'Grep', 'Bash'] as const;
/** Refused even though Bash is allowed: Ralph owns pushing. */
export const CLAUDE_DENIED_TOOLS = ['Bash(git push:*)'] as const;

/** Set for every run: no update checks, telemetry, error reports or other traffic than the model's. */
export const CLAUDE_QUIET_ENV: Readonly<Record<string, string>> = {
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_AUTOUPDATER: '1',
  DISABLE_TELEMETRY: '1',
  DISABLE_ERROR_REPORTING: '1',
};

/** How long a tool summary and a tool output excerpt may be. */
const SUMMARY_CHARS = 160;
const OUTPUT_CHARS = 400;

export const claudeBackend: AgentBackend = {
  name: 'claude',
  displayName: 'Claude Code',
  executable: 'claude',
  install: 'npm install -g @anthropic-ai/claude-code',
  auth: 'ANTHROPIC_API_KEY (or claude login)',
  authEnv: ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_MODEL'],
  versionArgs: ['--version'],
  invocation: claudeInvocation,
  parser: claudeParser,
};

export function claudeInvocation(input: InvocationInput): Invocation {
  // Partial messages: a model call's usage is complete only in its `message_delta` (the assistant
  // lines repeat the usage `message_start` had, with 1 output token).
  const args = ['-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages'];
  const env: Record<string, string> = { ...CLAUDE_QUIET_ENV };
  if (input.permissions === 'all') {
    args.push('--dangerously-skip-permissions');
    env.IS_SANDBOX = '1';
  } else {
    // One argument each (comma-separated): the options are variadic and would swallow what follows.
    args.push('--permission-mode', 'acceptEdits', '--allowedTools', CLAUDE_ALLOWED_TOOLS.join(','));
    args.push('--disallowedTools', CLAUDE_DENIED_TOOLS.join(','));
  }
  // A repository it does not trust: only the user's own settings (~/.claude), none of the
  // repository's `.claude/settings*.json` (their `env` could point ANTHROPIC_BASE_URL elsewhere,
  // their `hooks` and `apiKeyHelper` run commands no permission covers), and none of its MCP servers.
  if (input.untrustedRepository) args.push('--setting-sources', 'user', '--strict-mcp-config');
  if (input.model) args.push('--model', input.model);
  args.push(...input.extraArgs);
  return { args, env, stdin: input.prompt };
}

/** The fields of Claude Code's lines the parser reads (everything else is ignored). */
interface ClaudeLine {
  type?: unknown;
  event?: { type?: unknown; message?: { id?: unknown; model?: unknown; usage?: AnthropicUsage }; usage?: AnthropicUsage };
  subtype?: unknown;
  cwd?: unknown;
  model?: unknown;
  message?: { id?: unknown; model?: unknown; content?: unknown; usage?: AnthropicUsage };
  error?: unknown;
  api_error_status?: unknown;
  error_status?: unknown;
  retry_delay_ms?: unknown;
  attempt?: unknown;
  max_retries?: unknown;
  is_error?: unknown;
  result?: unknown;
  errors?: unknown;
  total_cost_usd?: unknown;
  usage?: AnthropicUsage;
  modelUsage?: unknown;
}

interface AnthropicUsage {
  input_tokens?: unknown;
  output_tokens?: unknown;
  cache_read_input_tokens?: unknown;
  cache_creation_input_tokens?: unknown;
  output_tokens_details?: { thinking_tokens?: unknown } | null;
}

interface ContentBlock {
  type?: unknown;
  text?: unknown;
  id?: unknown;
  name?: unknown;
  input?: unknown;
  tool_use_id?: unknown;
  content?: unknown;
  is_error?: unknown;
}

/** A parser for one run: it remembers the cwd (for short paths), tool calls by id, and the last retry. */
export function claudeParser(): (line: string) => ExternalEvent[] {
  let cwd: string | null = null;
  let model: string | null = null;
  const tools = new Map<string, { name: string; summary: string }>();
  /** Model calls whose usage was counted (or is being, from their stream events), by message id. */
  const messagesSeen = new Set<string>();
  /** The call whose stream is running: its usage so far, completed by its `message_delta`. */
  let streaming: { model: string | null; usage: AnthropicUsage } | null = null;
  /** The delay of Claude Code's last retry of a 429: what a final rate-limit error waits. */
  let lastRateLimitDelayMs: number | null = null;
  let errorReported = false;

  const error = (kind: ExternalErrorKind, message: string): ExternalEvent => {
    errorReported = true;
    const event: ExternalEvent = { type: 'error', kind, message };
    if (kind === 'rate-limit' && lastRateLimitDelayMs !== null) event.retryAfterSeconds = Math.ceil(lastRateLimitDelayMs / 1000);
    return event;
  };

  return (raw) => {
    if (raw.trim() === '') return [];
    let line: ClaudeLine;
    try {
      const value: unknown = JSON.parse(raw);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [{ type: 'raw', line: raw }];
      line = value as ClaudeLine;
    } catch {
      return [{ type: 'raw', line: raw }];
    }

    switch (line.type) {
      case 'system':
        switch (line.subtype) {
          case 'init':
            if (typeof line.cwd === 'string') cwd = line.cwd;
            if (typeof line.model === 'string') model = line.model;
            return [];
          case 'api_retry': {
            const status = typeof line.error_status === 'number' ? line.error_status : null;
            const delayMs = typeof line.retry_delay_ms === 'number' ? line.retry_delay_ms : null;
            if (status === 429 && delayMs !== null) lastRateLimitDelayMs = delayMs;
            const after = delayMs === null ? '' : ` in ${(delayMs / 1000).toFixed(1)} s`;
            const attempt = typeof line.attempt === 'number' ? ` (attempt ${line.attempt} of ${String(line.max_retries ?? '?')})` : '';
            // Said as an error of no kind: logged, and no reason to wait or stop unless the run ends with it.
            const message = `a model call failed with ${status ?? 'an error'} (${String(line.error ?? 'unknown')}); it retries${after}${attempt}`;
            return [{ type: 'error', kind: 'other', message }];
          }
          default:
            // init's siblings (permission_denied, thinking_tokens, compact_boundary, hooks …) are
            // status: what matters of them shows in the tool results and the result.
            return [];
        }

      case 'stream_event': {
        const event = line.event ?? {};
        if (event.type === 'message_start' && event.message) {
          if (typeof event.message.id === 'string') messagesSeen.add(event.message.id);
          const startModel = typeof event.message.model === 'string' ? event.message.model : model;
          streaming = { model: startModel, usage: event.message.usage ?? {} };
        } else if (event.type === 'message_delta' && streaming) {
          // The delta's counts are the call's final ones; what it leaves out, message_start said.
          const usage = { ...streaming.usage, ...definedFields(event.usage ?? {}) };
          const call: ExternalEvent = { type: 'usage', model: streaming.model, usage: callUsage(usage), costUsd: null };
          streaming = null;
          return [call];
        }
        return [];
      }

      case 'assistant': {
        const message = line.message ?? {};
        const blocks = Array.isArray(message.content) ? (message.content as ContentBlock[]) : [];
        if (typeof line.error === 'string' || typeof line.api_error_status === 'number') {
          const text = blocks.map((block) => (typeof block.text === 'string' ? block.text : '')).join('\n');
          return [error(errorKind(line.error, line.api_error_status, text), text || `Claude Code: ${String(line.error)}`)];
        }
        const events: ExternalEvent[] = [];
        const messageModel = typeof message.model === 'string' && message.model !== '<synthetic>' ? message.model : model;
        // Counted from its stream events when they came; else (no partial messages) from the first of
        // its lines: each content block comes on a line of its own, with the message's usage repeated.
        if (typeof message.id === 'string' && !messagesSeen.has(message.id) && message.usage) {
          messagesSeen.add(message.id);
          events.push({ type: 'usage', model: messageModel, usage: callUsage(message.usage), costUsd: null });
        }
        for (const block of blocks) {
          if (block.type === 'text' && typeof block.text === 'string' && block.text.trim() !== '') {
            events.push({ type: 'text', text: block.text });
          } else if (block.type === 'tool_use' && typeof block.name === 'string') {
            const id = typeof block.id === 'string' ? block.id : null;
            const summary = toolSummary(block.name, block.input, cwd);
            if (id) tools.set(id, { name: block.name, summary });
            events.push({ type: 'tool.start', id, name: block.name, summary });
          }
        }
        return events;
      }

      case 'user': {
        const content = line.message?.content;
        if (!Array.isArray(content)) return [];
        const events: ExternalEvent[] = [];
        for (const block of content as ContentBlock[]) {
          if (block.type !== 'tool_result') continue;
          const id = typeof block.tool_use_id === 'string' ? block.tool_use_id : null;
          const call = id ? tools.get(id) : undefined;
          const name = call?.name ?? 'tool';
          const output = clipUnits(resultText(block.content).trim(), OUTPUT_CHARS);
          const event: ExternalEvent = { type: 'tool.end', id, name, summary: call?.summary ?? name, ok: block.is_error !== true };
          if (output) event.output = output;
          events.push(event);
        }
        return events;
      }

      case 'result': {
        const failed = line.is_error === true || (typeof line.subtype === 'string' && line.subtype.startsWith('error'));
        const errors = Array.isArray(line.errors) ? line.errors.filter((entry): entry is string => typeof entry === 'string') : [];
        const text = typeof line.result === 'string' ? line.result : errors.join('\n');
        const events: ExternalEvent[] = [];
        if (failed && !errorReported) {
          const message = text || `Claude Code ended with ${String(line.subtype ?? 'an error')}`;
          events.push(error(errorKind(undefined, line.api_error_status, message), message));
        }
        const result: ExternalEvent = { type: 'result', text, ok: !failed, model: resultModel(line.modelUsage) ?? model };
        if (typeof line.total_cost_usd === 'number') result.totalCostUsd = line.total_cost_usd;
        if (line.usage) result.usage = callUsage(line.usage);
        events.push(result);
        return events;
      }

      default:
        return [{ type: 'raw', line: raw }];
    }
  };
}

/**
 * What kind of error Claude Code reported: by its own error code when there is one
 * (`authentication_failed`, `billing_error`, `rate_limit` …), else by the API's status and words.
 */
function errorKind(code: unknown, status: unknown, message: string): ExternalErrorKind {
  switch (code) {
    case 'authentication_failed':
    case 'oauth_org_not_allowed':
    case 'account_on_hold':
    case 'verification_required':
      return 'auth';
    case 'billing_error':
      return 'quota';
    case 'rate_limit':
    case 'overloaded':
      return 'rate-limit';
  }
  if (/credit balance|usage limit|quota|billing/i.test(message)) return 'quota';
  if (status === 401 || status === 403 || /invalid api key|not logged in|please run \/login|authentication/i.test(message)) return 'auth';
  if (status === 429 || status === 529 || /rate limit|overloaded/i.test(message)) return 'rate-limit';
  return 'other';
}

/** The fields of an object that are not null or undefined. */
function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== null && field !== undefined)) as Partial<T>;
}

/** Anthropic counts input without its cache reads and writes; Ralph's input includes them, as OpenAI's does. */
function callUsage(usage: AnthropicUsage): CallUsage {
  const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0);
  const cached = count(usage.cache_read_input_tokens);
  return {
    inputTokens: count(usage.input_tokens) + cached + count(usage.cache_creation_input_tokens),
    cachedInputTokens: cached,
    outputTokens: count(usage.output_tokens),
    reasoningTokens: count(usage.output_tokens_details?.thinking_tokens),
  };
}

/** The model that cost the most in the result's `modelUsage` (the session's main model). */
function resultModel(modelUsage: unknown): string | null {
  if (typeof modelUsage !== 'object' || modelUsage === null) return null;
  let best: { name: string; cost: number } | null = null;
  for (const [name, usage] of Object.entries(modelUsage as Record<string, { costUSD?: unknown }>)) {
    const cost = typeof usage?.costUSD === 'number' ? usage.costUSD : 0;
    if (!best || cost > best.cost) best = { name, cost };
  }
  return best?.name ?? null;
}

/** A tool result's content (a string, or text blocks) as text. */
function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block: ContentBlock) => (block?.type === 'text' && typeof block.text === 'string' ? block.text : ''))
    .filter(Boolean)
    .join('\n');
}

/** One line saying what a tool call does: `Write src/a.ts`, `Bash npm test`, `Grep TODO in src`. */
export function toolSummary(name: string, input: unknown, cwd: string | null): string {
  const args = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  const str = (key: string) => (typeof args[key] === 'string' ? (args[key] as string) : undefined);
  const shortPath = (value: string): string => worktreePath(value, cwd);
  let detail: string | undefined;
  switch (name) {
    case 'Read':
    case 'Write':
    case 'Edit':
    case 'MultiEdit':
    case 'NotebookEdit': {
      const file = str('file_path') ?? str('notebook_path');
      detail = file === undefined ? undefined : shortPath(file);
      break;
    }
    case 'Bash':
      detail = str('command');
      break;
    case 'Glob':
    case 'Grep': {
      const pattern = str('pattern');
      const where = str('path');
      detail = pattern === undefined ? undefined : where ? `${pattern} in ${shortPath(where)}` : pattern;
      break;
    }
    case 'WebFetch':
      detail = str('url');
      break;
    case 'WebSearch':
      detail = str('query');
      break;
    case 'Task':
    case 'Agent':
      detail = str('description') ?? str('prompt');
      break;
    default:
      // Any other tool (MCP tools among them): its first string argument says most.
      detail = Object.values(args).find((value): value is string => typeof value === 'string');
  }
  return clipUnits(oneLine(detail ? `${name} ${detail}` : name), SUMMARY_CHARS);
}
