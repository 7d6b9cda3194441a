/**
 * Watches the developer's working tree and turns what changes beside the editor into batched,
 * debounced `RepoChange`s (the daemon publishes them as `repo.changed`).
 *
 * Cost model (Linux, measured with /proc/<pid>/fdinfo): chokidar's default watches every file
 * and every folder with its own inotify watch, so 30,000 files cost 30,000+ watches of the
 * per-user budget (fs.inotify.max_user_watches). An inotify watch on a folder already reports
 * every change to the files directly in it, with their names. So the tree watcher here gives
 * chokidar folders only (files are "ignored") and reads the file names from chokidar's `raw`
 * events, which carry (event, name, { watchedPath }) straight from the folder watches:
 * one watch per folder, none per file. Chokidar still does the hard parts: the walk, pruning
 * ignored folders before they are read, watching folders created later, and error reporting.
 *
 * A second, tiny watcher looks at the git folder itself for HEAD (branch switches) and
 * `info/exclude` (ignore rules); the working tree watcher never enters `.git`.
 *
 * When the OS refuses a watch (ENOSPC: the inotify limit; EMFILE/ENFILE: file handles), one
 * warning is logged and the refused folders are polled at a slow interval instead.
 */
import type { Stats } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { FolderPoller } from './folder-poller.ts';
import { locateGit, readBranch, type GitLocation } from './git-info.ts';
import { IgnoreRules, globalExcludesPath, isAlwaysIgnored } from './ignore-rules.ts';

export interface RepoChange {
  /** Repo-relative paths (forward slashes), sorted, unique, at most `maxPaths` of them. */
  paths: string[];
  /** How many more changed paths there were than `paths` lists. */
  omitted: number;
  /** The current branch; null when HEAD is detached. */
  branch: string | null;
}

export interface RepoWatcherOptions {
  repoRoot: string;
  onChange: (batch: RepoChange) => void;
  /** Default 300: a burst of saves becomes one batch. */
  debounceMs?: number;
  /** Default 2000: a continuous stream still flushes at least this often. */
  maxWaitMs?: number;
  /** Default 200: more paths in one batch are counted in `omitted`. */
  maxPaths?: number;
  /** Default 5000: how often folders that could not be watched are polled instead. */
  pollIntervalMs?: number;
  /** Where problems go (default: console.warn). The watcher never throws after it started. */
  onWarning?: (message: string) => void;
}

const DEFAULTS = { debounceMs: 300, maxWaitMs: 2000, maxPaths: 200, pollIntervalMs: 5000 };

/** Errors meaning "the OS will not watch more": fall back to polling for those folders. */
const OUT_OF_WATCHES = new Set(['ENOSPC', 'EMFILE', 'ENFILE']);

/** Editors' swap, backup and probe files: noise, not changes (the same list chokidar filters, plus vim's 4913). */
const EDITOR_SCRATCH = /\..*\.sw[px]$|~$|\.subl.*\.tmp$|^4913$/;

/** lstat calls in flight at once while a batch is resolved. */
const LSTAT_CHUNK = 64;

/** What arrived since the last batch was delivered. */
interface PendingBatch {
  /** Absolute paths named by watch events: files, or folders (created, moved in, deleted). */
  paths: Set<string>;
  /**
   * Folders whose watch reported an event under the folder's own name. inotify gives the
   * folder's name for events about the folder itself (attributes changed, deleted), which is
   * indistinguishable from a file of the same name inside it; resolved when the batch is built.
   */
  selfNamed: Set<string>;
  headMoved: boolean;
  /** A `.gitignore` or `info/exclude` changed: re-check which folders are pruned. */
  rulesChanged: boolean;
  baseRulesChanged: boolean;
}

function emptyBatch(): PendingBatch {
  return {
    paths: new Set(),
    selfNamed: new Set(),
    headMoved: false,
    rulesChanged: false,
    baseRulesChanged: false,
  };
}

export class RepoWatcher {
  /** The real path of the repository (temp folders are often behind a symlink). */
  readonly repoRoot: string;
  private currentBranch: string | null;
  private readonly options: Required<Omit<RepoWatcherOptions, 'repoRoot'>>;
  private readonly git: GitLocation | null;
  private readonly rules: IgnoreRules;
  private readonly poller: FolderPoller;
  private tree: FSWatcher | undefined;
  private gitWatcher: FSWatcher | undefined;
  /** Folders the tree watcher refused because git ignores them: candidates when the rules change. */
  private readonly prunedFolders = new Set<string>();
  private pending = emptyBatch();
  private debounceTimer: ReturnType<typeof setTimeout> | undefined;
  private maxWaitTimer: ReturnType<typeof setTimeout> | undefined;
  /** Batches are built one after another, in order. */
  private delivering: Promise<void> = Promise.resolve();
  private readonly warned = new Set<string>();
  private closed = false;

  /** The current branch (null when detached). Updated when a batch is built after HEAD moved. */
  get branch(): string | null {
    return this.currentBranch;
  }

  /** Folders polled because the OS would not watch them (0 in the normal case). */
  get polledFolders(): number {
    return this.poller.size;
  }

  /** Resolves once every folder is watched ("ready"). */
  static async start(options: RepoWatcherOptions): Promise<RepoWatcher> {
    let repoRoot: string;
    try {
      repoRoot = await realpath(options.repoRoot);
      if (!(await stat(repoRoot)).isDirectory()) throw new Error('not a folder');
    } catch (error) {
      throw new Error(`cannot watch ${options.repoRoot}: ${(error as Error).message}`);
    }
    const git = await locateGit(repoRoot);
    const rules = await IgnoreRules.load({
      repoRoot,
      infoExcludeFile: git && path.join(git.commonDir, 'info', 'exclude'),
      globalExcludesFile: git && globalExcludesPath(git.excludesFile),
    });
    const branch = git ? await readBranch(git.gitDir) : null;
    const watcher = new RepoWatcher(options, repoRoot, git, rules, branch);
    try {
      await watcher.watch();
    } catch (error) {
      await watcher.close();
      throw error;
    }
    return watcher;
  }

  private constructor(options: RepoWatcherOptions, repoRoot: string, git: GitLocation | null, rules: IgnoreRules, branch: string | null) {
    this.repoRoot = repoRoot;
    this.git = git;
    this.rules = rules;
    this.currentBranch = branch;
    this.options = {
      onChange: options.onChange,
      debounceMs: options.debounceMs ?? DEFAULTS.debounceMs,
      maxWaitMs: options.maxWaitMs ?? DEFAULTS.maxWaitMs,
      maxPaths: options.maxPaths ?? DEFAULTS.maxPaths,
      pollIntervalMs: options.pollIntervalMs ?? DEFAULTS.pollIntervalMs,
      onWarning: options.onWarning ?? ((message) => console.warn(`ralph: ${message}`)),
    };
    this.poller = new FolderPoller({
      intervalMs: this.options.pollIntervalMs,
      isIgnoredFolder: (folder) => this.isIgnored(folder, true),
      onChange: (changedPaths) => {
        for (const changed of changedPaths) this.pending.paths.add(changed);
        this.schedule();
      },
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.debounceTimer);
    clearTimeout(this.maxWaitTimer);
    this.poller.stop();
    await Promise.all([this.tree?.close(), this.gitWatcher?.close()]);
    await this.delivering;
  }

  private async watch(): Promise<void> {
    const tree = watch(this.repoRoot, {
      ignoreInitial: true,
      // A symlink to a folder outside would pull that whole tree in; the link itself is still
      // reported by its parent folder's watch.
      followSymlinks: false,
      ignorePermissionErrors: true,
      // Chokidar's atomic-save handling delays its own add/unlink events; this watcher does not use them.
      atomic: false,
      ignored: (absPath, stats) => this.skipInTree(absPath, stats),
    });
    this.tree = tree;
    tree.on('error', (error) => this.onWatchError(error));
    tree.on('raw', (_event, name, details) => this.onTreeEvent(name, details));
    const ready = [whenReady(tree)];

    if (this.git) {
      const gitDir = this.git.gitDir;
      const infoDir = path.join(this.git.commonDir, 'info');
      const folders = [gitDir];
      if (await isFolder(infoDir)) folders.push(infoDir);
      const gitWatcher = watch(folders, {
        ignoreInitial: true,
        followSymlinks: false,
        atomic: false,
        // Only the folders themselves: one watch each, which sees HEAD and exclude being replaced.
        ignored: (absPath) => !folders.includes(absPath),
      });
      this.gitWatcher = gitWatcher;
      gitWatcher.on('error', (error) => this.onWatchError(error));
      gitWatcher.on('raw', (_event, name, details) => {
        const watchedPath = watchedPathOf(details);
        if (watchedPath === gitDir && name === 'HEAD') this.pending.headMoved = true;
        else if (watchedPath === infoDir && name === 'exclude') this.pending.baseRulesChanged = true;
        else return;
        this.schedule();
      });
      ready.push(whenReady(gitWatcher));
    }
    await Promise.all(ready);
  }

  /** Chokidar's `ignored`: true means "do not watch, do not walk into". */
  private skipInTree(absPath: string, stats?: Stats): boolean {
    const rel = this.relative(absPath);
    if (rel === '') return false;
    if (rel === null) return true;
    // Without stats chokidar asks again with them; answer only what is certain without.
    if (!stats) return isAlwaysIgnored(rel);
    // Files need no watch of their own: their folder's watch reports them.
    if (!stats.isDirectory()) return true;
    if (this.rules.isIgnored(rel, true)) {
      this.prunedFolders.add(absPath);
      return true;
    }
    return false;
  }

  private onTreeEvent(name: string | null | undefined, details: unknown): void {
    const watchedPath = watchedPathOf(details);
    if (!name || !watchedPath || this.closed) return;
    if (name === path.basename(watchedPath)) {
      this.pending.selfNamed.add(watchedPath);
    } else {
      this.pending.paths.add(path.join(watchedPath, name));
    }
    if (name === '.gitignore') {
      const folder = this.relative(watchedPath);
      if (folder !== null) this.rules.forgetFolder(folder);
      this.pending.rulesChanged = true;
    }
    this.schedule();
  }

  private onWatchError(error: unknown): void {
    if (this.closed) return;
    const { code, path: failedPath } = error as NodeJS.ErrnoException;
    if (code && OUT_OF_WATCHES.has(code)) {
      this.warnOnce(
        'out-of-watches',
        code === 'ENOSPC'
          ? `the system's inotify watch limit is reached (fs.inotify.max_user_watches); folders that cannot be ` +
              `watched are polled every ${this.options.pollIntervalMs / 1000} s instead. Raise the limit with: ` +
              `sudo sysctl fs.inotify.max_user_watches=524288`
          : `out of file handles (${code}) while watching ${this.repoRoot}; folders that cannot be watched are ` +
              `polled every ${this.options.pollIntervalMs / 1000} s instead`,
      );
      if (failedPath && this.relative(failedPath) !== null) this.poller.add(failedPath);
      return;
    }
    this.warnOnce(`error:${code ?? String(error)}`, `watching ${this.repoRoot}: ${(error as Error).message ?? error}`);
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.options.onWarning(message);
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => this.flush(), this.options.debounceMs);
    this.maxWaitTimer ??= setTimeout(() => this.flush(), this.options.maxWaitMs);
  }

  private flush(): void {
    clearTimeout(this.debounceTimer);
    clearTimeout(this.maxWaitTimer);
    this.debounceTimer = this.maxWaitTimer = undefined;
    const batch = this.pending;
    this.pending = emptyBatch();
    this.delivering = this.delivering
      .then(() => this.deliver(batch))
      .catch((error: unknown) => this.warnOnce('deliver', `repository watcher: ${(error as Error).message ?? error}`));
  }

  private async deliver(batch: PendingBatch): Promise<void> {
    if (this.closed) return;
    if (batch.baseRulesChanged) await this.rules.reloadBaseRules();
    if (batch.rulesChanged || batch.baseRulesChanged) await this.watchUnignoredFolders();

    let branchChanged = false;
    if (batch.headMoved && this.git) {
      const branch = await readBranch(this.git.gitDir);
      branchChanged = branch !== this.currentBranch;
      this.currentBranch = branch;
    }

    const changed = new Set<string>();
    await this.collectChangedPaths(batch, changed);
    if (this.closed || (changed.size === 0 && !branchChanged)) return;

    const sorted = [...changed].sort();
    const paths = sorted.slice(0, this.options.maxPaths);
    this.options.onChange({ paths, omitted: sorted.length - paths.length, branch: this.currentBranch });
  }

  /** Turns a batch's raw material into repo-relative paths of files that are not ignored. */
  private async collectChangedPaths(batch: PendingBatch, changed: Set<string>): Promise<void> {
    const candidates = new Set(batch.paths);
    for (const folder of batch.selfNamed) {
      const child = path.join(folder, path.basename(folder));
      if (await exists(child)) candidates.add(child);
      else if (!(await exists(folder))) candidates.add(folder); // the folder itself was deleted
      // Otherwise the folder's own attributes changed: nothing to report.
    }

    const folders: string[] = [];
    const list = [...candidates];
    for (let start = 0; start < list.length; start += LSTAT_CHUNK) {
      const chunk = list.slice(start, start + LSTAT_CHUNK);
      const stats = await Promise.all(chunk.map((file) => lstat(file).catch(() => null)));
      chunk.forEach((absPath, index) => {
        const entry = stats[index];
        const rel = this.relative(absPath);
        if (entry?.isDirectory()) folders.push(absPath);
        else if (rel && this.isReportable(rel, entry ? false : 'unknown')) changed.add(rel);
      });
    }

    // A folder named by its parent's watch was created or moved in (or had its attributes
    // changed). Its files are listed: they may have been written before the folder had a watch
    // of its own. A folder inside another one listed here is covered by that listing.
    folders.sort();
    let outer: string | undefined;
    for (const folder of folders) {
      if (outer !== undefined && folder.startsWith(outer + path.sep)) continue;
      outer = folder;
      if (!this.isIgnored(folder, true)) await this.listFiles(folder, changed);
    }
  }

  /** Adds every reportable file under `folder` (skipping ignored folders) to `changed`. */
  private async listFiles(folder: string, changed: Set<string>): Promise<void> {
    // Its .gitignore may have been written after chokidar first read the folder.
    const relFolder = this.relative(folder);
    if (relFolder) this.rules.forgetFolder(relFolder);
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch {
      return; // gone again already: nothing to report
    }
    for (const entry of entries) {
      if (this.closed) return;
      const absPath = path.join(folder, entry.name);
      const rel = this.relative(absPath);
      if (!rel) continue;
      if (entry.isDirectory()) {
        if (!this.rules.isIgnored(rel, true)) await this.listFiles(absPath, changed);
      } else if (this.isReportable(rel, false)) {
        changed.add(rel);
      }
    }
  }

  /**
   * A `.gitignore` or `info/exclude` changed: folders pruned under the old rules that are no
   * longer ignored get watched now. (Folders that became ignored stay watched until the next
   * start; their events are filtered out all the same.)
   */
  private async watchUnignoredFolders(): Promise<void> {
    for (const folder of [...this.prunedFolders]) {
      if (this.isIgnored(folder, true)) continue;
      this.prunedFolders.delete(folder);
      if ((await isFolder(folder)) && !this.closed) this.tree?.add(folder);
    }
  }

  private isIgnored(absPath: string, isFolderPath: boolean): boolean {
    const rel = this.relative(absPath);
    return rel === null || (rel !== '' && this.rules.isIgnored(rel, isFolderPath));
  }

  /** `isFolderPath` is 'unknown' for a path that no longer exists: it is dropped if ignored either way. */
  private isReportable(rel: string, isFolderPath: boolean | 'unknown'): boolean {
    if (EDITOR_SCRATCH.test(path.posix.basename(rel))) return false;
    if (isFolderPath === 'unknown') return !this.rules.isIgnored(rel, false) && !this.rules.isIgnored(rel, true);
    return !this.rules.isIgnored(rel, isFolderPath);
  }

  /** Repo-relative with forward slashes; '' for the root; null when outside the repository. */
  private relative(absPath: string): string | null {
    const rel = path.relative(this.repoRoot, absPath);
    if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return null;
    return path.sep === '/' ? rel : rel.split(path.sep).join('/');
  }
}

function whenReady(watcher: FSWatcher): Promise<void> {
  return new Promise((resolve) => watcher.once('ready', () => resolve()));
}

/**
 * Chokidar's raw events carry `{ watchedPath }` for fs.watch-based watching: the path as given by
 * whichever chokidar instance in this process set that watch up first (they share them).
 */
function watchedPathOf(details: unknown): string | undefined {
  const watchedPath = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
  return typeof watchedPath === 'string' ? path.resolve(watchedPath) : undefined;
}

async function exists(absPath: string): Promise<boolean> {
  return lstat(absPath).then(
    () => true,
    () => false,
  );
}

async function isFolder(absPath: string): Promise<boolean> {
  return stat(absPath).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
}
