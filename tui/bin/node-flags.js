// @ts-check
/**
 * Commands that need Node started with particular V8 flags (the TUI's heap sizes). Heap sizes are
 * fixed when V8 starts, so such a command starts Node again with them before it loads anything,
 * in this same process (execve: same pid, same terminal, signals unchanged). Plain JavaScript:
 * tui/bin/ralph.js does it for the bare `ralph` before the bundle loads (~25 ms instead of ~80).
 */

/**
 * The TUI's heap. Under a flood of events V8 grows its young generation to 128 MB (its default on
 * a machine with this much memory) and lets the old one reach ~4× what is live before collecting:
 * ~240 MB of RSS for ~20 MB live. Semi-spaces of 4 MB and an old generation that may double
 * before it is collected keep the TUI under 150 MB, with keys still answered within a frame or
 * two (bench/tui.ts measures both; semi-spaces of 2 MB promote a frame's garbage and cost latency).
 * No hard cap: a TUI that holds a long chat must grow, not crash.
 * @type {readonly string[]}
 */
export const TUI_NODE_FLAGS = Object.freeze(['--max-semi-space-size=4', '--heap-growing-percent=100']);

/**
 * Starts this command again in a Node given `flags`, unless this one was (a flag of the same name
 * in its arguments or NODE_OPTIONS: whoever set it, their value stands), or Node cannot (execve
 * came in 22.15). Returns only when nothing was done.
 * @param {readonly string[]} flags
 */
export function relaunchWithNodeFlags(flags) {
  /** @param {string} flag */
  const name = (flag) => flag.split('=')[0];
  const given = new Set([...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map(name));
  if (!process.execve || flags.some((flag) => given.has(name(flag)))) return;
  process.execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)], process.env);
}

/**
 * Whether these arguments may open the TUI: no command word (only options, `--repo DIR` among
 * them), and no help. A guess made before the command table is loaded; main.ts decides by the
 * table, so a wrong guess costs only an early restart.
 * @param {readonly string[]} args
 */
export function mayOpenTui(args) {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--repo') i++;
    else if (arg === '-h' || arg === '--help' || !arg.startsWith('-')) return false;
  }
  return true;
}
