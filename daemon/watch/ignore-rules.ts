/**
 * Which repository paths the watcher leaves alone: `.git`, `node_modules` and `.ralph` folders at
 * any depth, and whatever git ignores (every `.gitignore` down the tree, `.git/info/exclude` and
 * the user's global excludes file).
 *
 * Why the `ignore` package and not `git check-ignore`: chokidar asks its `ignored` callback
 * synchronously, once per folder entry, while it walks, and an ignored folder has to be refused
 * right there so it is never walked or watched. A process round trip per entry would be far
 * slower than matching in memory. The matching follows git's rules: the deepest `.gitignore`
 * that has an opinion wins, then `info/exclude`, then the global file; nothing inside an ignored
 * folder can be re-included (the test suite checks the answers against `git check-ignore`).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';

/** Folder names never watched, wherever they are. */
export const ALWAYS_IGNORED_NAMES: ReadonlySet<string> = new Set(['.git', 'node_modules', '.ralph']);

/** Whether a repo-relative path is in (or is) one of the folders never watched. */
export function isAlwaysIgnored(relPath: string): boolean {
  return relPath.split('/').some((segment) => ALWAYS_IGNORED_NAMES.has(segment));
}

/** Git compares paths case-insensitively where the file system usually does (core.ignorecase). */
const IGNORE_CASE = process.platform === 'darwin' || process.platform === 'win32';

export interface IgnoreRulesOptions {
  repoRoot: string;
  /** `.git/info/exclude` (of the common git folder when the repository is a worktree), if any. */
  infoExcludeFile?: string | null;
  /** The user's global excludes file (`core.excludesFile`), if any. */
  globalExcludesFile?: string | null;
}

export class IgnoreRules {
  readonly repoRoot: string;
  private readonly infoExcludeFile: string | null;
  private readonly globalExcludesFile: string | null;
  /** Rules of each folder's `.gitignore` (null: the folder has none), keyed by repo-relative folder ('' = root). */
  private readonly folderRules = new Map<string, Ignore | null>();
  /** Root-relative rules that rank below every `.gitignore`: info/exclude first, then the global file. */
  private baseRules: Ignore[] = [];
  /** Memo of "is this folder ignored", valid until the rules change. */
  private readonly folderIgnored = new Map<string, boolean>();

  private constructor(options: IgnoreRulesOptions) {
    this.repoRoot = options.repoRoot;
    this.infoExcludeFile = options.infoExcludeFile ?? null;
    this.globalExcludesFile = options.globalExcludesFile ?? null;
  }

  static async load(options: IgnoreRulesOptions): Promise<IgnoreRules> {
    const rules = new IgnoreRules(options);
    await rules.reloadBaseRules();
    return rules;
  }

  /** Re-reads `info/exclude` and the global excludes file. */
  async reloadBaseRules(): Promise<void> {
    const base: Ignore[] = [];
    for (const file of [this.infoExcludeFile, this.globalExcludesFile]) {
      const text = file ? await readTextIfPresent(file) : null;
      if (text !== null) base.push(ignore({ ignorecase: IGNORE_CASE }).add(text));
    }
    this.baseRules = base;
    this.folderIgnored.clear();
  }

  /** Forgets a folder's `.gitignore` so it is read again on next use (it was created, edited or deleted). */
  forgetFolder(relFolder: string): void {
    this.folderRules.delete(relFolder);
    this.folderIgnored.clear();
  }

  /**
   * Whether git would ignore `relPath` (repo-relative, forward slashes, not empty). `isFolder`
   * matters for patterns with a trailing slash (`dist/` ignores a folder, not a file).
   */
  isIgnored(relPath: string, isFolder: boolean): boolean {
    if (isAlwaysIgnored(relPath)) return true;
    const segments = relPath.split('/');
    // Nothing inside an ignored folder can be re-included, whatever deeper rules say.
    for (let depth = 1; depth < segments.length; depth++) {
      if (this.isFolderIgnored(segments.slice(0, depth).join('/'))) return true;
    }
    return this.matches(segments, isFolder);
  }

  private isFolderIgnored(relFolder: string): boolean {
    let ignored = this.folderIgnored.get(relFolder);
    if (ignored === undefined) {
      // Ancestors were checked (and memoised) by the caller's loop before this folder.
      ignored = this.matches(relFolder.split('/'), true);
      this.folderIgnored.set(relFolder, ignored);
    }
    return ignored;
  }

  /** The rules themselves, ancestors aside: the deepest file with an opinion decides. */
  private matches(segments: string[], isFolder: boolean): boolean {
    const suffix = isFolder ? '/' : '';
    for (let depth = segments.length - 1; depth >= 0; depth--) {
      const rules = this.rulesOf(segments.slice(0, depth).join('/'));
      if (!rules) continue;
      const verdict = rules.test(segments.slice(depth).join('/') + suffix);
      if (verdict.ignored) return true;
      if (verdict.unignored) return false;
    }
    const fromRoot = segments.join('/') + suffix;
    for (const rules of this.baseRules) {
      const verdict = rules.test(fromRoot);
      if (verdict.ignored) return true;
      if (verdict.unignored) return false;
    }
    return false;
  }

  /**
   * Read synchronously on first use: chokidar's `ignored` callback is synchronous and a folder's
   * rules must be known before its entries are judged. One small read per folder, once.
   */
  private rulesOf(relFolder: string): Ignore | null {
    let rules = this.folderRules.get(relFolder);
    if (rules === undefined) {
      let text: string | null = null;
      try {
        text = readFileSync(path.join(this.repoRoot, relFolder, '.gitignore'), 'utf8');
      } catch {
        // No .gitignore here (or unreadable, which git treats the same way).
      }
      rules = text === null ? null : ignore({ ignorecase: IGNORE_CASE }).add(text);
      this.folderRules.set(relFolder, rules);
    }
    return rules;
  }
}

async function readTextIfPresent(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Where git reads the user's global ignore rules: `core.excludesFile` as git reports it
 * (`configured`, already resolved by `git config --path`), or else its XDG default.
 */
export function globalExcludesPath(configured: string | null): string {
  if (configured) return configured;
  const configHome = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(configHome, 'git', 'ignore');
}
