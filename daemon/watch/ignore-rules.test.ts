import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { makeTempRepo } from '../../test/helpers/repo.ts';
import { IgnoreRules } from './ignore-rules.ts';

/** Paths git itself ignores, asked of `git check-ignore` (--no-index: tracked or not, what the rules say). */
function gitIgnoredPaths(repo: string, paths: string[]): Set<string> {
  try {
    const out = execFileSync('git', ['check-ignore', '--no-index', '--stdin'], {
      cwd: repo,
      input: `${paths.join('\n')}\n`,
      encoding: 'utf8',
      // Only this repository's rules: the machine's global excludes file must not change the answer.
      env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', XDG_CONFIG_HOME: repo },
    });
    return new Set(out.split('\n').filter(Boolean));
  } catch (error) {
    // Exit code 1: none of the paths is ignored.
    if ((error as { status?: number }).status === 1) return new Set();
    throw error;
  }
}

test('ignore rules give the same answers as git check-ignore', async (t) => {
  const repo = await makeTempRepo(t);
  const files: Record<string, string> = {
    '.gitignore': 'dist/\n*.log\n!keep.log\n/build\nsecret*\n!packages/app/secret-ok.txt\n',
    'packages/app/.gitignore': '*.tmp\n!important.tmp\ngenerated/\n/local-only\n',
    'packages/app/deep/.gitignore': '!*.log\n',
    '.git/info/exclude': 'scratch/\n',
  };
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(repo, name)), { recursive: true });
    await writeFile(path.join(repo, name), content);
  }
  const samples = [
    'dist/a.js',
    'dist',
    'src/dist/x.js',
    'error.log',
    'keep.log',
    'src/keep.log',
    'build/out.js',
    'src/build/out.js',
    'secret.txt',
    'packages/app/secret-ok.txt',
    'packages/app/a.tmp',
    'packages/app/important.tmp',
    'packages/app/sub/b.tmp',
    'packages/app/generated/x.ts',
    'packages/app/local-only',
    'packages/app/sub/local-only',
    'packages/app/deep/trace.log',
    'packages/other/a.tmp',
    'scratch/notes.md',
    'src/index.ts',
    'README.md',
  ];
  const folders = new Set(['dist', 'src/dist', 'build', 'src/build', 'packages/app/generated', 'scratch']);
  // Make the folders real, so git knows which samples are folders.
  for (const sample of samples) {
    const absPath = path.join(repo, sample);
    if (folders.has(sample)) await mkdir(absPath, { recursive: true });
    else {
      await mkdir(path.dirname(absPath), { recursive: true });
      await writeFile(absPath, 'x');
    }
  }

  const rules = await IgnoreRules.load({ repoRoot: repo, infoExcludeFile: path.join(repo, '.git/info/exclude') });
  const expected = gitIgnoredPaths(repo, samples);
  assert.ok(expected.size >= 8, 'the sample covers ignored paths');
  for (const sample of samples) {
    assert.equal(rules.isIgnored(sample, folders.has(sample)), expected.has(sample), `verdict for ${sample}`);
  }
});

test('.git, node_modules and .ralph are ignored at any depth; a changed .gitignore is re-read', async (t) => {
  const repo = await makeTempRepo(t, { '.gitignore': 'out/\n' });
  const rules = await IgnoreRules.load({ repoRoot: repo });
  assert.equal(rules.isIgnored('node_modules/x/index.js', false), true);
  assert.equal(rules.isIgnored('packages/a/node_modules', true), true);
  assert.equal(rules.isIgnored('.git/HEAD', false), true);
  assert.equal(rules.isIgnored('.ralph/goals/1.json', false), true);
  assert.equal(rules.isIgnored('out/a.js', false), true);
  assert.equal(rules.isIgnored('lib/a.js', false), false);

  await writeFile(path.join(repo, '.gitignore'), 'lib/\n');
  assert.equal(rules.isIgnored('out/a.js', false), true, 'cached until told');
  rules.forgetFolder('');
  assert.equal(rules.isIgnored('out/a.js', false), false);
  assert.equal(rules.isIgnored('lib/a.js', false), true);
});
