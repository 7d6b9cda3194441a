/**
 * Codex (`@openai/codex`, executable `codex`; written against 0.171) as the body of one iteration:
 * `codex exec --json`, headless in the goal's worktree, the prompt on stdin, one JSON event a line
 * on stdout.
 *
 * Permissions (README "What each agent backend may do"):
 * - `workspace` (the default): `--sandbox workspace-write` and `approval_policy="never"`. Its
 *   shell commands run in Codex's own sandbox (bubblewrap plus seccomp on Linux): they may write
 *   the worktree, /tmp and TMPDIR only, everything else is read-only, and they have no network.
 *   A command the sandbox refused is sometimes missing from the `--json` output (0.171): the log
 *   then shows no tool call for it, though the model saw the failure.
 *   Its edits (`apply_patch`) may touch the worktree only. Nothing waits for an approval: what the
 *   sandbox refuses fails, and the model sees the failure. The config widens it with Codex's own
 *   settings in `args`, e.g. `-c sandbox_workspace_write.network_access=true`.
 * - `all`: `--dangerously-bypass-approvals-and-sandbox`: no sandbox, no approvals.
 * The sandbox works as root in a container too (it needs user namespaces). On Linux it needs
 * Codex's helper, which Codex links under CODEX_HOME at start and refuses to put in the temp
 * folder: with CODEX_HOME inside TMPDIR (a test's temp home) every shell command fails with
 * `bwrap: execvp codex-linux-sandbox`. ~/.codex, the usual home, works.
 *
 * A project's own `.codex/config.toml` applies only when CODEX_HOME/config.toml trusts the project
 * (`exec` never trusts one by itself; 0.171 ignores a project's `model_provider` and
 * `model_providers` even then, but runs its MCP servers and hooks). In a repository the machine
 * does not trust (a queue worker's), `-c projects={"<worktree>"={trust_level="untrusted"}}`: no
 * project is trusted for the run, whatever the machine's config says.
 *
 * Authentication: CODEX_API_KEY, or what `codex login` stored in CODEX_HOME (a ChatGPT account,
 * or an API key with `codex login --with-api-key`). Codex 0.171 reads neither OPENAI_API_KEY nor
 * OPENAI_BASE_URL by itself: an OpenAI-compatible server (a proxy, a local model, a test's fake)
 * is a model provider in CODEX_HOME/config.toml (see `codexProviderConfig`), whose `env_key` may
 * name OPENAI_API_KEY, which is why that variable is passed too.
 *
 * Its output (`exec --json`): `thread.started`, `turn.started`, then `item.started` /
 * `item.updated` / `item.completed` for each item (`agent_message`, `reasoning`,
 * `command_execution`, `file_change`, `mcp_tool_call`, `web_search`, `todo_list`, `error`), and
 * the turn's end: `turn.completed` with the turn's usage, or `turn.failed`; `error` lines are its
 * retries ("Reconnecting... 2/5 (…)") and its fatal error. It reports no model and no cost.
 */
import { clipUnits, oneLine } from '../../../protocol/index.ts';
import type { AgentBackend, ExternalErrorKind, ExternalEvent, Invocation, InvocationInput } from './backend.ts';
import { count, isRecord, jsonObjectLine, text, worktreePath } from './json-lines.ts';

/** A tool call's summary is one line of at most this many characters. */
const SUMMARY_MAX = 200;
/** What a tool's output keeps (its end: where a command's errors are). */
const OUTPUT_MAX = 2000;

/** The arguments and stdin of one headless run (exported for the tests). */
export function codexInvocation(input: InvocationInput): Invocation {
  const permissions =
    input.permissions === 'all'
      ? ['--dangerously-bypass-approvals-and-sandbox']
      : // `exec` has no --ask-for-approval; the setting is the same.
        ['--sandbox', 'workspace-write', '-c', 'approval_policy="never"'];
  return {
    args: [
      'exec',
      '--json',
      '--color',
      'never',
      // The worktree is a git worktree; this only spares a refusal should Codex not see it as one.
      '--skip-git-repo-check',
      '--cd',
      input.cwd,
      ...permissions,
      // A repository it does not trust: untrusted whatever this machine's config says of its folder
      // (a trusted project's `.codex/config.toml` runs its MCP servers and hooks).
      ...(input.untrustedRepository ? ['-c', `projects={${JSON.stringify(input.cwd)}={trust_level="untrusted"}}`] : []),
      ...(input.model ? ['--model', input.model] : []),
      ...input.extraArgs,
      // The prompt comes on stdin: no argument-length limit, and it never shows in `ps`.
      '-',
    ],
    stdin: input.prompt,
  };
}

/**
 * The lines of CODEX_HOME/config.toml that point Codex at an OpenAI-compatible Responses API
 * (`baseUrl` ending in `/v1`), authenticating with the variable `envKey` names. WebSockets are
 * off: Codex tries them first with its own provider and falls back to HTTP after five failures.
 */
export function codexProviderConfig(options: { baseUrl: string; envKey?: string; id?: string; name?: string }): string {
  const id = options.id ?? 'ralph';
  return [
    `model_provider = ${JSON.stringify(id)}`,
    '',
    `[model_providers.${id}]`,
    `name = ${JSON.stringify(options.name ?? 'OpenAI-compatible')}`,
    `base_url = ${JSON.stringify(options.baseUrl)}`,
    'wire_api = "responses"',
    ...(options.envKey ? [`env_key = ${JSON.stringify(options.envKey)}`] : []),
    'supports_websockets = false',
    '',
  ].join('\n');
}

/** What the parser knows of the run it reads: its worktree (paths are shown relative to it) and model. */
export interface CodexRunContext {
  cwd: string | null;
  model: string | null;
}

/** One `exec --json` item, as far as the parser reads it. */
interface CodexItem {
  id?: unknown;
  type?: unknown;
  text?: unknown;
  message?: unknown;
  command?: unknown;
  aggregated_output?: unknown;
  exit_code?: unknown;
  status?: unknown;
  changes?: unknown;
  server?: unknown;
  tool?: unknown;
  arguments?: unknown;
  result?: unknown;
  error?: unknown;
  query?: unknown;
}

/** A fresh parser for one run's stdout. */
export function codexParser(context: CodexRunContext = { cwd: null, model: null }): (line: string) => ExternalEvent[] {
  /** Tool items whose start was reported: an item that completes without one gets its start first. */
  const started = new Set<string>();
  let lastMessage = '';
  let lastError: string | null = null;

  const toolItem = (item: CodexItem): { id: string | null; name: string; summary: string } | null => {
    const id = typeof item.id === 'string' ? item.id : null;
    switch (item.type) {
      case 'command_execution':
        return { id, name: 'shell', summary: line(`shell ${unwrapShell(text(item.command))}`) };
      case 'file_change':
        return { id, name: 'edit', summary: line(describeChanges(item.changes, context.cwd)) };
      case 'mcp_tool_call': {
        const name = `${text(item.server)}.${text(item.tool)}`;
        const args = item.arguments === undefined || item.arguments === null ? '' : ` ${JSON.stringify(item.arguments)}`;
        return { id, name, summary: line(`${name}${args}`) };
      }
      case 'web_search':
        return { id, name: 'web_search', summary: line(`web search ${text(item.query)}`) };
      default:
        return null;
    }
  };

  const onItem = (phase: 'started' | 'updated' | 'completed', item: CodexItem, raw: string): ExternalEvent[] => {
    switch (item.type) {
      case 'agent_message':
        if (phase !== 'completed') return [];
        lastMessage = text(item.text);
        return lastMessage.trim() ? [{ type: 'text', text: lastMessage }] : [];
      // Its thinking and its plan are neither its words nor a tool call.
      case 'reasoning':
      case 'todo_list':
        return [];
      // A warning of its own ("Model metadata for `x` not found"); the run goes on.
      case 'error':
        return phase === 'completed' ? [{ type: 'error', kind: 'other', message: text(item.message) }] : [];
    }
    const tool = toolItem(item);
    if (!tool) return [{ type: 'raw', line: raw }];
    const key = tool.id ?? '';
    if (phase === 'updated') return [];
    if (phase === 'started') {
      started.add(key);
      return [{ type: 'tool.start', ...tool }];
    }
    const events: ExternalEvent[] = started.delete(key) ? [] : [{ type: 'tool.start', ...tool }];
    const output = toolOutput(item);
    events.push({ type: 'tool.end', ...tool, ok: toolSucceeded(item), ...(output ? { output } : {}) });
    return events;
  };

  return (raw) => {
    const event = jsonObjectLine(raw);
    if (!event) return [{ type: 'raw', line: raw }];
    switch (event.type) {
      case 'thread.started':
      case 'turn.started':
        return [];
      case 'item.started':
      case 'item.updated':
      case 'item.completed':
        if (!isRecord(event.item)) return [{ type: 'raw', line: raw }];
        return onItem(event.type.slice('item.'.length) as 'started' | 'updated' | 'completed', event.item, raw);
      case 'turn.completed': {
        lastError = null;
        const usage = isRecord(event.usage) ? event.usage : {};
        return [
          {
            type: 'usage',
            model: context.model,
            usage: {
              inputTokens: count(usage.input_tokens),
              cachedInputTokens: count(usage.cached_input_tokens),
              // Includes the reasoning tokens, as OpenAI counts them.
              outputTokens: count(usage.output_tokens),
              reasoningTokens: count(usage.reasoning_output_tokens),
            },
            costUsd: null,
          },
          { type: 'result', text: lastMessage, ok: true },
        ];
      }
      case 'turn.failed': {
        const message = isRecord(event.error) ? text(event.error.message) : '';
        // Codex says its fatal error twice: as an `error` line, then as the turn's failure.
        const events: ExternalEvent[] = message && message !== lastError ? [codexError(message)] : [];
        events.push({ type: 'result', text: lastMessage, ok: false });
        return events;
      }
      case 'error': {
        const message = text(event.message);
        // Its retries: worth a line in the log, not a reason to stop (the final error says what failed).
        if (/^Reconnecting\.\.\./.test(message)) return [{ type: 'error', kind: 'other', message }];
        lastError = message;
        return [codexError(message)];
      }
      default:
        return [{ type: 'raw', line: raw }];
    }
  };
}

/** An error Codex reported, by what it means for the goal. */
export function codexError(message: string): Extract<ExternalEvent, { type: 'error' }> {
  const kind = classifyCodexError(message);
  const retryAfterSeconds = kind === 'rate-limit' ? retryAfter(message) : undefined;
  return { type: 'error', kind, message, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) };
}

/** How Codex words a used-up quota or plan limit (its message says "billing" too, and a 429 may carry it). */
const QUOTA = /quota|insufficient_quota|usage limit|usage_limit_reached|out of credits|billing/i;
/** A missing, bad or expired key or login. */
const AUTH = /\b401\b|unauthori[sz]ed|invalid_api_key|incorrect api key|api key|not logged in|log ?in again|access token|refresh token/i;
const RATE_LIMIT = /\b429\b|too many requests|rate.?limit/i;

export function classifyCodexError(message: string): ExternalErrorKind {
  if (QUOTA.test(message)) return 'quota';
  if (AUTH.test(message)) return 'auth';
  if (RATE_LIMIT.test(message)) return 'rate-limit';
  return 'other';
}

/** "try again in 20s", "retry after 3 seconds": the wait a rate limit names, if it does. */
function retryAfter(message: string): number | undefined {
  const match = /(?:try again in|retry after)\s+(\d+(?:\.\d+)?)\s*(ms|s|sec|seconds?)?\b/i.exec(message);
  if (!match) return undefined;
  const value = Number(match[1]);
  return match[2] === 'ms' ? value / 1000 : value;
}

/** `/bin/bash -lc 'npm test'` → `npm test`: the command as the model wrote it. */
export function unwrapShell(command: string): string {
  const match = /^(?:\S*\/)?(?:ba|z|da)?sh\s+-l?c\s+([\s\S]*)$/.exec(command.trim());
  if (!match) return command;
  const argument = match[1]!;
  if (/^'[\s\S]*'$/.test(argument)) return argument.slice(1, -1).replaceAll(`'\\''`, `'`);
  if (/^"[\s\S]*"$/.test(argument)) return argument.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
  return argument;
}

/** `edit src/a.ts`, `add src/new.ts`, `edit 3 files: a.ts, b.ts, c.ts`. */
function describeChanges(changes: unknown, cwd: string | null): string {
  const list = Array.isArray(changes) ? changes.filter(isRecord) : [];
  if (list.length === 0) return 'edit';
  const paths = list.map((change) => worktreePath(text(change.path), cwd));
  const kinds = new Set(list.map((change) => text(change.kind)));
  const verb = kinds.size === 1 && kinds.has('add') ? 'add' : kinds.size === 1 && kinds.has('delete') ? 'delete' : 'edit';
  return list.length === 1 ? `${verb} ${paths[0]}` : `${verb} ${list.length} files: ${paths.join(', ')}`;
}

function toolSucceeded(item: CodexItem): boolean {
  // A web search has no status: it completed.
  if (item.status !== undefined && item.status !== 'completed') return false;
  if (item.type === 'command_execution') return item.exit_code === 0;
  if (item.type === 'mcp_tool_call') return item.error === null || item.error === undefined;
  return true;
}

/** A command's output, an MCP tool's result text or error: its end, if any. */
function toolOutput(item: CodexItem): string | undefined {
  let output = '';
  if (item.type === 'command_execution') output = text(item.aggregated_output);
  else if (item.type === 'mcp_tool_call') {
    if (isRecord(item.error)) output = text(item.error.message);
    else if (isRecord(item.result) && Array.isArray(item.result.content)) {
      output = item.result.content.map((part) => (isRecord(part) ? text(part.text) : '')).join('\n');
    }
  }
  if (!output.trim()) return undefined;
  return output.length <= OUTPUT_MAX ? output : `…${output.slice(output.length - OUTPUT_MAX + 1)}`;
}

function line(summary: string): string {
  return clipUnits(oneLine(summary), SUMMARY_MAX);
}

export const codexBackend: AgentBackend = {
  name: 'codex',
  displayName: 'Codex',
  executable: 'codex',
  install: 'npm install -g @openai/codex',
  auth: 'CODEX_API_KEY, or `codex login` (a ChatGPT account, or an API key with `codex login --with-api-key`)',
  authEnv: ['CODEX_API_KEY', 'OPENAI_API_KEY', 'CODEX_HOME'],
  versionArgs: ['--version'],
  invocation: codexInvocation,
  parser: (run) => codexParser({ cwd: run.cwd, model: run.model }),
};
