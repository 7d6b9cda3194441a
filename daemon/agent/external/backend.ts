/**
 * An external agent CLI (Claude Code, Codex, OpenCode, Gemini CLI, or any command) as the body of
 * one Ralph-loop iteration. Each backend is described once here by what differs between CLIs: how
 * to invoke it headless in the goal's worktree with the iteration's prompt, and how to read its
 * machine-readable output. Everything around it (the process group, timeouts, cancel, the log, the
 * commit, the check, the bounds) is the harness's and the same for every backend.
 *
 * A backend's output is read line by line: `parse` turns one line of its stdout into zero or more
 * `ExternalEvent`s, the one event union the harness follows (it knows nothing about any CLI). A
 * line that does not parse becomes a `raw` event: logged as it is, never a failure of the run.
 */
import type { CallUsage } from '../../../protocol/index.ts';

/**
 * How an external agent says the goal is done: a line of its final message
 * `RALPH_GOAL_DONE: <one-line summary>` (the iteration's prompt asks for it). The goal is done only
 * if the check then passes, as with Ralph's own agent and its `goal_done` tool.
 */
export const DONE_MARKER = 'RALPH_GOAL_DONE';

/**
 * How an external agent asks the developer something (Ralph's own agent has the `ask_human` tool):
 * a line of its final message `RALPH_ASK_HUMAN: <the question>`. The goal then waits for the answer,
 * which the next iteration's prompt carries.
 */
export const ASK_MARKER = 'RALPH_ASK_HUMAN';

/** Why an external agent could not do its work, as far as its output tells. */
export type ExternalErrorKind =
  /** Not logged in, a bad or missing key: the user must act; never a burned iteration. */
  | 'auth'
  /** The account's quota or credit is used up: pause until it resets. */
  | 'quota'
  /** Rate limited: wait (`retryAfterSeconds` when the CLI says). */
  | 'rate-limit'
  /** Anything else the CLI reported as an error. */
  | 'other';

/** What an external agent did, translated from one line of its output. */
export type ExternalEvent =
  /** The model's words in one turn (an assistant message). */
  | { type: 'text'; text: string }
  /** A tool call began; `summary` is one line (`Write src/a.ts`, `Bash npm test`). `id` pairs it with its end. */
  | { type: 'tool.start'; id: string | null; name: string; summary: string }
  /** A tool call ended (`ok` false when the CLI reported it failed); `output` is a short excerpt, if any. */
  | { type: 'tool.end'; id: string | null; name: string; summary: string; ok: boolean; output?: string }
  /** One model call's (or one turn's) usage, and its cost when the CLI reports one. */
  | { type: 'usage'; model: string | null; usage: CallUsage; costUsd: number | null }
  /**
   * The run's end as the CLI reports it: its final text (where the done marker is looked for), and
   * whether it considers the run a success. Totals it reports replace the sum of `usage` events
   * when given (`totalCostUsd`), since some CLIs report a total only.
   */
  | { type: 'result'; text: string; ok: boolean; totalCostUsd?: number | null; usage?: CallUsage; model?: string | null }
  /** The CLI reported an error. */
  | { type: 'error'; kind: ExternalErrorKind; message: string; retryAfterSeconds?: number }
  /** A line that is not (or not known) machine-readable output: kept in the log as it is. */
  | { type: 'raw'; line: string };

/** How much an external agent may do unattended (README "What each agent backend may do"). */
export type ExternalPermissions =
  /** Edit files in the worktree and run commands there, and nothing the CLI classes as wider. The default. */
  | 'workspace'
  /** Skip the CLI's own permission checks entirely (its "yolo" mode): only on the user's explicit word. */
  | 'all';

/** What one headless run of a backend needs to know. */
export interface InvocationInput {
  /** The iteration's prompt (goal, notes, last check, the one-step rule, the done marker). */
  prompt: string;
  /** The goal's worktree: the CLI's working folder. */
  cwd: string;
  /** A model the config names for this backend, or null: the CLI's own default. */
  model: string | null;
  permissions: ExternalPermissions;
  /** Extra arguments from the config, appended after the backend's own. */
  extraArgs: readonly string[];
  /**
   * The worktree is a repository this machine does not trust (a queue worker's: anyone who can
   * write to the queue names it): the CLI loads none of the repository's settings that could send
   * its requests (and key) elsewhere, change how it authenticates, or run commands of their own
   * (hooks, plugins, MCP servers). Default false: the user's own repository, whose settings apply.
   */
  untrustedRepository?: boolean;
}

/** What a parser knows of its run: the same worktree and model its invocation was given. */
export type ParserRun = Pick<InvocationInput, 'cwd' | 'model'>;

/** One headless run: the arguments after the executable, environment added to the run's, and what goes on stdin. */
export interface Invocation {
  args: string[];
  env?: Record<string, string>;
  /** Written to the CLI's stdin, which is then closed; none: stdin is closed at once. */
  stdin?: string;
}

/** One agent CLI, described by what differs between CLIs. */
export interface AgentBackend {
  /** Its name in the config and on the command line: `claude`, `codex`, `opencode`, `gemini`. */
  name: string;
  /** Its name for people: `Claude Code`. */
  displayName: string;
  /** The executable looked up on PATH (or the config's path to it). */
  executable: string;
  /** How to install it, said when it is missing: `npm install -g @anthropic-ai/claude-code`. */
  install: string;
  /** How it authenticates, in one line (for `ralph agents` and the "not logged in" error). */
  auth: string;
  /**
   * Variables of the daemon's environment it authenticates with or is pointed by
   * (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`): passed to its process although they may look
   * secret. Their values are still redacted from everything Ralph writes or shows.
   */
  authEnv: readonly string[];
  /** Arguments that print its version. */
  versionArgs: string[];
  /** Its headless run for one iteration. */
  invocation(input: InvocationInput): Invocation;
  /**
   * A fresh parser for one run's stdout (a CLI's stream may carry state across lines), given the
   * run's worktree and model (tool summaries show paths relative to it; costs are priced by it).
   */
  parser(run: ParserRun): (line: string) => ExternalEvent[];
}
