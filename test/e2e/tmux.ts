/**
 * Real terminals for end-to-end tests and benchmarks: a private tmux server (its own socket in a
 * temporary folder, no user config) whose sessions run the real `ralph` TUI at a fixed size. The screen is read with
 * `capture-pane`, keys are typed with `send-keys`, and waits poll the screen with a bounded timeout.
 *
 * Ink draws only the last frame when it thinks it runs in CI (is-in-ci: CI, CONTINUOUS_INTEGRATION),
 * so those variables are taken out of every terminal's environment: inside tmux the TUI is interactive.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { isProcessAlive } from '../../protocol/index.ts';
import { RALPH_BIN } from '../helpers/cli.ts';
import { waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);

/** Variables that make Ink (is-in-ci) skip every frame but the last. */
const CI_VARIABLES = ['CI', 'CONTINUOUS_INTEGRATION'];

/** The tmux program on PATH, or null when there is none (the only reason to skip a terminal test). */
export function findTmux(): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'tmux');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return null;
}

/** `ralph` (the TUI) as a command line for a terminal: this Node, the project's bin. */
export function ralphCommand(...args: string[]): string[] {
  return [process.execPath, RALPH_BIN, ...args];
}

export interface TmuxServerOptions {
  /** A folder for the server's socket and config file (a temporary folder, removed after). */
  dir: string;
  /** The environment of every program the server runs (CI variables are removed). */
  env: NodeJS.ProcessEnv;
}

export interface SessionOptions {
  name: string;
  command: string[];
  cwd: string;
  width: number;
  height: number;
}

/** One private tmux server. `kill()` ends it and every program in it; call it in t.after. */
export class TmuxServer {
  /** The server's socket (`tmux -S`): in the test's folder, so it goes with it. */
  readonly socket: string;
  private readonly tmux: string;
  private readonly configFile: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly panePids = new Set<number>();

  private constructor(tmux: string, socket: string, configFile: string, env: NodeJS.ProcessEnv) {
    this.tmux = tmux;
    this.socket = socket;
    this.configFile = configFile;
    this.env = env;
  }

  static async create({ dir, env }: TmuxServerOptions): Promise<TmuxServer> {
    const tmux = findTmux();
    if (!tmux) throw new Error('tmux is not installed');
    const configFile = path.join(dir, 'tmux.conf');
    // A pane whose program exits stays, so its last screen and exit status can be read.
    await writeFile(configFile, 'set -g remain-on-exit on\nset -g status off\nset -g history-limit 0\n');
    const terminalEnv: NodeJS.ProcessEnv = { ...env };
    for (const name of [...CI_VARIABLES, 'TMUX', 'TMUX_PANE']) delete terminalEnv[name];
    return new TmuxServer(tmux, path.join(dir, 'tmux.sock'), configFile, terminalEnv);
  }

  /** How to run tmux with `args` against this server (for a long-lived client such as control mode). */
  invocation(...args: string[]): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
    return { command: this.tmux, args: ['-S', this.socket, '-f', this.configFile, ...args], env: this.env };
  }

  /** Runs one tmux command against this server and returns its stdout. */
  async command(...args: string[]): Promise<string> {
    const { command, args: argv, env } = this.invocation(...args);
    const { stdout } = await run(command, argv, { env, encoding: 'utf8', timeout: 10_000 });
    return stdout;
  }

  /** Starts a detached session running `command` at a fixed size (the first one starts the server). */
  async newSession({ name, command, cwd, width, height }: SessionOptions): Promise<Terminal> {
    // With the command as separate arguments tmux runs it directly, with no shell in between.
    await this.command('new-session', '-d', '-s', name, '-x', String(width), '-y', String(height), '-c', cwd, '--', ...command);
    const terminal = new Terminal(this, name);
    this.track((await terminal.pane()).pid);
    return terminal;
  }

  /** Remembers a program started in a pane (by respawn-pane), so `kill()` makes sure it is gone. */
  track(pid: number): void {
    if (pid > 0) this.panePids.add(pid);
  }

  /**
   * Ends the server and the programs it ran. Each pane's program leads its own process group
   * (tmux starts it in a new session); a group still alive after the hangup (a program that ignores
   * SIGHUP, or a child it started) is killed.
   */
  async kill(): Promise<void> {
    await this.command('kill-server').catch(() => {}); // no server (never started, or gone) is fine
    for (const pid of this.panePids) {
      await waitFor(() => !isProcessAlive(pid), { timeoutMs: 3000, message: `pane process ${pid} to exit` }).catch(() => {});
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // the whole group is gone
      }
    }
  }
}

export interface PaneState {
  pid: number;
  /** The program has exited (the pane stays: remain-on-exit). */
  dead: boolean;
  /** Its exit status once dead (null while alive, or when a signal ended it). */
  exitStatus: number | null;
  /** The signal that ended it, if one did. */
  exitSignal: string | null;
  width: number;
  height: number;
}

export interface ScreenWaitOptions {
  timeoutMs?: number;
  /** Capture with wrapped lines joined (a line wider than the terminal shows as one long line). */
  joinWrapped?: boolean;
}

/** One session's pane: a terminal with a program in it. */
export class Terminal {
  readonly server: TmuxServer;
  readonly name: string;

  constructor(server: TmuxServer, name: string) {
    this.server = server;
    this.name = name;
  }

  /** The screen as text, one string per row (colors dropped). */
  async screen({ joinWrapped = false }: { joinWrapped?: boolean } = {}): Promise<string[]> {
    const text = await this.server.command('capture-pane', '-p', ...(joinWrapped ? ['-J'] : []), '-t', this.name);
    return text.replace(/\n$/, '').split('\n');
  }

  /** Presses keys by tmux name (`Enter`, `Tab`, `C-c`, `Q`, `j`). */
  async press(...keys: string[]): Promise<void> {
    await this.server.command('send-keys', '-t', this.name, ...keys);
  }

  /** Types text literally (no key names). */
  async type(text: string): Promise<void> {
    await this.server.command('send-keys', '-t', this.name, '-l', text);
  }

  async pane(): Promise<PaneState> {
    // Tab-separated: a field tmux leaves empty stays in its place.
    const format = ['pane_pid', 'pane_dead', 'pane_dead_status', 'pane_dead_signal', 'pane_width', 'pane_height']
      .map((name) => `#{${name}}`)
      .join('\t');
    const [pid, dead, status, signal, width, height] = (await this.server.command('display-message', '-p', '-t', this.name, format))
      .replace(/\n$/, '')
      .split('\t');
    return {
      pid: Number(pid),
      dead: dead === '1',
      exitStatus: status ? Number(status) : null,
      exitSignal: signal || null,
      width: Number(width),
      height: Number(height),
    };
  }

  /** Replaces the pane's program (killed with SIGHUP) with `command`. */
  async respawn(command: string[]): Promise<void> {
    await this.server.command('respawn-pane', '-k', '-t', this.name, '--', ...command);
    this.server.track((await this.pane()).pid);
  }

  /** Waits for the pane's program to exit and returns how (its pane stays: remain-on-exit). */
  async waitForExit(timeoutMs = 20_000): Promise<PaneState> {
    let deadSince: number | undefined;
    return waitFor(
      async () => {
        const pane = await this.pane();
        if (!pane.dead) return false;
        // tmux marks the pane dead a moment before it records the status, and on a loaded machine it
        // sometimes never records it: after 3 s dead, the status is taken as unknown (null).
        deadSince ??= Date.now();
        return (pane.exitStatus !== null || pane.exitSignal !== null || Date.now() - deadSince > 3_000) && pane;
      },
      { timeoutMs, message: `the program in ${this.name} to exit` },
    );
  }

  /** Kills the pane (its program gets SIGHUP, as when a terminal window is closed). */
  async killPane(): Promise<void> {
    await this.server.command('kill-pane', '-t', this.name);
  }

  /**
   * Polls the screen until `check` returns something truthy and returns that; on timeout the error
   * quotes the last screen, so a failing test shows what the terminal looked like.
   */
  async waitForScreen<T>(
    check: (rows: string[]) => T | undefined | null | false,
    message: string,
    options: ScreenWaitOptions = {},
  ): Promise<T> {
    let last: string[] = [];
    try {
      return await waitFor(
        async () => {
          last = await this.screen({ joinWrapped: options.joinWrapped });
          return check(last);
        },
        { timeoutMs: options.timeoutMs ?? 20_000, intervalMs: 50, message: `${this.name}: ${message}` },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- screen of ${this.name} ---\n${last.join('\n')}\n---`, { cause: error });
    }
  }

  /** Waits until the screen holds `text` (a string, or a pattern matched against the whole screen). */
  waitForText(text: string | RegExp, options: ScreenWaitOptions = {}): Promise<string[]> {
    const holds = (rows: string[]) => (typeof text === 'string' ? rows.join('\n').includes(text) : text.test(rows.join('\n')));
    return this.waitForScreen((rows) => holds(rows) && rows, `the screen to show ${String(text)}`, options);
  }
}
