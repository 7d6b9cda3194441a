#!/usr/bin/env node
// The `ralph` command. Ralph is TypeScript run through tsx (no build step), on Node 22 or newer:
// `npm start`, `npm run` and `npx ralph` put this package's Node 24 (the `node` dev dependency) first on PATH.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(`ralph: needs Node.js 22 or newer (this is ${process.version}); run it with npx ralph or npm start\n`);
  process.exit(1);
}
// React's production build unless asked otherwise: the development build costs the TUI start-up time,
// memory and frame time (measured by bench/tui.ts), and its checks are for React's developers.
process.env.NODE_ENV ??= 'production';
const { register } = await import('tsx/esm/api');
const { fileURLToPath } = await import('node:url');
// Ralph's own tsconfig (JSX settings included), not whatever the current folder has: ralph runs in any repository.
register({ tsconfig: fileURLToPath(new URL('../../tsconfig.json', import.meta.url)) });
await import('../cli/main.ts');
