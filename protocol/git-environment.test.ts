import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { commandEnvironment } from '../daemon/secrets/environment.ts';
import { gitEnvironment, isRepositorySelectingGitVariable, REPOSITORY_SELECTING_GIT_VARIABLES } from './git-environment.ts';

test("every variable this machine's git calls repository-local is dropped (git rev-parse --local-env-vars)", () => {
  const local = execFileSync('git', ['rev-parse', '--local-env-vars'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  assert.ok(local.includes('GIT_DIR'), `git lists its variables: ${local.join(' ')}`);
  const missed = local.filter((name) => !isRepositorySelectingGitVariable(name));
  assert.deepEqual(missed, [], 'a newer git names a variable the list lacks');
});

test('gitEnvironment drops what selects a repository and keeps the machine-wide settings', () => {
  const selecting = Object.fromEntries(REPOSITORY_SELECTING_GIT_VARIABLES.map((name) => [name, '/elsewhere']));
  const kept = {
    PATH: '/usr/bin',
    HOME: '/home/dev',
    GIT_AUTHOR_NAME: 'Dev',
    GIT_CEILING_DIRECTORIES: '/home',
    GIT_CONFIG_GLOBAL: '/home/dev/.gitconfig-work',
    GIT_SSH_COMMAND: 'ssh -i key',
  };
  const env = gitEnvironment({ ...selecting, ...kept, GIT_CONFIG_KEY_0: 'core.worktree', GIT_CONFIG_VALUE_0: '/elsewhere' });
  assert.deepEqual(env, kept);
});

test('commands and checks never get a repository-selecting variable, not even when passEnv names it', () => {
  const base = { PATH: '/usr/bin', GIT_DIR: '/elsewhere/.git', GIT_WORK_TREE: '/elsewhere', GIT_INDEX_FILE: '/elsewhere/.git/index' };
  const env = commandEnvironment(base, [], { passEnv: ['GIT_DIR'] });
  assert.deepEqual(env, { PATH: '/usr/bin' });
});
