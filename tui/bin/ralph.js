#!/bin/sh
true /*
# `ralph` on PATH (npm link) runs this file as a shell script: these lines start the Node this
# package ships (node_modules/node) at once, without first starting the system's `node` (~90 ms for
# Debian's Node 20, only to hand over), and give the TUI its heap flags (node-flags.js) now, not
# by a restart. Without the packaged Node, the system's `node` runs it. To JavaScript this is
# `true` and a comment: `node tui/bin/ralph.js` (npm start, npx) skips it.
r=$(readlink -f -- "$0" 2>/dev/null) || r=$0
n=${r%/tui/bin/*}/node_modules/node/bin/node
[ -x "$n" ] || n=node
if [ $# -eq 0 ] || { [ $# -eq 2 ] && [ "$1" = --repo ]; }; then
  exec "$n" --max-semi-space-size=4 --heap-growing-percent=100 "$r" "$@"
fi
exec "$n" "$r" "$@"
*/;
// The bare `ralph` (or `ralph --repo DIR`) hands its terminal to the repository's spare TUI when
// one waits (attach.js), before anything else loads: the TUI is then drawn by a process that has it
// loaded already. Without one (or on a Node without what attach.js needs), on as before. Once
// tried, not again when this command starts itself again with the TUI's heap flags (below).
const SPARE_TRIED = 'RALPH_TUI_SPARE_TRIED';
const spareTried = process.env[SPARE_TRIED] === '1';
delete process.env[SPARE_TRIED];
const args = process.argv.slice(2);
const bare = args.length === 0 || (args.length === 2 && args[0] === '--repo');
if (!spareTried && bare && process.env.RALPH_TUI_SPARE !== '0' && process.getBuiltinModule) {
  const { attachToSpare } = await import('./attach.js');
  const code = await attachToSpare(args);
  if (code !== null) process.exit(code);
  process.env[SPARE_TRIED] = '1';
}

// The `ralph` command, on Node 22 or newer. Run by an older `node` (`node tui/bin/ralph.js`), it
// hands the command over to the Node 24 this package ships (find-node.js).
const major = Number(process.versions.node.split('.')[0]);
const { HANDED_OVER, MIN_NODE_MAJOR, handOver, packagedNode } = await import('./find-node.js');
if (major < MIN_NODE_MAJOR) {
  const node = process.env[HANDED_OVER] === '1' ? null : packagedNode();
  if (node) {
    handOver(node);
    await new Promise(() => {}); // the handed-over command's exit ends this process
  }
  process.stderr.write(
    `ralph: needs Node.js ${MIN_NODE_MAJOR} or newer (this is ${process.version}); run npm install in Ralph's folder (it brings Node 24), or install a newer Node\n`,
  );
  process.exit(1);
}
// The bare `ralph` opens the TUI, which runs in a Node with its own heap flags: started again now,
// before anything else loads (main.ts does it by the command table if this guess missed).
const { TUI_NODE_FLAGS, relaunchWithNodeFlags, mayOpenTui } = await import('./node-flags.js');
const { isatty } = await import('node:tty');
if (isatty(0) && mayOpenTui(process.argv.slice(2))) relaunchWithNodeFlags(TUI_NODE_FLAGS);
delete process.env[SPARE_TRIED]; // not started again: nothing else is to see it

// V8 keeps the compiled code of what it loads in the OS temp folder: later starts skip compiling.
await import('./compile-cache.js');

// React's production build unless asked otherwise: the development build costs the TUI start-up time,
// memory and frame time (measured by bench/tui.ts), and its checks are for React's developers.
process.env.NODE_ENV ??= 'production';

// The bundle (tui/bin/bundle.js: rebuilt when a source changed) unless the sources are asked for:
// RALPH_FROM_SOURCE=1, or a development NODE_ENV (the bundle has React's production build compiled in).
const fromSource = process.env.RALPH_FROM_SOURCE === '1' || process.env.NODE_ENV !== 'production';
const bundle = fromSource ? null : await import('./bundle.js').then(({ ensureBundle }) => ensureBundle()).catch(bundleFailed);

const { fileURLToPath, pathToFileURL } = await import('node:url');
if (bundle) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  // Ralph's own tsconfig (JSX settings included), not whatever the current folder has: ralph runs in any repository.
  register({ tsconfig: fileURLToPath(new URL('../../tsconfig.json', import.meta.url)) });
  await import('../cli/main.ts');
}

/** A bundle that cannot be built (a read-only install, say) costs start-up time, not the command. */
function bundleFailed(error) {
  if (process.env.RALPH_DEBUG === '1')
    process.stderr.write(`ralph: running from source; the bundle could not be built: ${error?.stack ?? error}\n`);
  return null;
}
