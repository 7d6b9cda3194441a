/** Reading Linux's inotify accounting, to see what watching costs (the watcher's tests and benchmark). */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * How many inotify watches a process holds: each inotify file descriptor's
 * `/proc/<pid>/fdinfo/<fd>` has one `inotify wd:` line per watch. Null where there is no /proc
 * (not Linux).
 */
export function countInotifyWatches(pid: number | 'self' = 'self'): number | null {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return null;
  }
  let watches = 0;
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== 'anon_inode:inotify') continue;
      const info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
      watches += info.split('\n').filter((line) => line.startsWith('inotify wd:')).length;
    } catch {
      // The descriptor was closed while we looked.
    }
  }
  return watches;
}

/** The per-user watch budget (`fs.inotify.max_user_watches`), or null where unknown. */
export function inotifyWatchLimit(): number | null {
  try {
    return Number.parseInt(readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8'), 10);
  } catch {
    return null;
  }
}
