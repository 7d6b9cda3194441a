/**
 * Editing a goal's spec in the developer's own editor ($VISUAL, then $EDITOR, then vi): the spec is
 * written to a temporary file, the editor runs in the terminal, the file is read back.
 *
 * The editor runs with `spawnSync` and the terminal's stdio, and raw mode off: while it runs the
 * TUI's event loop is blocked, so Ink neither draws over the editor nor reads its keys (the way
 * Gemini CLI opens its external editor). Daemon events wait in the socket meanwhile, and arrive
 * after; if the daemon dropped the silent connection, the client reconnects and resumes.
 *
 * A spare TUI (tui/spare/) runs detached from the terminal it draws on: there the editor is run by
 * the thin `ralph` attached to it, in the terminal's foreground (job control and /dev/tty work as in
 * a normal start), and the spare waits for it just as blocked (runEditorsThrough).
 */
import { spawnSync, type StdioOptions } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface EditRequest {
  /** The text to edit. */
  text: string;
  /** A file name that says what is edited (`goal-3-spec.md`): editors pick the syntax from it. */
  fileName: string;
}

/** What an edit came to: the new text, or why there is none (the text is never lost either way). */
export type EditOutcome = { kind: 'edited'; text: string } | { kind: 'unchanged' } | { kind: 'failed'; message: string };

/** How an editor command ran: spawnSync's answer, in the part the edit needs. */
export interface EditorRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

/** Runs `command "$file"` in the terminal and returns when it exits (blocking, like spawnSync). */
export type EditorRunner = (command: string, file: string, options: { stdio: StdioOptions; env: NodeJS.ProcessEnv }) => EditorRun;

/** The file is passed as "$1", so a path with spaces or quotes is never split or interpreted. */
const runHere: EditorRunner = (command, file, { stdio, env }) =>
  spawnSync('/bin/sh', ['-c', `${command} "$1"`, 'ralph-editor', file], { stdio, env });

let runEditor: EditorRunner = runHere;

/** Where this process's editors run from now on (a spare: in its attached client's terminal). */
export function runEditorsThrough(runner: EditorRunner): void {
  runEditor = runner;
}

export interface ExternalEditor {
  edit(request: EditRequest): EditOutcome;
}

export interface TerminalEditorOptions {
  /** Where $VISUAL / $EDITOR are read. */
  env?: NodeJS.ProcessEnv;
  /** The editor's stdio: the terminal by default (tests pass 'ignore'). */
  stdio?: StdioOptions;
  /** Called just before the editor starts and right after it ends (the TUI gives the terminal up and takes it back). */
  suspend?: () => void;
  resume?: () => void;
}

/** The editor command a person configured, as a shell snippet (it may carry arguments: `code --wait`). */
export function editorCommand(env: NodeJS.ProcessEnv): string {
  return env.VISUAL?.trim() || env.EDITOR?.trim() || 'vi';
}

export function terminalEditor({ env = process.env, stdio = 'inherit', suspend, resume }: TerminalEditorOptions = {}): ExternalEditor {
  return {
    edit({ text, fileName }) {
      const dir = mkdtempSync(path.join(tmpdir(), 'ralph-edit-'));
      const file = path.join(dir, path.basename(fileName));
      try {
        writeFileSync(file, text, { mode: 0o600 });
        const command = editorCommand(env);
        suspend?.();
        // Ctrl+C in an editor that leaves signals on goes to the whole foreground group, this
        // process too: it must not take the TUI down. (Handled once the loop runs again, then dropped.)
        const ignoreInterrupt = () => {};
        process.on('SIGINT', ignoreInterrupt);
        let result: EditorRun;
        try {
          result = runEditor(command, file, { stdio, env });
        } finally {
          setTimeout(() => process.off('SIGINT', ignoreInterrupt), 100).unref();
          resume?.();
        }
        if (result.error) return { kind: 'failed', message: `could not start the editor (${command}): ${result.error.message}` };
        if (result.status !== 0) {
          const how = result.status === null ? `was killed (${result.signal ?? 'signal'})` : `exited with code ${result.status}`;
          return { kind: 'failed', message: `the editor (${command}) ${how}; the spec was not changed` };
        }
        const edited = readFileSync(file, 'utf8');
        return edited === text ? { kind: 'unchanged' } : { kind: 'edited', text: edited };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
