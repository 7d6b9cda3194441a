/**
 * A tmux control-mode client (`tmux -C attach`): one long-lived process whose stdin takes tmux
 * commands and whose stdout streams every byte the panes' programs write (`%output` lines). It
 * lets a benchmark time a keypress or a start to the frame it causes within one process and
 * one clock, without starting a tmux process per key or polling the screen.
 *
 * Control clients do not size the window, so the session keeps the size it was made with.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { TmuxServer } from './tmux.ts';

export interface PaneOutput {
  /** The pane (`%3`). */
  pane: string;
  data: Buffer;
  /** performance.now() when the chunk was read. */
  at: number;
}

/** `%output %<pane> <bytes>`: bytes below 32 and the backslash come as `\ooo` (octal). */
export function decodeOutputLine(line: Buffer): { pane: string; data: Buffer } | null {
  const prefix = '%output ';
  if (line.subarray(0, prefix.length).toString('latin1') !== prefix) return null;
  const paneEnd = line.indexOf(0x20, prefix.length);
  if (paneEnd < 0) return null;
  const pane = line.subarray(prefix.length, paneEnd).toString('latin1');
  const bytes: number[] = [];
  for (let i = paneEnd + 1; i < line.length; i++) {
    const byte = line[i]!;
    if (byte === 0x5c && i + 3 < line.length && isOctal(line[i + 1]) && isOctal(line[i + 2]) && isOctal(line[i + 3])) {
      bytes.push(((line[i + 1]! - 0x30) << 6) | ((line[i + 2]! - 0x30) << 3) | (line[i + 3]! - 0x30));
      i += 3;
    } else {
      bytes.push(byte);
    }
  }
  return { pane, data: Buffer.from(bytes) };
}

function isOctal(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x37;
}

/** Quotes one argument for a tmux command line. */
export function tmuxQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export class TmuxControl {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly listeners = new Set<(output: PaneOutput) => void>();
  private pending: Buffer = Buffer.alloc(0);
  private stderr = '';
  readonly exited: Promise<void>;

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-2000)));
    child.stdout.on('data', (chunk: Buffer) => this.read(chunk));
  }

  /** Attaches a control client to `session` of `server`. */
  static attach(server: TmuxServer, session: string): TmuxControl {
    const { command, args, env } = server.invocation('-C', 'attach-session', '-t', session);
    return new TmuxControl(spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  /** Runs a tmux command (already quoted) without waiting for its answer. */
  send(command: string): void {
    if (this.child.exitCode !== null) throw new Error(`the tmux control client has exited: ${this.stderr}`);
    this.child.stdin.write(`${command}\n`);
  }

  /** Calls `listener` with every chunk any pane writes; returns a function that stops it. */
  onOutput(listener: (output: PaneOutput) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin.end(); // a control client detaches when its input ends
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
      await this.exited;
      clearTimeout(timer);
    }
  }

  private read(chunk: Buffer): void {
    const at = performance.now();
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let start = 0;
    for (let end = this.pending.indexOf(0x0a); end !== -1; end = this.pending.indexOf(0x0a, start)) {
      const decoded = decodeOutputLine(this.pending.subarray(start, end));
      start = end + 1;
      if (decoded) for (const listener of this.listeners) listener({ ...decoded, at });
    }
    this.pending = this.pending.subarray(start);
  }
}
