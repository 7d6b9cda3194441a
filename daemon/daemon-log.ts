/**
 * The background daemon's own log, `.ralph/daemon.log`. A daemon may run for weeks: once the file
 * passes `maxBytes` it keeps only its newest `keepBytes` (from the start of a line) and goes on.
 * One file, trimmed in place (written aside and renamed over), so the `.ralph/.gitignore` already
 * written in existing repositories still covers it. Synchronous, like the appends: log lines are
 * rare, and none is lost when the process exits.
 */
import { appendFileSync, closeSync, openSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tempFileFor } from './fs/atomic-write.ts';

export interface DaemonLogLimits {
  maxBytes: number;
  keepBytes: number;
}

export const DAEMON_LOG_LIMITS: DaemonLogLimits = { maxBytes: 8 * 1024 * 1024, keepBytes: 1024 * 1024 };

export class DaemonLogFile {
  readonly file: string;
  private readonly limits: DaemonLogLimits;
  private size: number;

  constructor(file: string, limits: DaemonLogLimits = DAEMON_LOG_LIMITS) {
    this.file = file;
    this.limits = limits;
    this.size = sizeOf(file);
  }

  /** Appends text (whole lines); never throws: a full disk must not take the daemon down with it. */
  append(text: string): void {
    try {
      appendFileSync(this.file, text);
      this.size += Buffer.byteLength(text);
      if (this.size > this.limits.maxBytes) this.trim();
    } catch {
      this.size = sizeOf(this.file);
    }
  }

  private trim(): void {
    const kept = this.newestLines();
    const note = `ralph daemon: ${new Date().toISOString()} log trimmed to its newest ${kept.length} bytes (it had passed ${this.limits.maxBytes})\n`;
    // A hidden `.tmp` name: .ralph/.gitignore ignores it, and the store removes one a crash left.
    const temp = tempFileFor(this.file);
    writeFileSync(temp, Buffer.concat([Buffer.from(note), kept]));
    renameSync(temp, this.file);
    this.size = note.length + kept.length;
  }

  /** The file's last keepBytes, from the first whole line in them. */
  private newestLines(): Buffer {
    const fd = openSync(this.file, 'r');
    try {
      const size = statSync(this.file).size;
      const length = Math.min(size, this.limits.keepBytes);
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      if (length === size) return buffer;
      const lineStart = buffer.indexOf(0x0a) + 1;
      return buffer.subarray(lineStart);
    } finally {
      closeSync(fd);
    }
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
