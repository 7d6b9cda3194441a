/**
 * The fallback for folders the operating system refused to watch (the inotify watch limit was
 * reached, or the process ran out of file handles): they are listed again at a slow interval
 * and compared with the previous listing. Only these folders keep per-file state.
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

export interface FolderPollerOptions {
  intervalMs: number;
  /** Folders (absolute paths) that must not be polled, e.g. git-ignored ones. */
  isIgnoredFolder: (absFolder: string) => boolean;
  /** Files (absolute paths) that appeared, changed or vanished, and folders that appeared. */
  onChange: (changedPaths: string[]) => void;
}

interface EntryState {
  isFolder: boolean;
  mtimeMs: number;
  size: number;
  ino: number;
}

/** A folder's entries by name. */
type Listing = Map<string, EntryState>;

export class FolderPoller {
  private readonly options: FolderPollerOptions;
  /** Each polled folder's last listing; null until the first one (the baseline) is taken. */
  private readonly listings = new Map<string, Listing | null>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(options: FolderPollerOptions) {
    this.options = options;
  }

  /** How many folders are polled. */
  get size(): number {
    return this.listings.size;
  }

  has(folder: string): boolean {
    return this.listings.has(folder);
  }

  /** Starts polling `folder`; its current content is the baseline, so nothing in it is reported yet. */
  add(folder: string): void {
    if (this.stopped || this.listings.has(folder)) return;
    this.listings.set(folder, null);
    void listFolder(folder).then((listing) => {
      if (listing && this.listings.get(folder) === null) this.listings.set(folder, listing);
    });
    this.timer ??= setTimeout(() => void this.poll(), this.options.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.listings.clear();
  }

  private async poll(): Promise<void> {
    const changedFiles: string[] = [];
    const newFolders: string[] = [];
    for (const [folder, before] of [...this.listings]) {
      if (this.stopped) return;
      const after = await listFolder(folder);
      if (this.stopped) return;
      if (after === undefined) continue; // unreadable this time (e.g. out of file handles): try again next round
      if (after === null) {
        // The folder is gone: everything it held is gone with it.
        for (const [name, entry] of before ?? []) if (!entry.isFolder) changedFiles.push(path.join(folder, name));
        this.listings.delete(folder);
        continue;
      }
      if (before) compareListings(folder, before, after, changedFiles, newFolders);
      this.listings.set(folder, after);
    }
    // Folders created inside a polled folder could not be watched either: poll them too.
    const wanted = newFolders.filter((folder) => !this.options.isIgnoredFolder(folder));
    for (const folder of wanted) this.add(folder);
    if (changedFiles.length || wanted.length) this.options.onChange([...changedFiles, ...wanted]);
    this.timer = this.stopped ? undefined : setTimeout(() => void this.poll(), this.options.intervalMs);
  }
}

function compareListings(folder: string, before: Listing, after: Listing, changedFiles: string[], newFolders: string[]): void {
  for (const [name, entry] of after) {
    const previous = before.get(name);
    if (entry.isFolder) {
      if (!previous?.isFolder) newFolders.push(path.join(folder, name));
    } else if (
      !previous ||
      previous.isFolder ||
      previous.mtimeMs !== entry.mtimeMs ||
      previous.size !== entry.size ||
      previous.ino !== entry.ino
    ) {
      changedFiles.push(path.join(folder, name));
    }
  }
  for (const [name, entry] of before) {
    if (!after.has(name) && !entry.isFolder) changedFiles.push(path.join(folder, name));
  }
}

/** The folder's entries; null when the folder no longer exists, undefined when it cannot be read now. */
async function listFolder(folder: string): Promise<Listing | null | undefined> {
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? null : undefined;
  }
  const listing: Listing = new Map();
  await Promise.all(
    entries.map(async (entry) => {
      try {
        const stats = await lstat(path.join(folder, entry.name));
        listing.set(entry.name, {
          isFolder: stats.isDirectory(),
          mtimeMs: stats.mtimeMs,
          size: stats.size,
          ino: stats.ino,
        });
      } catch {
        // Vanished between readdir and lstat: it will be missing from this listing, as it should.
      }
    }),
  );
  return listing;
}
