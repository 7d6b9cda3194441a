/**
 * Editor commands for tests: small shell scripts standing in for vi, written to a temporary folder
 * (EDITOR is run as `sh -c "$EDITOR \"$1\""`, exactly as a real one is).
 */
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A script that appends `line` to the file it is given and records the path it got in `seen`. */
export async function appendingEditor(dir: string, line: string): Promise<{ command: string; seen: string }> {
  const script = path.join(dir, 'append editor.sh'); // a space, to prove the path is quoted
  const seen = path.join(dir, 'seen.txt');
  await writeFile(script, `#!/bin/sh\nprintf '%s\\n' '${line}' >> "$1"\nprintf '%s' "$1" > '${seen}'\n`);
  await chmod(script, 0o755);
  return { command: `'${script}'`, seen };
}
