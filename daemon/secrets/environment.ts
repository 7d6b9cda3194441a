/**
 * Which variables of the daemon's environment are secrets, and the environment an agent's commands
 * (and the goal check) get without them (DESIGN.md, "Secrets").
 *
 * A name is read as segments split at `_`, `-` and `.`, and looks secret when one segment is, or
 * ends with, a word that names a credential: TOKEN, SECRET, PASSWORD, PASSWD, PASSPHRASE, PASS,
 * CREDENTIAL(S), KEY(S), AUTH, COOKIE; or is exactly PRIVATE, AUTHORIZATION, DSN, SALT or PAT.
 * Segments, not substrings, on purpose: KEYBOARD, KEYMAP, TOKENIZERS_PARALLELISM,
 * GIT_AUTHOR_NAME, PASSTHROUGH and PWD/OLDPWD are ordinary settings a build may need. The price
 * of "ends with" is the odd false positive (a MONKEY_MODE would be hidden); a check that needs a
 * hidden variable names it in the config's `secrets.passEnv`. SSH_AUTH_SOCK and GIT_ASKPASS
 * look secret and are: they hand out the developer's keys and tokens.
 *
 * A value looks secret whatever its name when it is a URL with a password in it
 * (`postgres://user:pw@host/db` in DATABASE_URL), and OPENAI_* (the provider's settings) never
 * reach a command unless passed by name.
 *
 * Not a secret but never passed on, not even by passEnv: the git variables that choose a
 * repository (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, ...; protocol/git-environment.ts). A command
 * works in its goal's worktree; inherited from the daemon, they would make its `git commit` commit
 * into another repository.
 */
import { isRepositorySelectingGitVariable } from '../../protocol/git-environment.ts';

/** A secret the daemon knows: what to call it in a redaction and its value. */
export interface NamedSecret {
  name: string;
  value: string;
}

/** What the config says about the environment (`secrets` in ralph.config.ts). */
export interface EnvironmentRules {
  /** Secret-looking variables commands still get (their values are still redacted). */
  passEnv?: readonly string[];
  /** Variables treated as secrets although their names do not look it. */
  hideEnv?: readonly string[];
}

/** A segment that is, or ends with, one of these words; and segments that must be exactly these. */
const SECRET_SEGMENT =
  /(?:TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|PASS|CREDENTIAL|KEY|AUTH|COOKIE)S?$|^(?:PRIVATE|AUTHORIZATION|DSN|SALT|PAT)$/;

/** `scheme://user:password@…`: a URL that carries its own credentials. */
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i;

/** Whether a variable's name says it holds a secret (see the header for the rule and why). */
export function looksSecretName(name: string): boolean {
  return name
    .toUpperCase()
    .split(/[_.-]+/)
    .some((segment) => segment !== '' && SECRET_SEGMENT.test(segment));
}

/** Whether a value is a secret whatever its variable is called. */
export function looksSecretValue(value: string): boolean {
  return URL_WITH_PASSWORD.test(value.trim());
}

/** Whether the variable is one a command must not get (passEnv aside). */
function isSecretVariable(name: string, value: string, hide: ReadonlySet<string>): boolean {
  return name.startsWith('OPENAI_') || hide.has(name) || looksSecretName(name) || looksSecretValue(value);
}

/**
 * The daemon's secrets in `env`: every variable commands do not get, passed ones included (a
 * variable handed to a check is still redacted from what it prints). OPENAI_* that are plain
 * settings (a base URL, a model) are left out: only their secret-looking names count.
 */
export function secretVariables(env: NodeJS.ProcessEnv, rules: EnvironmentRules = {}): NamedSecret[] {
  const hide = new Set(rules.hideEnv ?? []);
  const secrets: NamedSecret[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    if (hide.has(name) || looksSecretName(name) || looksSecretValue(value)) secrets.push({ name, value });
  }
  return secrets;
}

/**
 * The environment a command gets: `base` without its secret variables (see the header), without
 * any variable holding one of `secrets` (the provider's key, whatever the variable is called),
 * but with the variables `rules.passEnv` names; never with a repository-selecting git variable.
 */
export function commandEnvironment(
  base: NodeJS.ProcessEnv,
  secrets: readonly string[] = [],
  rules: EnvironmentRules = {},
): NodeJS.ProcessEnv {
  const secretValues = new Set(secrets.filter((secret) => secret !== ''));
  const pass = new Set(rules.passEnv ?? []);
  const hide = new Set(rules.hideEnv ?? []);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined || isRepositorySelectingGitVariable(name)) continue;
    if (!pass.has(name) && (isSecretVariable(name, value, hide) || secretValues.has(value))) continue;
    env[name] = value;
  }
  return env;
}
