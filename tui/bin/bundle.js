// @ts-check
/**
 * The command line, the TUI and the daemon, bundled: one esbuild build of tui/cli/main.ts,
 * daemon/main.ts and the spare TUI (tui/spare/main.ts) into tui/.build/ (shared code, the
 * protocol and the TUI, in chunks they load).
 *
 * Why: loading ~200 TypeScript modules through tsx's loader took the TUI ~800 ms to its first frame,
 * the bundle ~300 ms (bench/tui.ts); a bare Ink app takes ~280 ms here. The daemon's first start of
 * the day is waited on too (`ralph` with no daemon running): the command line starts it from its
 * bundle when that is fresh (tui/connection/daemon.ts), from source through tsx otherwise. tsx stays
 * outside the bundle: the daemon loads `ralph.config.ts` through it.
 *
 * The bundle is a cache of the source, never the truth: `ralph` checks it against the sources it was
 * built from (size and mtime of each, in the manifest) and rebuilds it when one changed, so an edit
 * to the source is what the next `ralph` runs. `npm install` builds it first (`prepare`).
 *
 * Output files are named by their content hash and written atomically; the manifest, written last,
 * names the entry. A `ralph` still running an older build keeps its files: a concurrent rebuild
 * never rewrites a file another process may be loading, it adds new ones (old ones are pruned after
 * a day). tui/.build/ sits two folders below the package root, like the sources it replaces, so
 * paths the code computes from `import.meta.url` (the daemon's entry point) stay right.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUILD_DIR = path.join(ROOT, 'tui', '.build');
const MANIFEST = path.join(BUILD_DIR, 'manifest.json');
const ENTRY = 'tui/cli/main.ts';
const DAEMON_ENTRY = 'daemon/main.ts';
const SPARE_ENTRY = 'tui/spare/main.ts';
/** Files the build depends on besides the sources esbuild reports: its options, and the installed packages. */
const BUILD_INPUTS = ['tui/bin/bundle.js', 'package.json', 'tsconfig.json', 'node_modules/.package-lock.json'];
/** Outputs of older builds are removed this long after they were written (a TUI may still be running one). */
const PRUNE_AFTER_MS = 24 * 60 * 60 * 1000;
const MANIFEST_VERSION = 3;

/**
 * @typedef {{ size: number, mtimeMs: number }} Stamp
 * @typedef {{ version: number, entry: string, daemonEntry: string, spareEntry: string, inputs: Record<string, Stamp> }} Manifest
 */

/** @param {string} file @returns {Stamp | null} */
function stampOf(file) {
  try {
    const { size, mtimeMs } = statSync(path.join(ROOT, file));
    return { size, mtimeMs };
  } catch {
    return null;
  }
}

/**
 * The entry of the current bundle when it is fresh: every input it was built from has the size and
 * mtime it had then (a missing input, or one that changed either way, makes it stale).
 * @param {string} [manifestFile]
 * @returns {string | null} the entry's absolute path
 */
export function freshBundle(manifestFile = MANIFEST) {
  return freshEntries(manifestFile)?.entry ?? null;
}

/**
 * The daemon's entry in the current bundle when it is fresh (see freshBundle), else null.
 * @param {string} [manifestFile]
 * @returns {string | null}
 */
export function freshDaemonBundle(manifestFile = MANIFEST) {
  return freshEntries(manifestFile)?.daemonEntry ?? null;
}

/**
 * The entries of the current bundle when it is fresh (see freshBundle), else null: the spare TUI
 * (tui/spare/) runs `spareEntry` and serves only a `ralph` that would run `entry`.
 * @param {string} [manifestFile]
 * @returns {{ entry: string, daemonEntry: string, spareEntry: string } | null} absolute paths
 */
export function freshEntries(manifestFile = MANIFEST) {
  /** @type {Manifest} */
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  } catch {
    return null;
  }
  if (
    manifest?.version !== MANIFEST_VERSION ||
    typeof manifest.entry !== 'string' ||
    typeof manifest.daemonEntry !== 'string' ||
    typeof manifest.spareEntry !== 'string' ||
    typeof manifest.inputs !== 'object'
  )
    return null;
  for (const [file, stamp] of Object.entries(manifest.inputs)) {
    const now = stampOf(file);
    if (!now || now.size !== stamp.size || now.mtimeMs !== stamp.mtimeMs) return null;
  }
  const entry = path.join(path.dirname(manifestFile), manifest.entry);
  const daemonEntry = path.join(path.dirname(manifestFile), manifest.daemonEntry);
  const spareEntry = path.join(path.dirname(manifestFile), manifest.spareEntry);
  const present = [entry, daemonEntry, spareEntry].every((file) => stampOf(path.relative(ROOT, file)));
  return present ? { entry, daemonEntry, spareEntry } : null;
}

/**
 * Builds the bundle into `outDir` (tui/.build by default) and returns its entry's absolute path.
 * The stamps are taken before esbuild reads the sources: a file edited during the build reads as
 * changed next time, never as built.
 * @param {{ outDir?: string }} [options]
 * @returns {Promise<string>}
 */
export async function buildBundle({ outDir = BUILD_DIR } = {}) {
  const esbuild = await import('esbuild');
  const startedAt = Date.now();
  const before = new Map();
  const sources = listSources();
  for (const file of [...sources, ...BUILD_INPUTS]) before.set(file, stampOf(file));
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { main: ENTRY, daemon: DAEMON_ENTRY, spare: SPARE_ENTRY },
    // tsx loads the repository's ralph.config.ts in the daemon with loader files of its own; esbuild is the build.
    external: ['tsx', 'tsx/*', 'esbuild'],
    outdir: outDir,
    bundle: true,
    splitting: true, // each command loads its own code: `ralph goal list` does not load Ink
    format: 'esm',
    platform: 'node',
    target: 'node22',
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    write: false,
    metafile: true,
    minifyWhitespace: true,
    minifySyntax: true, // identifiers kept: stack traces stay readable
    legalComments: 'none',
    tsconfig: path.join(ROOT, 'tsconfig.json'),
    logLevel: 'silent',
    // React's production build is compiled in; `NODE_ENV=development ralph` runs the sources instead.
    define: { 'process.env.NODE_ENV': '"production"' },
    // CommonJS packages bundled into ESM still call `require` for Node's own modules.
    banner: {
      js: "import { createRequire as __ralphCreateRequire } from 'node:module'; const require = __ralphCreateRequire(import.meta.url);",
    },
    plugins: [withoutReactDevtools, yogaWithoutFetch, stringWidthEmojiCheckWhenNeeded],
  });
  mkdirSync(outDir, { recursive: true });
  let entry = '';
  let daemonEntry = '';
  let spareEntry = '';
  for (const file of result.outputFiles) {
    writeOnce(file.path, file.contents);
    const output = result.metafile.outputs[path.relative(ROOT, file.path)];
    if (output?.entryPoint === ENTRY) entry = path.basename(file.path);
    if (output?.entryPoint === DAEMON_ENTRY) daemonEntry = path.basename(file.path);
    if (output?.entryPoint === SPARE_ENTRY) spareEntry = path.basename(file.path);
  }
  if (!entry || !daemonEntry || !spareEntry) throw new Error(`the build of ${ENTRY}, ${DAEMON_ENTRY} and ${SPARE_ENTRY} produced no entry`);
  /** @type {Record<string, Stamp>} */
  const inputs = {};
  const built = Object.keys(result.metafile.inputs).filter((file) => !file.includes('node_modules/'));
  for (const file of [...built, ...BUILD_INPUTS]) {
    const stamp = before.get(file) ?? stampOf(file);
    if (stamp) inputs[file] = stamp;
  }
  /** @type {Manifest} */
  const manifest = { version: MANIFEST_VERSION, entry, daemonEntry, spareEntry, inputs };
  writeAtomically(path.join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 1));
  prune(outDir, new Set(['manifest.json', ...result.outputFiles.map((file) => path.basename(file.path))]), startedAt);
  return path.join(outDir, entry);
}

/** The bundle's entry: the current one, or a new build when the sources changed. */
export async function ensureBundle() {
  return freshBundle() ?? (await buildBundle());
}

/** Ink imports React's devtools only when DEV=true; bundling them would pull in a package Ralph does not ship. */
/** @type {import('esbuild').Plugin} */
const withoutReactDevtools = {
  name: 'without-react-devtools',
  setup(build) {
    build.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: 'react-devtools-core', namespace: 'ralph-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'ralph-stub' }, () => ({
      contents: 'export default { connectToDevTools() { throw new Error("React devtools are not part of the ralph bundle"); } };',
      loader: 'js',
    }));
  },
};

/**
 * yoga-layout (Ink's layout engine) has its WebAssembly inline as a data: URL and loads it with
 * `fetch` whenever `fetch` exists: in Node that first loads Node's whole fetch implementation
 * (undici), ~60 ms of the TUI's start, to decode bytes it can decode itself. Inside its loader's
 * own function scope `fetch` is shadowed by an undefined variable, so it takes its synchronous
 * path; nothing else sees the shadow. Should the loader's text change, it is bundled as it is.
 */
const YOGA_LOADER_SCOPE = 'var _scriptDir = import.meta.url;';
/** @type {import('esbuild').Plugin} */
const yogaWithoutFetch = {
  name: 'yoga-without-fetch',
  setup(build) {
    build.onLoad({ filter: /yoga-layout[\\/].*yoga-wasm-base64-esm\.js$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const source = await readFile(args.path, 'utf8');
      return { contents: source.replace(YOGA_LOADER_SCOPE, `${YOGA_LOADER_SCOPE} var fetch = undefined;`), loader: 'js' };
    });
  },
};

/**
 * string-width (Ink's and the TUI's text widths) tests every grapheme of a non-ASCII string against
 * `/^\p{RGI_Emoji}$/v`, a regular expression V8 takes 15–20 ms to compile on first use: the TUI's
 * first frame (its borders and bullets are not ASCII) paid that. Every RGI emoji, and every other
 * sequence string-width counts as a double-width emoji, holds a code point of one of the classes
 * below; a grapheme with none is no emoji, so both checks are skipped for it. A grapheme of one
 * code point (⏸, ✔) is an RGI emoji when it is presented as one by default, which a simple
 * regular expression tells. The widths stay string-width's own (bundle.test.ts compares them for
 * every code point). Should the text change, it is bundled as it is.
 */
const STRING_WIDTH_EMOJI_REGEX = 'const rgiEmojiRegex = /^\\p{RGI_Emoji}$/v;';
const STRING_WIDTH_EMOJI_CHECK = 'if (rgiEmojiRegex.test(segment) || isDoubleWidthNonRgiEmojiSequence(segment)) {';
const MAY_BE_EMOJI = String.raw`const mayBeEmojiRegex = /[\p{Extended_Pictographic}\p{Emoji_Presentation}\p{Regional_Indicator}\u{FE0F}\u{20E3}]/u;
const singleEmojiRegex = /^(?!\p{Regional_Indicator})\p{Emoji_Presentation}$/u;`;

/**
 * string-width's source with the emoji checks behind a cheap one, or null when it reads otherwise.
 * @param {string} source
 * @returns {string | null}
 */
export function stringWidthWithEmojiCheckWhenNeeded(source) {
  if (!source.includes(STRING_WIDTH_EMOJI_REGEX) || !source.includes(STRING_WIDTH_EMOJI_CHECK)) return null;
  return source
    .replace(STRING_WIDTH_EMOJI_REGEX, `${STRING_WIDTH_EMOJI_REGEX}\n${MAY_BE_EMOJI}`)
    .replace(
      STRING_WIDTH_EMOJI_CHECK,
      'if (mayBeEmojiRegex.test(segment) && (segment.length === 1 || (segment.length === 2 && segment.codePointAt(0) > 0xffff) ? singleEmojiRegex.test(segment) : rgiEmojiRegex.test(segment) || isDoubleWidthNonRgiEmojiSequence(segment))) {',
    );
}

/** @type {import('esbuild').Plugin} */
const stringWidthEmojiCheckWhenNeeded = {
  name: 'string-width-emoji-check-when-needed',
  setup(build) {
    build.onLoad({ filter: /[\\/]string-width[\\/]index\.js$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const source = await readFile(args.path, 'utf8');
      return { contents: stringWidthWithEmojiCheckWhenNeeded(source) ?? source, loader: 'js' };
    });
  },
};

/** Ralph's own TypeScript sources the command line and the daemon may load (stamped before the build reads them). */
function listSources() {
  /** @type {string[]} */
  const files = [];
  /** @param {string} dir */
  const walk = (dir) => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue; // build outputs (tui/.build) and the like
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.isFile() && /\.tsx?$/.test(entry.name)) files.push(file);
    }
  };
  walk('tui');
  walk('protocol');
  walk('daemon');
  return files;
}

/** Content-addressed outputs: a file already there has these bytes, and may be in use; it is left alone. */
/** @param {string} file @param {Uint8Array} contents */
function writeOnce(file, contents) {
  try {
    statSync(file);
    return;
  } catch {
    writeAtomically(file, contents);
  }
}

/** @param {string} file @param {string | Uint8Array} contents */
function writeAtomically(file, contents) {
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temp, contents);
  renameSync(temp, file);
}

/** Removes outputs of earlier builds written before this one started, once they are a day old. */
/** @param {string} outDir @param {Set<string>} keep @param {number} startedAt */
function prune(outDir, keep, startedAt) {
  for (const name of readdirSync(outDir)) {
    if (keep.has(name)) continue;
    const file = path.join(outDir, name);
    try {
      const { mtimeMs } = statSync(file);
      const leftoverTemp = name.endsWith('.tmp') && mtimeMs < startedAt - 60_000;
      if (leftoverTemp || mtimeMs < startedAt - PRUNE_AFTER_MS) rmSync(file, { force: true });
    } catch {
      // gone already: another build pruned it
    }
  }
}

/**
 * `node tui/bin/bundle.js`: builds the bundle (`npm run build`, `npm test`). With `--if-possible`
 * (npm's `prepare`), a failed build is a warning: `ralph` then runs from source, slower to start.
 */
if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const startedAt = Date.now();
  try {
    const entry = await buildBundle();
    process.stdout.write(`ralph: bundled the command line and TUI into ${path.relative(ROOT, entry)} in ${Date.now() - startedAt} ms\n`);
  } catch (error) {
    process.stderr.write(`ralph: could not bundle the command line and TUI: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = process.argv.includes('--if-possible') ? 0 : 1;
  }
}
