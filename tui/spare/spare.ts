/**
 * A spare TUI: a process with the TUI's code loaded (Ink, React, the App, the protocol client),
 * waiting on a private unix socket (tui/bin/spare-socket.js) for a thin `ralph` (tui/bin/attach.js)
 * to hand it a terminal, the way kitty keeps kittens prewarmed and emacsclient attaches to a
 * running Emacs. The first frame then costs a Node start and a round trip, not loading the code.
 *
 * - One spare per repository, started by an opened TUI (spawn.ts), never by the daemon. It serves
 *   one terminal: once attached it stops listening, and its TUI starts the next spare.
 * - While it waits it is not connected to the daemon: the daemon counts a client named 'tui' as a
 *   person with a TUI open (desktop notifications go elsewhere otherwise), and a waiting spare is
 *   nobody. It connects as the TUI once attached (~10–20 ms of the first frame; a connection kept
 *   while waiting would need a way to rename a client). Its warm-up (warmUp: one frame drawn in
 *   memory as it starts, ~60 ms off the first real frame here) connects for a moment as 'spare'.
 * - It exits when its daemon goes away, when the bundle it runs is no longer the one `ralph`
 *   would run (a rebuild), or when its socket is taken over. The hello names the bundle the client
 *   would load: a spare running other code refuses, and goes.
 * - Everyone of this user may reach the socket (the folder is private to the user): a hello that is
 *   malformed, too large or too slow gets a refusal and the spare keeps waiting; a path that is
 *   not a terminal of this user's is never drawn on.
 * - Attached, it opens the terminal's device itself (O_NOCTTY: it never becomes its controlling
 *   terminal), takes the client's environment, folder and colour level (chalk's was computed
 *   when Ink loaded, from this process's /dev/null), and runs the TUI on it. The client stays the
 *   foreground process: it forwards resizes and quits, and runs the editor (editorThroughClient).
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync, unlinkSync, writeSync } from 'node:fs';
import net from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import tty from 'node:tty';
import { z } from 'zod';
// Ink's own chalk (the copy Ink draws with; the top-level chalk is another version): its colour level is set per terminal.
import chalk from '../../node_modules/ink/node_modules/chalk/source/index.js';
import { createSupportsColor } from '../../node_modules/ink/node_modules/chalk/source/vendor/supports-color/index.js';
import { TUI_CLIENT_NAME } from '../../protocol/events.ts';
import { isProcessAlive } from '../../protocol/index.ts';
import { messageOf } from '../../protocol/text.ts';
import { runEditorsThrough, type EditorRun, type EditorRunner } from '../app/editor.ts';
import { runTui } from '../app/run.tsx';
import { freshEntries } from '../bin/bundle.js';
import { spareSocketPath } from '../bin/spare-socket.js';
import { connectToDaemon, findRunningDaemon } from '../connection/daemon.ts';
import { spareLater, spareListens } from './spawn.ts';

/** A hello carries the whole environment; a megabyte is far above any real one. */
export const MAX_HELLO_BYTES = 1024 * 1024;
/** A client sends its hello at once; a connection that does not is dropped. */
const HELLO_TIMEOUT_MS = 5_000;
/** How often a waiting spare checks that its daemon, its bundle and its socket are still current. */
const WATCH_INTERVAL_MS = 2_000;
/** Terminal device paths (Linux): pseudo-terminals and consoles. */
const TTY_PATH = /^\/dev\/(pts\/\d+|tty\w*)$/;

const Hello = z.object({
  attach: z.literal(1),
  bundle: z.string(),
  repoRoot: z.string(),
  tty: z.string(),
  columns: z.int().positive().max(100_000),
  rows: z.int().positive().max(100_000),
  cwd: z.string(),
  env: z.record(z.string(), z.string()),
  argv: z.array(z.string()),
});
type Hello = z.infer<typeof Hello>;

const ClientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('resize'), columns: z.int().positive().max(100_000), rows: z.int().positive().max(100_000) }),
  z.object({ type: z.literal('quit') }),
  z.object({
    type: z.literal('editor-done'),
    status: z.int().nullable(),
    signal: z.string().nullable(),
    error: z.string().nullable(),
  }),
]);
type ClientMessage = z.infer<typeof ClientMessage>;

/** A hello the spare will not serve; the message is what the client is told. */
class Refusal extends Error {
  /** The spare runs code the client would not: it goes after saying so. */
  readonly stale: boolean;
  constructor(message: string, { stale = false } = {}) {
    super(message);
    this.name = 'Refusal';
    this.stale = stale;
  }
}

export interface SpareOptions {
  repoRoot: string;
  /** The bundle entry (`ralph`'s) this spare's code belongs to: a client that would load another is refused. */
  bundle: string;
}

/** Waits for a client, serves its terminal, and resolves with the process's exit code. */
export async function runSpare({ repoRoot, bundle }: SpareOptions): Promise<number> {
  const daemon = await findRunningDaemon(repoRoot);
  if (!daemon) return 0; // a spare only waits beside a running daemon
  const socketPath = spareSocketPath(repoRoot);
  const server = net.createServer();
  if (!(await listenUnlessTaken(server, socketPath))) return 0;
  const socketInode = statSync(socketPath).ino;
  // Compiled and warm before anyone attaches: the first real frame does not pay V8's first runs.
  const warm = warmUp(repoRoot);

  return new Promise<number>((resolve) => {
    let attached = false;
    const stopWaiting = () => {
      clearInterval(watch);
      server.close();
      // Only the file this spare made: another spare may own the path by now.
      if (inodeOf(socketPath) === socketInode) unlinkSync(socketPath);
    };
    const watch = setInterval(() => {
      const current = isProcessAlive(daemon.pid) && freshEntries()?.entry === bundle && inodeOf(socketPath) === socketInode;
      if (!current) {
        stopWaiting();
        resolve(0);
      }
    }, WATCH_INTERVAL_MS);

    server.on('connection', (socket) => {
      readHello(socket)
        .then(async (hello) => {
          if (hello === null) return; // a probe (spareListens), or a client that gave up
          if (attached) throw new Refusal('this spare is already attached to a terminal');
          const terminal = openTerminal(hello, { repoRoot, bundle });
          attached = true;
          stopWaiting();
          await warm; // done long before a person's second `ralph`; an early one waits for it
          if (socket.destroyed) {
            // The client gave up waiting and started the normal way: its terminal is not drawn on.
            terminal.input.destroy();
            terminal.output.destroy();
            resolve(0);
            return;
          }
          send(socket, { ok: true });
          serve(socket, hello, terminal, repoRoot).then(resolve);
        })
        .catch((error: unknown) => {
          send(socket, { ok: false, error: messageOf(error) });
          socket.end();
          if (error instanceof Refusal && error.stale && !attached) {
            stopWaiting();
            resolve(0);
          }
        });
    });
  });
}

/**
 * Draws the TUI once on the daemon's real state into a terminal in memory, then leaves: the code
 * of a first frame (React, Ink's layout, the App, the protocol's parsing) then runs compiled and
 * warm when a person attaches. Connected as 'spare', never as the TUI (notifications go on as if
 * no one were there), for the moment it takes. Never throws: a failed warm-up costs only time.
 */
async function warmUp(repoRoot: string): Promise<void> {
  try {
    const client = await connectToDaemon(repoRoot, { name: 'spare', start: false, reconnect: false });
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin, ref: () => stdin, unref: () => stdin });
    let drawn: () => void = () => {};
    const frameDrawn = new Promise<void>((resolve) => {
      drawn = resolve;
    });
    let written = '';
    const stdout = Object.assign(
      new Writable({
        write(chunk: Buffer | string, _encoding, done) {
          written += chunk.toString();
          if (written.includes('connected')) drawn(); // the status bar: the frame with the daemon's state
          done();
        },
      }),
      { columns: 100, rows: 30, isTTY: true },
    );
    const quit = new AbortController();
    // Ink reads only these members of a terminal; the casts say "a terminal" to its types.
    const running = runTui({
      client,
      repoRoot,
      stdin: stdin as unknown as NodeJS.ReadStream,
      stdout: stdout as unknown as NodeJS.WriteStream,
      stderr: stdout as unknown as NodeJS.WriteStream,
      quit: quit.signal,
    });
    await Promise.race([frameDrawn, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    quit.abort();
    await running;
  } catch {
    // no warm-up: the first frame is slower, nothing else
  }
}

/** Listens on the socket path, taking it over from a dead spare; false when a live one has it. */
async function listenUnlessTaken(server: net.Server, socketPath: string): Promise<boolean> {
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await listen();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
  }
  if (await spareListens(socketPath)) return false;
  try {
    unlinkSync(socketPath); // a socket file a killed spare left
  } catch {
    // gone already
  }
  try {
    await listen();
    return true;
  } catch {
    return false; // another spare took it meanwhile
  }
}

function inodeOf(file: string): number | null {
  try {
    return statSync(file).ino;
  } catch {
    return null;
  }
}

/** The first line of a connection as a hello; null when it closes without one. Refused when it is malformed, too large or too slow. */
function readHello(socket: net.Socket): Promise<Hello | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      settle();
    };
    const timer = setTimeout(() => finish(() => reject(new Refusal('no hello within 5 s'))), HELLO_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      const newline = chunk.indexOf(10);
      if (newline === -1) {
        chunks.push(chunk);
        size += chunk.length;
        if (size > MAX_HELLO_BYTES) finish(() => reject(new Refusal(`the hello is larger than ${MAX_HELLO_BYTES} bytes`)));
        return;
      }
      chunks.push(chunk.subarray(0, newline));
      const rest = chunk.subarray(newline + 1);
      if (rest.length > 0) socket.unshift(rest);
      finish(() => {
        let json: unknown;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          reject(new Refusal('the hello is not JSON'));
          return;
        }
        const parsed = Hello.safeParse(json);
        if (parsed.success) resolve(parsed.data);
        else reject(new Refusal(`the hello is malformed: ${parsed.error.issues[0]?.path.join('.') || 'its shape'}`));
      });
    };
    const onEnd = () => finish(() => resolve(null));
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.on('error', () => finish(() => resolve(null)));
  });
}

interface Terminal {
  input: tty.ReadStream;
  output: tty.WriteStream;
}

/** The client's terminal, opened here; refused unless the hello is for this spare and names a terminal of this user's. */
function openTerminal(hello: Hello, { repoRoot, bundle }: SpareOptions): Terminal {
  if (hello.bundle !== bundle) throw new Refusal('this spare runs another build of ralph', { stale: true });
  // The client named the bundle it found; whether it is fresh (no source changed since) is checked here, where it is cheap.
  if (freshEntries()?.entry !== bundle) throw new Refusal('the sources changed since this build of ralph', { stale: true });
  let sameRepository = false;
  try {
    sameRepository = realpathSync(hello.repoRoot) === realpathSync(repoRoot);
  } catch {
    // a root that does not exist is not this one
  }
  if (!sameRepository) throw new Refusal(`this spare serves ${repoRoot}, not ${hello.repoRoot}`);
  if (!TTY_PATH.test(hello.tty)) throw new Refusal(`not a terminal device: ${hello.tty}`);
  const open = () => {
    let fd: number;
    try {
      // O_NOCTTY: never this process's controlling terminal. O_NONBLOCK: a device that blocks on open is not waited on.
      fd = openSync(hello.tty, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    } catch (error) {
      throw new Refusal(`cannot open ${hello.tty}: ${messageOf(error)}`);
    }
    if (!tty.isatty(fd) || fstatSync(fd).uid !== process.getuid?.()) {
      closeSync(fd);
      throw new Refusal(`${hello.tty} is not a terminal of this user's`);
    }
    return fd;
  };
  // Two descriptors: each stream closes its own.
  const input = new tty.ReadStream(open());
  const output = new tty.WriteStream(open());
  return { input, output };
}

/** The TUI on the client's terminal, until it quits (or the client goes); resolves with the exit code. */
async function serve(socket: net.Socket, hello: Hello, { input, output }: Terminal, repoRoot: string): Promise<number> {
  adoptEnvironment(hello.env);
  try {
    process.chdir(hello.cwd);
  } catch {
    // a folder gone meanwhile: the repository's root is as good
  }
  const support = createSupportsColor(output);
  chalk.level = support ? support.level : 0;

  const quit = new AbortController();
  const messages = clientMessages(socket, (message) => {
    if (message.type === 'quit') quit.abort();
    else if (message.type === 'resize') resize(output, message);
  });
  socket.on('close', () => quit.abort()); // the client went: its terminal is no one's now
  socket.on('error', () => {});
  output.on('error', () => quit.abort()); // the terminal itself went away
  runEditorsThrough(editorThroughClient(socket, messages));

  const nextSpare = spareLater(repoRoot);
  let code = 0;
  let failure = '';
  try {
    const client = await connectToDaemon(repoRoot, { name: TUI_CLIENT_NAME, start: true, reconnect: true });
    await runTui({ client, repoRoot, stdin: input, stdout: output, stderr: output, env: process.env, quit: quit.signal });
  } catch (error) {
    code = 1;
    failure = messageOf(error);
  }
  input.destroy();
  await new Promise<void>((resolve) => output.end(resolve));
  // The terminal is given back first (the client exits at once); the next spare is started after.
  if (!socket.destroyed) {
    send(socket, { type: 'exit', code, ...(failure ? { message: failure } : {}) });
    await new Promise<void>((resolve) => socket.end(resolve));
  }
  await nextSpare.now();
  return code;
}

/** This process's environment becomes the client's, in place (modules that kept a reference to process.env see it). */
function adoptEnvironment(env: Record<string, string>): void {
  for (const name of Object.keys(process.env)) if (!(name in env)) delete process.env[name];
  Object.assign(process.env, env);
}

/**
 * The terminal's new size (the client saw SIGWINCH and read it), told to Ink when it changed.
 * (Node reads a terminal's size again only for its own stdout, on its own SIGWINCH.)
 */
function resize(output: tty.WriteStream, { columns, rows }: { columns: number; rows: number }): void {
  if (columns === output.columns && rows === output.rows) return;
  output.columns = columns;
  output.rows = rows;
  output.emit('resize');
}

function send(socket: net.Socket, message: object): void {
  if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(message)}\n`);
}

interface ClientMessages {
  /** Hands bytes read outside the stream (editorThroughClient) to the same parser. */
  feed(chunk: Buffer): void;
  /** The first 'editor-done' in what was fed since the last call, taken out; the rest is handled. */
  takeEditorDone(): Extract<ClientMessage, { type: 'editor-done' }> | null;
}

/** The client's JSON lines, handled as they come; anything malformed is ignored. */
function clientMessages(socket: net.Socket, handle: (message: ClientMessage) => void): ClientMessages {
  let buffered = '';
  let editorDone: Extract<ClientMessage, { type: 'editor-done' }> | null = null;
  const feed = (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    if (buffered.length > MAX_HELLO_BYTES) buffered = ''; // a client flooding the spare is not obeyed
    for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        continue;
      }
      const parsed = ClientMessage.safeParse(json);
      if (!parsed.success) continue;
      if (parsed.data.type === 'editor-done') editorDone = parsed.data;
      else handle(parsed.data);
    }
  };
  socket.on('data', feed);
  return {
    feed,
    takeEditorDone() {
      const done = editorDone;
      editorDone = null;
      return done;
    },
  };
}

/**
 * Editors run by the client, in the terminal's foreground. The TUI waits for an editor blocked
 * (editor.ts: nothing draws or reads meanwhile), so this waits for the client's answer blocked
 * too: the request is written and the answer read on the socket's descriptor directly, sleeping
 * between reads (the descriptor is non-blocking). Bytes read past the answer go to the same parser.
 */
function editorThroughClient(socket: net.Socket, messages: ClientMessages): EditorRunner {
  return (command, file): EditorRun => {
    // Node's socket keeps its descriptor on its handle; there is no public way to read it blocked.
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (fd === undefined || fd < 0 || socket.destroyed) return { status: null, signal: null, error: new Error('the terminal is gone') };
    writeAll(fd, Buffer.from(`${JSON.stringify({ type: 'editor', command, file })}\n`));
    const buffer = Buffer.alloc(64 * 1024);
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      let read: number;
      try {
        read = readSync(fd, buffer);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return { status: null, signal: null, error: error as Error };
        Atomics.wait(pause, 0, 0, 20);
        continue;
      }
      if (read === 0) {
        socket.destroy(); // the client went during the edit
        return { status: null, signal: null, error: new Error('the terminal went away during the edit') };
      }
      messages.feed(Buffer.from(buffer.subarray(0, read)));
      const done = messages.takeEditorDone();
      if (done) {
        return {
          status: done.status,
          signal: done.signal as NodeJS.Signals | null,
          ...(done.error ? { error: new Error(done.error) } : {}),
        };
      }
    }
  };
}

function writeAll(fd: number, data: Buffer): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let offset = 0; offset < data.length; ) {
    try {
      offset += writeSync(fd, data, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}
