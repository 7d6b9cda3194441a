#!/usr/bin/env node
// The `ralph` command, on Node 22 or newer: `npm start`, `npm run` and `npx ralph` put this package's
// Node 24 (the `node` dev dependency) first on PATH.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(`ralph: needs Node.js 22 or newer (this is ${process.version}); run it with npx ralph or npm start\n`);
  process.exit(1);
}
// The bare `ralph` opens the TUI, which runs in a Node with its own heap flags: started again now,
// before anything else loads (main.ts does it by the command table if this guess missed).
const { TUI_NODE_FLAGS, relaunchWithNodeFlags, mayOpenTui } = await import('./node-flags.js');
const { isatty } = await import('node:tty');
if (isatty(0) && mayOpenTui(process.argv.slice(2))) relaunchWithNodeFlags(TUI_NODE_FLAGS);

// V8 keeps the compiled code of what it loads in the OS temp folder: later starts skip compiling.
const { default: module } = await import('node:module');
module.enableCompileCache?.();

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
