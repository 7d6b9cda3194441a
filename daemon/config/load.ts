/**
 * Finding and loading `ralph.config.ts` from the repository root. The file is TypeScript (or
 * JavaScript) run through tsx, so it may be a plain default-exported object or `defineConfig(...)`.
 *
 * Before it is run, the file must be a regular file of the repository (a symbolic link may point
 * to one inside it, not outside), at most MAX_CONFIG_BYTES, UTF-8: a folder, a FIFO (whose read
 * would wait forever) or a link to /etc/passwd is a clear error, and nothing of its content is quoted.
 */
import { lstat, realpath } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { messageOf } from '../../protocol/index.ts';
import { decodeUtf8 } from '../fs/json-text.ts';
import { readRegularFile, UnsafeFileError } from '../fs/read.ts';
import { defaultConfig, parseConfig, type RalphConfig } from './schema.ts';

/** Looked for in this order; the first that exists is the config. */
export const CONFIG_FILE_NAMES = ['ralph.config.ts', 'ralph.config.mts', 'ralph.config.js', 'ralph.config.mjs'] as const;

/** A config that neither finishes nor fails (a top-level await that never settles) must not hold the daemon up. */
export const LOAD_TIMEOUT_MS = 10_000;

/** A config is a page of settings; anything this large is not one. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Brackets nested deeper than this are not a config either. Thousands deep, loading one as a
 * CommonJS module crashes Node outright (a segmentation fault, not an exception): it is refused unrun.
 */
export const MAX_CONFIG_NESTING = 256;

export type LoadResult =
  /** `file` is null when the repository has no config file (defaults). */
  { ok: true; config: RalphConfig; file: string | null } | { ok: false; error: string; file: string };

export async function findConfigFile(repoRoot: string): Promise<string | null> {
  for (const name of CONFIG_FILE_NAMES) {
    const file = path.join(repoRoot, name);
    try {
      // lstat: whatever is there (a dangling link, a folder) is the config, and gets its error.
      await lstat(file);
      return file;
    } catch {
      // not this one
    }
  }
  return null;
}

/** Why the config file is not run, or null when it may be: a regular UTF-8 file of the repository, not too large. */
async function refuseConfigFile(repoRoot: string, file: string, name: string): Promise<string | null> {
  let real = file;
  try {
    if ((await lstat(file)).isSymbolicLink()) {
      real = await realpath(file);
      const root = await realpath(repoRoot);
      const inside = path.relative(root, real);
      if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
        return `${name}: is a symbolic link to a file outside the repository; it is not loaded`;
      }
    }
    const bytes = await readRegularFile(real, { maxBytes: MAX_CONFIG_BYTES });
    const decoded = decodeUtf8(bytes);
    if (!decoded.ok) return `${name}: is ${decoded.error}; it is not loaded`;
    if (nestingDepth(decoded.text) > MAX_CONFIG_NESTING)
      return `${name}: nests brackets more than ${MAX_CONFIG_NESTING} deep; it is not loaded`;
    return null;
  } catch (error) {
    if (error instanceof UnsafeFileError) return `${name}: is not loaded: ${error.message}`;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${name}: is a symbolic link to nothing; it is not loaded`;
    return `${name}: cannot be read (${code ?? 'unknown error'})`;
  }
}

/**
 * How deep (, [ and { nest in source text, quoted strings and comments skipped. Rough where a
 * regular expression or a template's text holds a bracket: only used against a generous cap.
 */
export function nestingDepth(source: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    // Template literals are read as code: the brackets of their ${ ... } count (their text's may count one too many).
    if (c === '"' || c === "'") {
      for (i++; i < source.length && source[i] !== c && source[i] !== '\n'; i++) if (source[i] === '\\') i++;
    } else if (c === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end === -1 ? source.length : end + 1;
    } else if (c === '(' || c === '[' || c === '{') {
      deepest = Math.max(deepest, ++depth);
    } else if (c === ')' || c === ']' || c === '}') {
      depth = Math.max(0, depth - 1);
    }
  }
  return deepest;
}

/** Each load imports a new URL: the module cache would otherwise hand back the first version forever. */
let loadCount = 0;

/** Node's CommonJS module cache, which the ES module loader also fills for CommonJS files. */
const commonJsCache = createRequire(import.meta.url).cache;

/** Loads and validates the repository's config; never throws (a bad file is an error result naming it). */
export async function loadConfig(repoRoot: string, options: { timeoutMs?: number } = {}): Promise<LoadResult> {
  const file = await findConfigFile(repoRoot);
  if (file === null) return { ok: true, config: defaultConfig(), file: null };
  const name = path.basename(file);
  const refused = await refuseConfigFile(repoRoot, file, name);
  if (refused !== null) return { ok: false, error: refused, file };

  let exported: unknown;
  try {
    exported = await withTimeout(importFresh(file), options.timeoutMs ?? LOAD_TIMEOUT_MS, name);
  } catch (error) {
    return { ok: false, error: describeLoadError(error, name), file };
  }
  if (exported === undefined) return { ok: false, error: `${name}: has no default export (export default { ... })`, file };
  const parsed = parseConfig(exported, name);
  return parsed.ok ? { ok: true, config: parsed.config, file } : { ok: false, error: parsed.error, file };
}

async function importFresh(file: string): Promise<unknown> {
  const url = `${pathToFileURL(file).href}?load=${++loadCount}`;
  // A file loaded as CommonJS is cached by its path, query string or not: without this a `.js`
  // config would never reload, and every reload of a `.ts` one would stay in memory. (ES module
  // configs stay in the loader's map, one small module per reload: edits are rare.)
  forgetCommonJs(file);
  try {
    const namespace = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    return defaultExport(namespace);
  } finally {
    forgetCommonJs(file);
  }
}

function forgetCommonJs(file: string): void {
  for (const key of Object.keys(commonJsCache)) {
    if (key === file || key.startsWith(`${file}?`)) delete commonJsCache[key];
  }
}

/**
 * The default export. In a folder whose package.json does not say `"type": "module"`, a `.ts` or
 * `.js` file is compiled to CommonJS: the namespace's `default` is then `module.exports`, which
 * holds the real default export when the source was ES module syntax (marked `__esModule`), and
 * is the config itself for a file that assigns `module.exports = {...}`.
 */
function defaultExport(namespace: Record<string, unknown>): unknown {
  const value = namespace.default;
  const commonJs = 'module.exports' in namespace;
  if (commonJs && typeof value === 'object' && value !== null && (value as { __esModule?: unknown }).__esModule === true) {
    return (value as { default?: unknown }).default;
  }
  return value;
}

class LoadTimeout extends Error {}

function withTimeout<T>(work: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new LoadTimeout(`${name}: did not finish loading within ${ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`}`)),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One line naming the file: esbuild's syntax errors become `ralph.config.ts:3:14: Unexpected ";"`,
 * anything the file throws `ralph.config.ts: failed to load: <its message>`.
 */
function describeLoadError(error: unknown, name: string): string {
  if (error instanceof LoadTimeout) return error.message;
  const message = messageOf(error);
  const syntax = /:(\d+):(\d+): ERROR: (.+)/.exec(message);
  if (syntax) return `${name}:${syntax[1]}:${syntax[2]}: ${syntax[3]}`;
  const firstLine = message.split('\n').find((line) => line.trim() !== '') ?? 'unknown error';
  return `${name}: failed to load: ${firstLine.trim()}`;
}
