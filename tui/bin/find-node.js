// @ts-check
/**
 * `node tui/bin/ralph.js` may run on a Node older than Ralph needs (Debian 12's is 20). This package
 * ships Node 24 as its `node` dependency: an old Node hands the command over to it, once and
 * silently, with no npm in between (npm's start costs ~500 ms and prints EBADENGINE warnings).
 * `ralph` on PATH never gets here: ralph.js's shell lines start that Node directly. Plain
 * JavaScript that parses on any Node, as it runs before the check.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Ralph's oldest Node (package.json engines). */
export const MIN_NODE_MAJOR = 22;

/** Set on the Node a command was handed to, so a handed-over run never hands over again. */
export const HANDED_OVER = 'RALPH_NODE_HANDED_OVER';

/** The Node the package ships (`node_modules/node/bin/node` beside this checkout), or null. */
export function packagedNode() {
  const candidate = fileURLToPath(new URL('../../node_modules/node/bin/node', import.meta.url));
  return existsSync(candidate) ? candidate : null;
}

/**
 * Runs this command again in the packaged Node and exits with its exit code (or its signal); never
 * returns. Signals the terminal sends reach both processes (one process group); one sent to this
 * process alone (`kill PID`) is passed on, and this process waits for the command to end.
 * @param {string} node
 */
export function handOver(node) {
  const child = spawn(node, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [HANDED_OVER]: '1' },
  });
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'])) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  child.once('error', (error) => {
    process.stderr.write(`ralph: could not start ${node}: ${error.message}\n`);
    process.exit(1);
  });
  child.once('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}
