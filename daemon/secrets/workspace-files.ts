/**
 * Before the harness commits an iteration, the files the agent changed are searched for the
 * daemon's secrets, and any found are redacted in place: a goal branch is shared work that may be
 * pushed, and a command that wrote `cat /proc/$PPID/environ > notes.txt` must not put the provider
 * key in it. Text files only (up to a size): a binary file is not rewritten (its bytes would not
 * survive a text round trip), and is named instead so the journal can warn about it.
 */
import { lstat, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { status, type StatusEntry } from '../git/git.ts';
import type { Redact } from './redactor.ts';

/** Files larger than this are not searched: an agent's text files are far smaller. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface WorkspaceRedaction {
  /** Files that held a secret and were rewritten without it (workspace-relative). */
  redacted: string[];
  /** The work tree's `git status` it searched (untracked files one by one): the commit need not ask again. */
  changes: StatusEntry[];
}

/** Redacts the secrets from the changed (and new) text files of the work tree at `root`. */
export async function redactChangedFiles(
  root: string,
  redact: Redact,
  env?: Record<string, string | undefined>,
): Promise<WorkspaceRedaction> {
  const changes = await status(root, { untracked: 'all', ...(env ? { env } : {}) });
  const redacted: string[] = [];
  for (const change of changes) {
    if (change.worktree === 'D' || change.index === 'D') continue;
    const file = path.join(root, change.path);
    try {
      // lstat: a link is committed as a link, its target is not the workspace's business.
      const info = await lstat(file);
      if (!info.isFile() || info.size > MAX_FILE_BYTES) continue;
      const bytes = await readFile(file);
      if (bytes.includes(0)) continue; // binary
      let text: string;
      try {
        text = STRICT_UTF8.decode(bytes);
      } catch {
        continue; // not UTF-8: not rewritten
      }
      const clean = redact(text);
      if (clean === text) continue;
      await writeFile(file, clean);
      redacted.push(change.path);
    } catch {
      // Gone or unreadable meanwhile: git add will say what it says.
    }
  }
  return { redacted, changes };
}
