/** `ralph logs ID [--follow]`: a goal's execution log, read page by page, then followed live. */
import type { RalphClient } from '../../protocol/client.ts';
import { messageOf, type EventEnvelope, type LogEntry } from '../../protocol/index.ts';
import { parseGoalId, type CommandHandler } from './commands.ts';
import { formatDateTime, note, paint, print, printJsonLine } from './output.ts';
import { withDaemon } from './session.ts';
import { cleanText, oneLine } from '../terminal-text.ts';

const PAGE_SIZE = 1000;
const KIND_WIDTH = 10;

function formatEntry(entry: LogEntry): string {
  const kind = oneLine(entry.kind);
  const head = `${paint('dim', formatDateTime(entry.time))}  ${kind.padEnd(KIND_WIDTH)}  `;
  // Continuation lines start under the text, so a multi-line entry still reads as one.
  const indent = ' '.repeat(formatDateTime(entry.time).length + 2 + Math.max(KIND_WIDTH, kind.length) + 2);
  return head + cleanText(entry.text).split('\n').join(`\n${indent}`);
}

/**
 * Prints a goal's entries exactly once and in order, whichever way they arrive (pages of `logs.read`
 * or `log.appended` events). Work is serialized; a gap in the events (missed while reconnecting)
 * is filled by reading from the first entry not yet printed.
 */
class LogPrinter {
  private readonly client: RalphClient;
  private readonly goalId: number;
  private readonly json: boolean;
  /** Index of the first entry not printed yet. */
  private next = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(client: RalphClient, goalId: number, json: boolean) {
    this.client = client;
    this.goalId = goalId;
    this.json = json;
  }

  private print(entry: LogEntry): void {
    if (entry.index < this.next) return;
    if (this.json) printJsonLine(entry);
    else print(formatEntry(entry));
    this.next = entry.index + 1;
  }

  /** Reads and prints everything from `next` to the end of the log as it is now. */
  async catchUp(): Promise<void> {
    for (;;) {
      const page = await this.client.request('logs.read', { id: this.goalId, from: this.next, limit: PAGE_SIZE });
      for (const entry of page.entries) this.print(entry);
      if (page.entries.length === 0 || this.next >= page.total) return;
    }
  }

  /** The first read, serialized with the events like all later work; its failure (say, an unknown goal) ends the command. */
  start(): Promise<void> {
    const first = this.catchUp();
    this.chain = first.catch(() => undefined);
    return first;
  }

  /** Entries pushed by the daemon: printed directly when they continue the log, else read afresh. */
  private async take(entries: readonly LogEntry[]): Promise<void> {
    const sorted = [...entries].sort((a, b) => a.index - b.index);
    const first = sorted[0];
    if (!first) return;
    if (first.index > this.next) await this.catchUp();
    else for (const entry of sorted) this.print(entry);
  }

  /** Runs work after everything queued before it; a failure is reported and following goes on. */
  enqueue(work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((error: unknown) => note(`logs: ${messageOf(error)}`));
  }

  onEvent(event: EventEnvelope): void {
    if (event.type === 'log.appended' && event.data.goalId === this.goalId) this.enqueue(() => this.take(event.data.entries));
  }
}

/** Resolves on Ctrl+C or SIGTERM: how `--follow` ends. */
function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export const showLogs: CommandHandler = async (context) => {
  const goalId = parseGoalId(context.args[0]!, 'logs');
  const follow = context.options.follow === true;
  await withDaemon(
    context,
    async (client) => {
      const printer = new LogPrinter(client, goalId, context.json);
      // Listen before reading the pages: an entry appended meanwhile comes as an event and is not lost.
      if (follow) {
        client.on('event', (event) => printer.onEvent(event));
        client.on('status', (status) => {
          if (status === 'reconnecting') note('lost the daemon; reconnecting…');
          if (status !== 'open') return;
          note('reconnected');
          // Entries appended while away: read them now rather than at the next event.
          printer.enqueue(() => printer.catchUp());
        });
      }
      await printer.start();
      if (follow) await untilInterrupted();
    },
    { reconnect: follow },
  );
};
