/**
 * Chat transcripts: `.ralph/chat/<session>.jsonl`, one line per message in its final form (a user's
 * message when sent, a reply when its turn ends). Lines are appended in the order messages become
 * final, which is not the conversation's order (a second user message is written before the reply
 * to the first), so each line carries the message's `order` in its session.
 *
 * A crash mid-append can leave a torn last line: reading skips it, and the next append starts on a
 * fresh line so the torn bytes never glue onto a good message. Lines are never rewritten. A
 * transcript that is a link, a FIFO or larger than MAX_TRANSCRIPT_BYTES is neither read nor
 * appended to (the repository may be hostile).
 */
import { lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ChatMessage, describeZodError, RALPH_DIR } from '../../protocol/index.ts';
import { appendLine, createIfMissing } from '../fs/atomic-write.ts';
import { readdirIfExists, readRegularFile, UnsafeFileError } from '../fs/read.ts';
import { compareSessionIds, isSessionId } from './session-id.ts';

/** One line of a transcript: the message plus its place in the conversation. */
export const TranscriptLine = ChatMessage.extend({ order: z.int().nonnegative() });
export type TranscriptLine = z.infer<typeof TranscriptLine>;

export interface LoadedTranscript {
  /** In conversation order. */
  lines: TranscriptLine[];
  /** Lines that could not be read (torn or hand-damaged), with why, for the daemon's log. */
  skipped: string[];
}

const EXTENSION = '.jsonl';

/** A transcript larger than this is not read (a long day of chat is a few MiB). */
export const MAX_TRANSCRIPT_BYTES = 64 * 1024 * 1024;

export class TranscriptStore {
  readonly dir: string;
  /** Files whose last line is torn: their next append starts with a newline. */
  private readonly endsMidLine = new Set<string>();
  /** The daemon's secrets come out of every message before it is written. */
  private readonly redact: <T>(value: T) => T;

  constructor(dir: string, redact: <T>(value: T) => T = (value) => value) {
    this.dir = dir;
    this.redact = redact;
  }

  fileOf(session: string): string {
    if (!isSessionId(session)) throw new Error(`not a chat session id: ${session}`);
    return path.join(this.dir, `${session}${EXTENSION}`);
  }

  /** The sessions that have a transcript, oldest first. */
  async sessions(): Promise<string[]> {
    const names = await readdirIfExists(this.dir);
    return names
      .filter((name) => name.endsWith(EXTENSION))
      .map((name) => name.slice(0, -EXTENSION.length))
      .filter(isSessionId)
      .sort(compareSessionIds);
  }

  /** Creates a session's (empty) transcript, so the session exists, and is the newest, from now on. */
  async create(session: string): Promise<void> {
    await ensureRealFolder(this.dir);
    await createIfMissing(this.fileOf(session));
  }

  /** A session's messages in conversation order; an unknown session has none. */
  async load(session: string): Promise<LoadedTranscript> {
    let text: string;
    try {
      text = (await readRegularFile(this.fileOf(session), { maxBytes: MAX_TRANSCRIPT_BYTES })).toString('utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], skipped: [] };
      // Not read at all; appends to it are refused the same way.
      if (error instanceof UnsafeFileError) return { lines: [], skipped: [`the whole file: ${error.message}`] };
      throw error;
    }
    if (text !== '' && !text.endsWith('\n')) this.endsMidLine.add(session);
    return parseTranscript(session, text);
  }

  /**
   * Appends one message. Appends to one session must not overlap (the chat service runs them one
   * at a time per session): the torn-line repair relies on it.
   */
  async append(message: ChatMessage, order: number): Promise<void> {
    const { session } = message;
    const line = JSON.stringify(TranscriptLine.parse({ ...this.redact(message), order }));
    await ensureRealFolder(this.dir);
    const repair = this.endsMidLine.has(session);
    await appendLine(this.fileOf(session), repair ? `\n${line}` : line);
    this.endsMidLine.delete(session);
  }
}

/** Makes the transcripts' folder; one that is a symbolic link (transcripts would be written outside the repository) is refused. */
async function ensureRealFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if ((await lstat(dir)).isSymbolicLink())
    throw new Error(`${RALPH_DIR}/chat is a symbolic link, which Ralph does not follow: transcripts are not written`);
}

function parseTranscript(session: string, text: string): LoadedTranscript {
  const byId = new Map<string, TranscriptLine>();
  const skipped: string[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      skipped.push(`line ${index + 1}: not JSON`);
      return;
    }
    const parsed = TranscriptLine.safeParse(json);
    if (!parsed.success) {
      skipped.push(`line ${index + 1}: ${describeZodError(parsed.error)}`);
      return;
    }
    if (parsed.data.session !== session) {
      skipped.push(`line ${index + 1}: belongs to session ${parsed.data.session}`);
      return;
    }
    // A message written twice (the later line is the later state) counts once.
    byId.set(parsed.data.id, parsed.data);
  });
  const lines = [...byId.values()].sort((a, b) => a.order - b.order);
  return { lines, skipped };
}
