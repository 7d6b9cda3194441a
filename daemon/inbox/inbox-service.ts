/**
 * The inbox: every question an agent asked a person, one file each in `.ralph/questions/<id>.json`
 * (written atomically, read back when the daemon starts, so a question outlives a killed daemon),
 * and the one place they are answered. The first answer wins: it is written into the question's
 * file, and a later one is refused with who answered and when.
 *
 * The repository may be hostile, as with goal files: a question file is read only when it is a
 * regular file of at most MAX_QUESTION_FILE_BYTES, UTF-8 JSON that validates, whose id matches
 * its name. Anything else is reported (the daemon's log, `inbox.list`'s `invalid`), never read
 * again, never answered and never written over: a new question takes an id past every file's.
 *
 * Publishes `question.asked`, `question.answered` and `question.withdrawn`; what an answer means for
 * the asker (a goal goes back to the queue) is the asker's, following those events.
 */
import { lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  byAge,
  describeAsker,
  isOpen,
  oneLine,
  Question,
  RALPH_DIR,
  type EventEnvelope,
  type InvalidQuestion,
  type QuestionFrom,
} from '../../protocol/index.ts';
import { ConflictError, NotFoundError, UnavailableError } from '../errors.ts';
import type { EventBus } from '../events/bus.ts';
import { removeStrayTempFiles, writeFileAtomic } from '../fs/atomic-write.ts';
import { parseJsonBytes } from '../fs/json-text.ts';
import { readdirIfExists, readRegularFile, UnsafeFileError } from '../fs/read.ts';
import type { Log } from '../log.ts';
import { KeyedQueue } from '../store/keyed-queue.ts';

/** A question file larger than this is not read (a question and its answer are a few KB). */
export const MAX_QUESTION_FILE_BYTES = 1024 * 1024;

/** The most question files read at start: beyond them a repository is hostile, not busy. */
export const MAX_QUESTION_FILES = 10_000;

const QUESTION_FILE = /^([1-9]\d{0,9})\.json$/;

type Cause = EventEnvelope['cause'];

export interface InboxOptions {
  repoRoot: string;
  bus: EventBus;
  log: Log;
  now?: () => Date;
  /** The daemon's secrets come out of a question and its answer before they are kept, written or sent. */
  redact?: <T>(value: T) => T;
}

export interface NewQuestion {
  from: QuestionFrom;
  question: string;
  options?: readonly string[];
}

export class InboxService {
  /** `.ralph/questions`. */
  readonly dir: string;
  private readonly options: InboxOptions;
  private readonly now: () => Date;
  private readonly redact: <T>(value: T) => T;
  private readonly questions = new Map<number, Question>();
  private readonly invalidFiles = new Map<number, InvalidQuestion>();
  /** Asks take ids one at a time; an answer and another answer to the same question, too. */
  private readonly queue = new KeyedQueue<number | 'ask'>();
  private nextId = 1;
  /** Why questions cannot be written here (the folder is a link), or null. */
  private unwritable: string | null = null;

  private constructor(options: InboxOptions) {
    this.options = options;
    this.dir = path.join(options.repoRoot, RALPH_DIR, 'questions');
    this.now = options.now ?? (() => new Date());
    this.redact = options.redact ?? ((value) => value);
  }

  /** Reads the questions on disk; a file that is not a question is reported and left alone. */
  static async open(options: InboxOptions): Promise<InboxService> {
    const inbox = new InboxService(options);
    await inbox.load();
    return inbox;
  }

  /** The open questions, oldest first (or every question with `all`), and the files that are not read. */
  list({ all = false }: { all?: boolean } = {}): { questions: Question[]; invalid: InvalidQuestion[] } {
    const questions = [...this.questions.values()].filter((question) => all || isOpen(question)).sort(byAge);
    return { questions, invalid: [...this.invalidFiles.values()] };
  }

  /** The open questions, oldest first (the snapshot's). */
  openQuestions(): Question[] {
    return this.list().questions;
  }

  get(id: number): Question | undefined {
    return this.questions.get(id);
  }

  /** Every question a goal asked, oldest first. */
  ofGoal(goalId: number): Question[] {
    return [...this.questions.values()].filter((question) => 'goalId' in question.from && question.from.goalId === goalId).sort(byAge);
  }

  /** Files a question: written before it is announced (`question.asked`). Throws UnavailableError when it cannot be written. */
  ask(input: NewQuestion, cause?: Cause): Promise<Question> {
    return this.queue.run('ask', async () => {
      if (this.unwritable) throw new UnavailableError(`questions cannot be written: ${this.unwritable}`);
      const draft = this.redact({
        id: this.nextId,
        createdAt: this.now().toISOString(),
        from: input.from,
        question: input.question,
        ...(input.options && input.options.length > 0 ? { options: [...input.options] } : {}),
      });
      const question = Question.parse(draft);
      await this.ensureFolder();
      // Never over a file already there (made by hand, or unreadable): the next free id.
      while (await exists(this.fileOf(question.id))) question.id++;
      await this.write(question);
      this.nextId = question.id + 1;
      this.questions.set(question.id, question);
      this.options.log(
        `inbox: question ${question.id} asked by ${describeAsker(question.from)}: ${oneLine(question.question).slice(0, 200)}`,
      );
      this.options.bus.publish('question.asked', { question }, cause);
      return question;
    });
  }

  /**
   * Answers an open question. Throws NotFoundError for no such question (or one whose file is not
   * read) and ConflictError when it was answered already: the first answer wins.
   */
  answer(id: number, text: string, by: string, cause?: Cause): Promise<Question> {
    return this.queue.run(id, async () => {
      const current = this.questions.get(id);
      if (!current) {
        const invalid = this.invalidFiles.get(id);
        if (invalid) throw new ConflictError(`question ${id} cannot be answered: its file ${invalid.file} is not read (${invalid.error})`);
        throw new NotFoundError(`no question ${id}`);
      }
      if (current.withdrawn) {
        throw new ConflictError(`question ${id} was withdrawn at ${current.withdrawn.at}: ${current.withdrawn.reason}`, {
          withdrawn: current.withdrawn,
        });
      }
      if (current.answer) {
        throw new ConflictError(
          `question ${id} was already answered by ${current.answer.by} at ${current.answer.at}: the first answer stands`,
          {
            answer: current.answer,
          },
        );
      }
      if (this.unwritable) throw new UnavailableError(`questions cannot be written: ${this.unwritable}`);
      const answered = Question.parse(this.redact({ ...current, answer: { text: text.trim(), at: this.now().toISOString(), by } }));
      await this.write(answered);
      this.questions.set(id, answered);
      this.options.log(`inbox: question ${id} answered by ${by}`);
      this.options.bus.publish('question.answered', { question: answered }, cause);
      return answered;
    });
  }

  /**
   * Closes an open question unanswered, saying why (its asker no longer waits); one answered or
   * withdrawn already is left as it is. Returns the question as it is now, undefined when there is none.
   */
  withdraw(id: number, reason: string, cause?: Cause): Promise<Question | undefined> {
    return this.queue.run(id, async () => {
      const current = this.questions.get(id);
      if (!current || !isOpen(current) || this.unwritable) return current;
      const withdrawn = Question.parse(this.redact({ ...current, withdrawn: { at: this.now().toISOString(), reason } }));
      await this.write(withdrawn);
      this.questions.set(id, withdrawn);
      this.options.log(`inbox: question ${id} withdrawn: ${reason}`);
      this.options.bus.publish('question.withdrawn', { question: withdrawn }, cause);
      return withdrawn;
    });
  }

  /** Resolves once the writes asked for so far have ended. */
  close(): Promise<void> {
    return this.queue.idle();
  }

  private fileOf(id: number): string {
    return path.join(this.dir, `${id}.json`);
  }

  private relative(id: number): string {
    return `${RALPH_DIR}/questions/${id}.json`;
  }

  private async write(question: Question): Promise<void> {
    await writeFileAtomic(this.fileOf(question.id), `${JSON.stringify(question, null, 2)}\n`);
  }

  private async ensureFolder(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    if ((await lstat(this.dir)).isSymbolicLink()) {
      this.unwritable = `${RALPH_DIR}/questions is a symbolic link, which Ralph does not follow`;
      throw new UnavailableError(`questions cannot be written: ${this.unwritable}`);
    }
  }

  private async load(): Promise<void> {
    const folder = await lstat(this.dir).catch(() => null);
    if (folder?.isSymbolicLink()) {
      this.unwritable = `${RALPH_DIR}/questions is a symbolic link, which Ralph does not follow`;
      this.options.log(`inbox: ${this.unwritable}: no question is read or written`);
      return;
    }
    if (folder && !folder.isDirectory()) {
      this.unwritable = `${RALPH_DIR}/questions is not a folder`;
      this.options.log(`inbox: ${this.unwritable}: no question is read or written`);
      return;
    }
    await removeStrayTempFiles(this.dir).catch(() => []);
    const ids = (await readdirIfExists(this.dir))
      .flatMap((name) => {
        const match = QUESTION_FILE.exec(name);
        return match ? [Number(match[1])] : [];
      })
      .filter((id) => id <= 2 ** 31 - 1)
      .sort((a, b) => a - b);
    this.nextId = (ids.at(-1) ?? 0) + 1;
    if (ids.length > MAX_QUESTION_FILES) {
      this.options.log(`inbox: ${ids.length} question files: only the newest ${MAX_QUESTION_FILES} are read`);
    }
    for (const id of ids.slice(-MAX_QUESTION_FILES)) await this.loadFile(id);
  }

  private async loadFile(id: number): Promise<void> {
    const problem = await this.readQuestion(id);
    if (typeof problem !== 'string') {
      this.questions.set(id, problem);
      return;
    }
    const invalid = { file: this.relative(id), error: problem };
    this.invalidFiles.set(id, invalid);
    this.options.log(`inbox: ${invalid.file} is not read: ${problem}; it is left as it is`);
  }

  /** The question in the file, or why it is not one (saying what the file is, never what it holds). */
  private async readQuestion(id: number): Promise<Question | string> {
    let bytes: Buffer;
    try {
      bytes = await readRegularFile(this.fileOf(id), { maxBytes: MAX_QUESTION_FILE_BYTES });
    } catch (error) {
      if (error instanceof UnsafeFileError) return error.message;
      return `it cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    }
    const json = parseJsonBytes(bytes);
    if (!json.ok) return `it is ${json.error}`;
    let parsed: ReturnType<typeof Question.safeParse>;
    try {
      parsed = Question.safeParse(json.value);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      return 'it is not a question (a value is nested too deeply)';
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
      return `it is not a question (${issue?.message ?? 'invalid'}${where})`;
    }
    if (parsed.data.id !== id) return `it holds question ${parsed.data.id}, not ${id}`;
    return parsed.data;
  }
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}
