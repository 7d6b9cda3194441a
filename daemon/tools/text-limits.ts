/** Keeping what tools hand the model small: output caps and the binary-file test. */
import { formatBytes } from '../../protocol/index.ts';

/** Git's heuristic: a NUL byte in the first 8000 bytes makes a file binary. */
const BINARY_SNIFF_BYTES = 8000;

export function looksBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0);
}

/** One line, cut to `max` characters with a note of how much was cut. */
export function clipLine(line: string, max: number): string {
  return line.length <= max ? line : `${line.slice(0, max)}… [${line.length - max} more characters]`;
}

/**
 * Collects a stream of bytes keeping only its head and its tail, each half of `limitBytes`, so a
 * command that prints a gigabyte costs a bounded amount of memory and the model still sees how it
 * started and how it ended (where errors usually are).
 */
export class HeadTailBuffer {
  readonly limitBytes: number;
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  /** Chunks after the head; trimmed from the front so they hold little more than `tailLimit`. */
  private readonly tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;

  constructor(limitBytes: number) {
    this.limitBytes = limitBytes;
    this.headLimit = Math.ceil(limitBytes / 2);
    this.tailLimit = limitBytes - this.headLimit;
  }

  get totalBytes(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.headBytes < this.headLimit) {
      const take = Math.min(chunk.length, this.headLimit - this.headBytes);
      this.head.push(chunk.subarray(0, take));
      this.headBytes += take;
      chunk = chunk.subarray(take);
      if (chunk.length === 0) return;
    }
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    while (this.tail.length > 1 && this.tailBytes - this.tail[0]!.length >= this.tailLimit) {
      this.tailBytes -= this.tail.shift()!.length;
    }
  }

  /**
   * The text kept. When some was cut, the seams are moved to line boundaries (where a line break
   * is near) and a note in the middle says how much is missing.
   */
  finish(): { text: string; omittedBytes: number } {
    const head = Buffer.concat(this.head);
    const tailBuffer = Buffer.concat(this.tail);
    if (this.total <= this.limitBytes) return { text: Buffer.concat([head, tailBuffer]).toString('utf8'), omittedBytes: 0 };
    const tail = tailBuffer.subarray(tailBuffer.length - this.tailLimit);
    const headEnd = head.lastIndexOf(NEWLINE);
    const keptHead = headEnd >= head.length / 2 ? head.subarray(0, headEnd + 1) : head;
    const tailStart = tail.indexOf(NEWLINE);
    const keptTail = tailStart !== -1 && tailStart < tail.length / 2 ? tail.subarray(tailStart + 1) : tail;
    const omittedBytes = this.total - keptHead.length - keptTail.length;
    const note = `… [${formatBytes(omittedBytes)} cut from the middle: the output was ${formatBytes(this.total)}] …\n`;
    return {
      text: `${keptHead.toString('utf8')}${keptHead.at(-1) === NEWLINE ? '' : '\n'}${note}${keptTail.toString('utf8')}`,
      omittedBytes,
    };
  }
}

const NEWLINE = 0x0a;
