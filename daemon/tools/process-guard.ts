/**
 * The guard: a tiny bash process that ends the commands of this process (a daemon, a worker) the
 * moment it dies, even by kill -9, where no sandbox does (bwrap's --die-with-parent). The command
 * runner tells it each process group it starts and its marker; the guard holds the read end of a
 * pipe only this process writes to, so it reads end-of-file when this process is gone, and then
 * kills every group whose leader is still the process told (same start time) and every process
 * carrying a marker (SIGTERM, SIGKILL half a second later).
 *
 * Why a guard and not `setpriv --pdeathsig KILL` on each command: the parent-death signal reaches
 * only the process it is set on (the shell), never what that shell started (a fork clears it), so
 * a test runner's children would live on. The records (process-records.ts) stay: a guard that was
 * killed too (or a machine without bash) is covered by the next start's reaping.
 *
 * One guard per process, started with the first command that needs it (again if it died). It
 * does not keep this process alive (unref'd), and what it is told stays small (a line a command).
 */
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Reads lines until end-of-file, then kills what they named. Lines: `group <pid> <start time>`,
 * `marker <NAME>=<value>`, and `forget-group <pid>`, `forget-marker <NAME>=<value>` once over.
 */
const GUARD_SCRIPT = [
  'declare -A groups=() markers=()',
  'while read -r kind first second; do',
  '  case $kind in',
  '    group) groups[$first]=$second ;;',
  '    marker) markers[$first]=1 ;;',
  "    forget-group) unset 'groups[$first]' ;;",
  "    forget-marker) unset 'markers[$first]' ;;",
  '  esac',
  'done',
  'leaders=() marked=()',
  'for pid in "${!groups[@]}"; do',
  '  start=${groups[$pid]}',
  '  { read -r stat < "/proc/$pid/stat"; } 2>/dev/null || continue',
  '  read -ra fields <<< "${stat##*) }"',
  '  [ "${fields[19]}" = "$start" ] && leaders+=("$pid")',
  'done',
  'if [ ${#markers[@]} -gt 0 ]; then',
  '  for file in $(grep -lzFx -f <(printf \'%s\\n\' "${!markers[@]}") /proc/[0-9]*/environ 2>/dev/null); do',
  '    pid=${file#/proc/}; marked+=("${pid%/environ}")',
  '  done',
  'fi',
  'for signal in TERM KILL; do',
  '  for pid in "${leaders[@]}"; do kill -"$signal" -- "-$pid" 2>/dev/null; done',
  '  for pid in "${marked[@]}"; do kill -"$signal" "$pid" 2>/dev/null; done',
  '  [ "$signal" = TERM ] && [ $((${#leaders[@]} + ${#marked[@]})) -gt 0 ] && sleep 0.5',
  'done',
  'exit 0',
].join('\n');

let guard: ChildProcess | null = null;
/** Markers told to the current guard (a restarted one is told them again). */
const markers = new Set<string>();

function startGuard(): ChildProcess | null {
  if (guard) return guard;
  // It goes by /proc: elsewhere the next start's reaping is all there is (and does nothing there either).
  if (process.platform !== 'linux') return null;
  let child: ChildProcess;
  try {
    // --norc: Debian's bash reads ~/.bashrc when its stdin is a socket (as if started by sshd), and
    // this stdin is one (Node's pipe); a .bashrc waiting 60 s on a lock (pyenv) kept the guard from
    // reading a line, and it wrote under / where HOME is unset.
    child = spawn('bash', ['--norc', '--noprofile', '-c', GUARD_SCRIPT], {
      // Its own group: a signal to this process's group (Ctrl+C) leaves it to do its work after.
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
    });
  } catch {
    return null;
  }
  child.on('error', () => {
    if (guard === child) guard = null;
  });
  child.once('exit', () => {
    if (guard === child) guard = null;
  });
  child.stdin!.on('error', () => {}); // a guard that died: the next command starts another
  // Neither the guard nor its pipe keeps this process running.
  child.unref();
  // At run time the pipe is a net.Socket, which can be unref'd; its declared type (Writable) does not say so.
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  guard = child;
  for (const marker of markers) child.stdin!.write(`marker ${marker}\n`);
  return child;
}

/** Tells the guard (started if need be) about a marker every process of a runner carries: `NAME=value`. */
export function guardMarker(name: string, value: string): void {
  const marker = `${name}=${value}`;
  if (markers.has(marker)) return;
  markers.add(marker);
  startGuard()?.stdin?.write(`marker ${marker}\n`);
}

/** Tells the guard about a process group just started: its leader and the leader's start time. */
export function guardGroup(pid: number, startTime: string | null): void {
  if (startTime === null) return; // nothing to tell it from a recycled pid by
  startGuard()?.stdin?.write(`group ${pid} ${startTime}\n`);
}

/** The runner is over: its marker no longer matters. */
export function guardForgetMarker(name: string, value: string): void {
  const marker = `${name}=${value}`;
  if (markers.delete(marker)) guard?.stdin?.write(`forget-marker ${marker}\n`);
}

/** The group is gone. */
export function guardForgetGroup(pid: number): void {
  guard?.stdin?.write(`forget-group ${pid}\n`);
}
