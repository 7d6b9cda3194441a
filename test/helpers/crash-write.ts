/** A real crash in the middle of an atomic write (daemon/fs/atomic-write.ts), for the tests of what survives it. */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ATOMIC_WRITE_MODULE = pathToFileURL(path.join(import.meta.dirname, '../../daemon/fs/atomic-write.ts')).href;

/**
 * Runs writeFileAtomic(file, data) in a child process that SIGKILLs itself after the temp file
 * is written and synced, before the rename: the worst moment for a crash. The script goes in
 * `scratchDir`. Resolves with the signal that ended the child (SIGKILL when all went to plan).
 */
export async function writeThenCrashBeforeRename(scratchDir: string, file: string, data: string): Promise<NodeJS.Signals | null> {
  const script = path.join(scratchDir, 'crash-before-rename.mjs');
  await writeFile(
    script,
    [
      `import { writeFileAtomic } from ${JSON.stringify(ATOMIC_WRITE_MODULE)};`,
      `await writeFileAtomic(${JSON.stringify(file)}, ${JSON.stringify(data)}, {`,
      `  beforeRename: () => process.kill(process.pid, 'SIGKILL'),`,
      `});`,
      `console.log('renamed: the crash did not happen');`,
    ].join('\n'),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'inherit', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve(signal));
  });
}
