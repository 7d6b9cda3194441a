/**
 * `.ralph/.gitignore` kept up to date: one an older Ralph wrote gets the rules it lacks (the
 * landing queue's state), in a real git repository that then ignores them, with the developer's
 * own lines kept; one the developer wrote is never changed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { RALPH_GITIGNORE } from '../paths.ts';
import { GoalStore } from './goal-store.ts';
import { EventBus } from '../events/bus.ts';
import { makeTempRepo } from '../../test/helpers/repo.ts';

/** `.ralph/.gitignore` as a Ralph before the landing queue wrote it, with a line of the developer's added. */
const OLDER = `${RALPH_GITIGNORE.split('\n')
  .filter((line) => !line.startsWith('landing.json') && !line.includes('landing queue'))
  .join('\n')}mine.txt\n`;

async function openOn(t: import('node:test').TestContext, gitignore: string): Promise<{ repo: string; file: string }> {
  const repo = await makeTempRepo(undefined, { 'README.md': 'hi\n' });
  t.after(() => rm(repo, { recursive: true, force: true }));
  const file = path.join(repo, '.ralph', '.gitignore');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, gitignore);
  const store = await GoalStore.open({ repoRoot: repo, bus: new EventBus(), watch: false });
  await store.close();
  return { repo, file };
}

function ignored(repo: string, file: string): boolean {
  try {
    execFileSync('git', ['check-ignore', '-q', file], { cwd: repo });
    return true;
  } catch {
    return false;
  }
}

test("an older Ralph's .ralph/.gitignore gets the rules it lacks, and git ignores the landing queue's file", async (t) => {
  assert.ok(!OLDER.includes('landing.json'));
  const { repo, file } = await openOn(t, OLDER);
  const text = await readFile(file, 'utf8');
  assert.equal(text, `${OLDER}# Added by a newer Ralph:\nlanding.json\nlanding.json.invalid\n`);
  assert.ok(ignored(repo, '.ralph/landing.json'));
  assert.ok(ignored(repo, '.ralph/mine.txt'), "the developer's line stays");

  // Up to date now: opened again, nothing changes.
  const store = await GoalStore.open({ repoRoot: repo, bus: new EventBus(), watch: false });
  await store.close();
  assert.equal(await readFile(file, 'utf8'), text);
});

test('a .ralph/.gitignore the developer wrote is left as it is', async (t) => {
  const own = '# mine\nlogs/\n';
  const { file } = await openOn(t, own);
  assert.equal(await readFile(file, 'utf8'), own);
});
