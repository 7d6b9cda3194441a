/**
 * Editing a goal's spec in the developer's own editor ($VISUAL, then $EDITOR, then vi): the spec is
 * written to a temporary file, the editor runs in the terminal, the file is read back.
 *
 * The editor runs with `spawnSync` and the terminal's stdio, and raw mode off: while it runs the
 * TUI's event loop is blocked, so Ink neither draws over the editor nor reads its keys (the way
 * Gemini CLI opens its external editor). Daemon events wait in the socket meanwhile, and arrive
 * after; if the daemon dropped the silent connection, the client reconnects and resumes.
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
        let result;
        try {
          // The file is passed as "$1", so a path with spaces or quotes is never split or interpreted.
          result = spawnSync('/bin/sh', ['-c', `${command} "$1"`, 'ralph-editor', file], { stdio, env });
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
