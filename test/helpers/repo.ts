/** Real git repositories in temporary folders, removed after the test. */
import { execFileSync } from 'node:child_process';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { gitEnvironment } from '../../protocol/git-environment.ts';
import { defer } from './defer.ts';

/** Identity for commits made in tests, whatever the machine's git config says. */
export const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Ralph Test',
  GIT_AUTHOR_EMAIL: 'test@ralph.invalid',
  GIT_COMMITTER_NAME: 'Ralph Test',
  GIT_COMMITTER_EMAIL: 'test@ralph.invalid',
};

/** git in `cwd` as the daemon runs it: a GIT_DIR of the shell (or of a hook running the tests) must not redirect it. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...gitEnvironment(process.env), ...GIT_ENV }, encoding: 'utf8' }).trim();
}

/** An empty temporary folder (real path, so symlinked /tmp does not confuse path checks). */
export async function makeTempDir(t: TestContext | undefined, prefix = 'ralph-test-'): Promise<string> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), prefix)));
  // LIFO: whatever a test opens on this folder later is closed before it is removed.
  if (t) defer(t, () => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A git repository on branch main with one commit (a README). */
export async function makeTempRepo(t: TestContext | undefined, files: Record<string, string> = {}): Promise<string> {
  const dir = await makeTempDir(t, 'ralph-repo-');
  git(dir, 'init', '-q', '-b', 'main');
  await writeFile(path.join(dir, 'README.md'), '# test repo\n');
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}
