/**
 * Which repository a git command works on, whatever environment the process inherited.
 *
 * The client finds a repository by asking git for the work tree holding a folder, then the daemon
 * asks git again, and runs git in that work tree and in the goals' worktrees. They agree only if
 * git's answer depends on the folder alone. But git also reads variables that name a repository
 * outright (`GIT_DIR`, `GIT_WORK_TREE`, `GIT_INDEX_FILE`, ...): git sets them for its hooks and
 * aliases, so a `ralph` started from one of those (or from a shell where a developer exported
 * `GIT_DIR`) would serve, change and commit into another repository. Both sides must drop the same
 * variables, so the rule lives here, in the contract both sides import (the client may not import
 * the daemon's code); the daemon's git module and the environment of the agent's commands use it.
 *
 * The list is git's own (`git rev-parse --local-env-vars`: what git itself clears before it runs a
 * command in another repository, a submodule), plus GIT_NAMESPACE (a command would see and write
 * another namespace's refs) and the GIT_CONFIG_KEY_<n>/GIT_CONFIG_VALUE_<n> pairs that
 * GIT_CONFIG_COUNT counts (`git -c core.worktree=...` reaches a child through them, or through
 * GIT_CONFIG_PARAMETERS). Kept on purpose: the developer's machine-wide settings that choose no
 * repository: GIT_CEILING_DIRECTORIES and GIT_DISCOVERY_ACROSS_FILESYSTEM (how far up git looks,
 * never sideways into another repository), GIT_CONFIG_GLOBAL/GIT_CONFIG_SYSTEM/GIT_CONFIG_NOSYSTEM
 * (which user and system config), the commit identity (GIT_AUTHOR_*, GIT_COMMITTER_*) and how git
 * reaches remotes (GIT_SSH_COMMAND, proxies).
 */

/** Variables that make git work on a repository other than the one holding its working folder. */
export const REPOSITORY_SELECTING_GIT_VARIABLES: readonly string[] = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_IMPLICIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_PREFIX',
  'GIT_INTERNAL_SUPER_PREFIX',
  'GIT_GRAFT_FILE',
  'GIT_SHALLOW_FILE',
  'GIT_NO_REPLACE_OBJECTS',
  'GIT_REPLACE_REF_BASE',
  'GIT_NAMESPACE',
  'GIT_CONFIG',
  'GIT_CONFIG_PARAMETERS',
  'GIT_CONFIG_COUNT',
];

const SELECTING: ReadonlySet<string> = new Set(REPOSITORY_SELECTING_GIT_VARIABLES);

/** `git -c` entries passed on to child processes, counted by GIT_CONFIG_COUNT. */
const COUNTED_CONFIG_ENTRY = /^GIT_CONFIG_(?:KEY|VALUE)_\d+$/;

/** Whether the variable would point git at another repository (or carry config that can). */
export function isRepositorySelectingGitVariable(name: string): boolean {
  return SELECTING.has(name) || COUNTED_CONFIG_ENTRY.test(name);
}

/** `env` without the repository-selecting variables: git then works on the repository its folder is in. */
export function gitEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const scrubbed: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !isRepositorySelectingGitVariable(name)) scrubbed[name] = value;
  }
  return scrubbed;
}
