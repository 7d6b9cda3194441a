// @ts-check
/**
 * The thin `ralph`: hands this terminal to the repository's spare TUI (tui/spare/spare.ts), a
 * process that has the TUI loaded and warm, the way emacsclient hands a file to a running Emacs.
 * The first frame then costs a Node start and a socket round trip instead of loading the command
 * line, the protocol and Ink (~250 ms of one core here).
 *
 * Runs first in tui/bin/ralph.js for the bare `ralph` / `ralph --repo DIR` when stdin and stdout
 * are terminals. Anything amiss (no spare listening, a refusal, a bundle that is not the current
 * one, another platform) returns null at once, and `ralph` starts the normal way: no visible
 * difference, only the time. RALPH_TUI_SPARE=0 skips it.
 *
 * Once attached, this process stays the terminal's foreground process (the shell's job): it never
 * reads the terminal (the spare opened the terminal's device and reads the keys), it tells the
 * spare about size changes (SIGWINCH) and quits (SIGINT, SIGTERM, SIGHUP), runs the editor the
 * spare asks for here in the foreground (so Ctrl+Z, Ctrl+C and programs that open /dev/tty behave
 * as in a normal start), and exits with the TUI's exit code once the spare has given the terminal
 * back. A spare that dies leaves the terminal to this process, which restores it (`stty sane`, the
 * cursor shown) and says so.
 *
 * Wire format: one JSON object a line each way. Hello: { attach: 1, bundle, repoRoot, tty,
 * columns, rows, cwd, env, argv } → { ok: true } | { ok: false, error }. Then to the spare:
 * { type: 'resize', columns, rows } | { type: 'quit' } | { type: 'editor-done', status, signal, error };
 * from it: { type: 'editor', command, file } | { type: 'exit', code, message? }.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { isatty } from 'node:tty';
import { fileURLToPath } from 'node:url';
import { findRepoRootQuickly, spareSocketPath } from './spare-socket.js';

/**
 * The bundle's manifest (tui/bin/bundle.js writes it). Only the entry it names is read here: the
 * spare checks that the bundle is fresh (every source unchanged since the build, ~300 files to
 * stat, 10–15 ms in a process that just started, a few in the warm spare) before it takes the
 * terminal, and refuses when it is not, so a stale bundle is rebuilt by the normal start.
 */
const MANIFEST = fileURLToPath(new URL('../.build/manifest.json', import.meta.url));

/**
 * A spare answers the hello at once, or after its warm-up when it was started a moment ago; one
 * that does not answer by then is not waited for (it then never draws on this terminal).
 */
const HELLO_TIMEOUT_MS = 2_000;

/** How long a quit (SIGINT, SIGTERM, SIGHUP) waits for the spare to give the terminal back: it takes ~0.1 s. */
const QUIT_GRACE_MS = 3_000;

/**
 * Hands the terminal to the spare and resolves with the TUI's exit code, or null (at once) when
 * there is no usable spare and `ralph` should start the normal way.
 * @param {readonly string[]} args the command's arguments
 * @returns {Promise<number | null>}
 */
export async function attachToSpare(args) {
  const debug = process.env.RALPH_DEBUG === '1';
  // A quit (SIGINT, SIGTERM, SIGHUP) while the hello is on its way, when the spare may draw already:
  // kept, and sent once attached, or the command ends instead of starting the normal way.
  let quitEarly = false;
  const early = () => {
    quitEarly = true;
  };
  const signals = /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP']);
  try {
    const hello = helloFor(args);
    if (!hello) return null;
    for (const signal of signals) process.on(signal, early);
    const socket = await connect(spareSocketPath(hello.repoRoot));
    const lines = lineReader(socket);
    const answer = await exchangeHello(socket, lines, hello);
    if (!answer.ok) {
      socket.destroy();
      if (debug) process.stderr.write(`ralph: the spare TUI refused: ${answer.error}\n`);
      return quitEarly ? 130 : null;
    }
    return await attached(socket, lines, () => quitEarly);
  } catch (error) {
    if (debug) process.stderr.write(`ralph: no spare TUI: ${error instanceof Error ? error.message : String(error)}\n`);
    return quitEarly ? 130 : null;
  } finally {
    for (const signal of signals) process.off(signal, early);
  }
}

/**
 * What the spare is told, or null when this start cannot use one.
 * @param {readonly string[]} args
 */
function helloFor(args) {
  const env = process.env;
  // Linux (the terminal's path is read in /proc), and a Node that loads child_process when needed (22.3+).
  if (env.RALPH_TUI_SPARE === '0' || process.platform !== 'linux' || !process.getBuiltinModule) return null;
  // A spare runs the bundle; a start from the sources (RALPH_FROM_SOURCE=1, a development NODE_ENV) is not its code.
  if (env.RALPH_FROM_SOURCE === '1' || (env.NODE_ENV !== undefined && env.NODE_ENV !== 'production')) return null;
  if (!isatty(0) || !isatty(1)) return null;
  let repo = '.';
  if (args.length === 2 && args[0] === '--repo') repo = args[1] ?? '.';
  else if (args.length !== 0) return null;
  const tty = readlinkSync('/proc/self/fd/0');
  // The spare draws where keys are read: both must be the same terminal.
  if (!/^\/dev\/(pts\/\d+|tty\w*)$/.test(tty) || readlinkSync('/proc/self/fd/1') !== tty) return null;
  const repoRoot = findRepoRootQuickly(repo);
  // The bundle `ralph` would run now, if it is fresh (the spare checks that).
  const bundle = builtEntry();
  if (!repoRoot || !bundle) return null;
  const [columns, rows] = process.stdout.getWindowSize();
  return { attach: 1, bundle, repoRoot, tty, columns, rows, cwd: process.cwd(), env, argv: [...args] };
}

/** The entry the manifest names (an absolute path), or null when there is no build. */
function builtEntry() {
  try {
    const { entry } = JSON.parse(readFileSync(MANIFEST, 'utf8'));
    return typeof entry === 'string' ? fileURLToPath(new URL(`../.build/${entry}`, import.meta.url)) : null;
  } catch {
    return null;
  }
}

/** @param {string} socketPath @returns {Promise<net.Socket>} */
function connect(socketPath) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * @param {net.Socket} socket @param {ReturnType<typeof lineReader>} lines @param {object} hello
 * @returns {Promise<{ ok: true } | { ok: false, error: string }>}
 */
function exchangeHello(socket, lines, hello) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('the spare did not answer')), HELLO_TIMEOUT_MS);
    /** @param {Error} error */
    const fail = (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    lines.listen((message) => {
      clearTimeout(timer);
      lines.listen(null);
      socket.off('close', closed);
      socket.off('error', fail);
      resolve(message.ok === true ? { ok: true } : { ok: false, error: String(message.error) });
    });
    const closed = () => fail(new Error('the spare closed the connection'));
    socket.once('close', closed);
    socket.once('error', fail);
    socket.write(`${JSON.stringify(hello)}\n`);
  });
}

/**
 * JSON lines from the socket, each handed to the current listener (`listen`); lines that arrive
 * while there is none wait for the next one.
 * @param {net.Socket} socket
 */
function lineReader(socket) {
  /** @type {((message: any) => void) | null} */
  let listener = null;
  /** @type {any[]} */
  const waiting = [];
  let buffered = '';
  const deliver = () => {
    while (waiting.length > 0 && listener) listener(waiting.shift());
  };
  socket.setEncoding('utf8');
  socket.on('data', (/** @type {string} */ chunk) => {
    buffered += chunk;
    for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      try {
        waiting.push(JSON.parse(line));
      } catch {
        // not a message of the spare's: ignored
      }
    }
    deliver();
  });
  return {
    /** @param {((message: any) => void) | null} next */
    listen(next) {
      listener = next;
      deliver();
    },
  };
}

/**
 * The terminal is the spare's now: forward sizes and quits, run the editor when asked, and resolve
 * with the TUI's exit code.
 * @param {net.Socket} socket @param {ReturnType<typeof lineReader>} lines @param {() => boolean} quitAlready
 * @returns {Promise<number>}
 */
function attached(socket, lines, quitAlready) {
  return new Promise((resolve) => {
    /** @param {object} message */
    const send = (message) => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
    };
    let editing = false;
    let finished = false;
    const resize = () => {
      const [columns, rows] = process.stdout.getWindowSize();
      send({ type: 'resize', columns, rows });
    };
    const restoreTerminal = () => {
      spawnSyncLater()('stty', ['sane'], { stdio: 'inherit' });
      process.stdout.write('\u001b[?25h\r\n');
    };
    /** @type {NodeJS.Timeout | null} */
    let quitDeadline = null;
    const quit = () => {
      if (editing) return;
      send({ type: 'quit' });
      // A spare that does not give the terminal back in time (wedged, or stopped): the quit is not
      // lost, the terminal is restored here and the command ends.
      quitDeadline ??= setTimeout(() => {
        if (finished) return;
        finished = true;
        restoreTerminal();
        process.stderr.write('ralph: the TUI process did not answer a quit; the terminal was restored\n');
        socket.destroy();
        resolve(1);
      }, QUIT_GRACE_MS);
    };
    process.on('SIGWINCH', resize);
    for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) process.on(signal, quit);
    // The size may have changed between the hello and now.
    resize();
    if (quitAlready()) quit();

    lines.listen((message) => {
      if (message.type === 'exit') {
        if (quitDeadline) clearTimeout(quitDeadline);
        if (finished) return;
        finished = true;
        if (typeof message.message === 'string' && message.message) process.stderr.write(`ralph: ${message.message}\n`);
        resolve(Number.isInteger(message.code) ? message.code : 1);
        socket.end();
      } else if (message.type === 'editor' && typeof message.command === 'string' && typeof message.file === 'string') {
        editing = true;
        // In the foreground, as the TUI would run it: the editor owns the terminal until it exits.
        const result = spawnSyncLater()('/bin/sh', ['-c', `${message.command} "$1"`, 'ralph-editor', message.file], { stdio: 'inherit' });
        send({ type: 'editor-done', status: result.status, signal: result.signal, error: result.error?.message ?? null });
        // A Ctrl+C typed in the editor reaches this process too, after it: not a quit.
        setTimeout(() => {
          editing = false;
        }, 100);
      }
    });
    socket.on('error', () => {});
    socket.once('close', () => {
      if (quitDeadline) clearTimeout(quitDeadline);
      if (finished) return;
      finished = true;
      // The spare went away without giving the terminal back: restore it here.
      restoreTerminal();
      process.stderr.write('ralph: the TUI process ended unexpectedly; the terminal was restored\n');
      resolve(1);
    });
  });
}

/** child_process, loaded when an editor or stty runs, not at every start. */
function spawnSyncLater() {
  return process.getBuiltinModule('node:child_process').spawnSync;
}
