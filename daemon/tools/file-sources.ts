/**
 * Which files list_files and search_files see: what git sees (tracked files plus untracked ones
 * it does not ignore) where the workspace is a git work tree, which is fast on large
 * repositories; elsewhere a walk that skips `.git` and `node_modules`.
 *
 * Untracked `node_modules` folders are left out even where no `.gitignore` mentions them: their
 * contents are never what an agent is looking for, and they can hold a hundred thousand files.
 */
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { daemonFilePath, RALPH_DIR } from '../../protocol/index.ts';
import { gitRun, spawnGit, splitNul } from '../git/git.ts';
import { looksBinary } from './text-limits.ts';

/** Ralph's daemon file (its token), as a path relative to the folder holding `.ralph`: never searched. */
const DAEMON_FILE_PATH = `${RALPH_DIR}/${path.basename(daemonFilePath(''))}`;

/** Folders the walk (outside git) never enters. */
const SKIPPED_FOLDERS: ReadonlySet<string> = new Set(['.git', 'node_modules']);

// ---------------------------------------------------------------------------------------------
// Asking git

/** Whether `dir` is inside a git work tree (not inside a `.git` folder, not a plain folder). */
export async function isGitWorkTree(dir: string, signal?: AbortSignal): Promise<boolean> {
  try {
    const { exitCode, stdout } = await gitRun(dir, ['rev-parse', '--is-inside-work-tree'], { signal });
    return exitCode === 0 && stdout.trim() === 'true';
  } catch (error) {
    if (signal?.aborted) throw error;
    return false; // no git installed: a plain folder
  }
}

/**
 * Whether git ignores `relPath` (relative to `root`, a work tree) — git's own answer, every
 * `.gitignore`, info/exclude and the global excludes file included; a tracked file is never
 * ignored. Outside a work tree (or without git) nothing is.
 */
export async function isGitIgnored(root: string, relPath: string, signal?: AbortSignal): Promise<boolean> {
  try {
    // 0: ignored, 1: not ignored, 128: not a work tree (or another failure: then not ignored).
    const { exitCode } = await gitRun(root, ['check-ignore', '-q', '--', relPath], { signal });
    return exitCode === 0;
  } catch (error) {
    if (signal?.aborted) throw error;
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Listing

export interface FileListing {
  /** Paths relative to the listed folder, forward slashes. */
  files: string[];
  /** False when the walk stopped at its cap (then `files` is a part of the folder). */
  complete: boolean;
}

/** The files under `dir` that git does not ignore (tracked, or untracked and not ignored), minus deleted ones. */
export async function listGitFiles(dir: string, signal?: AbortSignal): Promise<FileListing> {
  const listed = await gitRun(dir, ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--exclude=node_modules/'], { signal });
  if (listed.exitCode !== 0) throw new Error(`git ls-files failed: ${listed.stderr.trim()}`);
  // `--cached` still lists tracked files the developer (or agent) deleted from the working tree.
  const deleted = await gitRun(dir, ['ls-files', '-z', '--deleted'], { signal });
  const gone = new Set(deleted.exitCode === 0 ? splitNul(deleted.stdout) : []);
  // A file both tracked and modified is listed once; a merge conflict lists it per stage.
  const files = [...new Set(splitNul(listed.stdout))].filter((file) => !gone.has(file));
  return { files, complete: true };
}

/** The files under `dir` (skipping `.git` and `node_modules`, not following symlinked folders), at most `maxFiles`. */
export async function walkFiles(dir: string, maxFiles: number, signal?: AbortSignal): Promise<FileListing> {
  const files: string[] = [];
  const pending: string[] = [''];
  while (pending.length > 0) {
    signal?.throwIfAborted();
    const relFolder = pending.pop()!;
    let entries;
    try {
      entries = await readdir(path.join(dir, relFolder), { withFileTypes: true });
    } catch {
      continue; // unreadable or gone meanwhile: nothing to list there
    }
    for (const entry of entries) {
      const relPath = relFolder === '' ? entry.name : `${relFolder}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(entry.name)) pending.push(relPath);
      } else {
        if (files.length >= maxFiles) return { files, complete: false };
        files.push(relPath);
      }
    }
  }
  return { files, complete: true };
}

// ---------------------------------------------------------------------------------------------
// Searching

export interface SearchMatch {
  /** Relative to the workspace root, forward slashes. */
  path: string;
  line: number;
  text: string;
}

export interface SearchLimits {
  /** Matches kept (the rest are only counted). */
  maxMatches: number;
  /** Output of git grep read before giving up counting (then the count is a lower bound). */
  maxScanBytes: number;
  /** Files larger than this are skipped by the walk (outside git). */
  maxFileBytes: number;
  /** Files the walk looks at before it stops (outside git). */
  maxFiles: number;
}

export interface SearchOutcome {
  matches: SearchMatch[];
  totalMatches: number;
  filesWithMatches: number;
  /** The search stopped early: the totals are lower bounds. */
  incomplete: boolean;
}

/** Keeps the first matches and counts all of them. */
class MatchCollector {
  readonly matches: SearchMatch[] = [];
  readonly files = new Set<string>();
  total = 0;
  private readonly maxMatches: number;

  constructor(maxMatches: number) {
    this.maxMatches = maxMatches;
  }

  add(match: SearchMatch): void {
    this.total++;
    this.files.add(match.path);
    if (this.matches.length < this.maxMatches) this.matches.push(match);
  }

  outcome(incomplete: boolean): SearchOutcome {
    return { matches: this.matches, totalMatches: this.total, filesWithMatches: this.files.size, incomplete };
  }
}

/** Set once this machine's git turns out to be built without PCRE; then ERE (-E) is used. */
let gitLacksPcre = false;

/**
 * `git grep` for `pattern` under `relPath` (relative to `root`, '.' for all), in tracked and
 * untracked-but-not-ignored text files. Perl-compatible regexes (-P) where git has them, since
 * they read like the JavaScript regexes models write (`\d`, `\s`, lookarounds); extended POSIX
 * regexes (-E) otherwise. An invalid pattern is an error with git's message.
 */
export async function gitGrep(
  root: string,
  pattern: string,
  relPath: string,
  limits: SearchLimits,
  signal?: AbortSignal,
): Promise<SearchOutcome> {
  if (!gitLacksPcre) {
    try {
      return await gitGrepWith('-P', root, pattern, relPath, limits, signal);
    } catch (error) {
      if (!(error instanceof GitGrepError) || !/USE_LIBPCRE|not compiled with/i.test(error.message)) throw error;
      gitLacksPcre = true;
    }
  }
  return gitGrepWith('-E', root, pattern, relPath, limits, signal);
}

class GitGrepError extends Error {}

function gitGrepWith(
  syntax: '-P' | '-E',
  root: string,
  pattern: string,
  relPath: string,
  limits: SearchLimits,
  signal?: AbortSignal,
): Promise<SearchOutcome> {
  const args = ['grep', '-n', '-I', '--untracked', '--null', '--no-color', syntax, '-e', pattern, '--'];
  // `:(literal)`: the model's path is a path, not a glob; the exclusion mirrors listGitFiles. A daemon
  // file is never searched, even where no .gitignore covers it (it holds a daemon's token).
  args.push(`:(literal)${relPath}`, ':(exclude,glob)**/node_modules/**', `:(exclude,glob)**/${DAEMON_FILE_PATH}`);
  return new Promise((resolve, reject) => {
    // The daemon's locale, not git's usual C: the pattern and the files are the developer's text,
    // and git matches non-ASCII characters (`.`, `\w`, -i) as characters only in a UTF-8 locale.
    const child = spawnGit(root, args, { env: { LC_ALL: process.env.LC_ALL }, signal });
    const collector = new MatchCollector(limits.maxMatches);
    let scanned = 0;
    let stoppedEarly = false;
    let partialLine = '';
    const stderr: Buffer[] = [];
    const takeLine = (line: string): void => {
      // `--null`: "path\0line\0text", so a ':' in a file name cannot confuse the parse.
      const first = line.indexOf('\0');
      const second = line.indexOf('\0', first + 1);
      if (first === -1 || second === -1) return;
      collector.add({ path: line.slice(0, first), line: Number(line.slice(first + 1, second)), text: line.slice(second + 1) });
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (stoppedEarly) return;
      scanned += chunk.length;
      const lines = (partialLine + chunk).split('\n');
      partialLine = lines.pop()!;
      for (const line of lines) takeLine(line);
      if (scanned > limits.maxScanBytes) {
        stoppedEarly = true;
        child.kill();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (stoppedEarly) return resolve(collector.outcome(true));
      if (partialLine) takeLine(partialLine);
      // 0: matches, 1: none; anything else is an error (a bad pattern, most likely).
      if (code === 0 || code === 1) return resolve(collector.outcome(false));
      const message =
        Buffer.concat(stderr)
          .toString('utf8')
          .trim()
          .replace(/^fatal: /, '') || `git grep exited with code ${code}`;
      // "-e option, 'x(': missing closing parenthesis" is about the pattern the model wrote.
      reject(new GitGrepError(message.replace(/^-e option, /, 'invalid regular expression ')));
    });
  });
}

/**
 * The same search without git: a walk over text files under `start` (a real path inside `root`),
 * matching each line with a JavaScript regex.
 */
export async function walkGrep(
  root: string,
  regex: RegExp,
  start: string,
  limits: SearchLimits,
  signal?: AbortSignal,
): Promise<SearchOutcome> {
  const collector = new MatchCollector(limits.maxMatches);
  const startInfo = await stat(start);
  const listing = startInfo.isDirectory() ? await walkFiles(start, limits.maxFiles, signal) : { files: [''], complete: true };
  for (const file of listing.files) {
    signal?.throwIfAborted();
    const absolute = path.join(start, file);
    const rootRelative = path.relative(root, absolute).split(path.sep).join('/');
    if (rootRelative === DAEMON_FILE_PATH || rootRelative.endsWith(`/${DAEMON_FILE_PATH}`)) continue;
    let bytes: Buffer;
    try {
      // lstat: a symlink is not followed (it could point outside the workspace), as git grep does.
      const info = await lstat(absolute);
      if (!info.isFile() || info.size > limits.maxFileBytes) continue;
      bytes = await readFile(absolute);
    } catch {
      continue; // gone meanwhile, or unreadable
    }
    if (looksBinary(bytes)) continue;
    const lines = bytes.toString('utf8').split('\n');
    lines.forEach((text, index) => {
      if (regex.test(text)) collector.add({ path: rootRelative, line: index + 1, text: text.replace(/\r$/, '') });
    });
  }
  return collector.outcome(!listing.complete);
}
