/**
 * The daemon's secrets in one object, handed to everything that writes or sends (DESIGN.md,
 * "Secrets"): the redactor over the provider key, the daemon token and the secret-looking variables
 * of the daemon's environment, and the config's rules about them (`secrets` in ralph.config.ts).
 * The daemon refreshes it when the config changes, so what is redacted is always what is in force.
 */
import { secretVariables, type EnvironmentRules, type NamedSecret } from './environment.ts';
import { Redactor, type Redact } from './redactor.ts';

export interface SecretsConfig {
  passEnv: readonly string[];
  hideEnv: readonly string[];
  readIgnoredFiles: boolean;
}

export interface SecretSources {
  /** The environments the daemon and its commands start from (the daemon's own, and the one its config reads). */
  envs: readonly NodeJS.ProcessEnv[];
  /** The daemon token (daemon.json). */
  token?: string;
  /** The provider's API key(s) in force. */
  providerKeys?: readonly (string | null | undefined)[];
  config?: SecretsConfig;
}

export class DaemonSecrets {
  readonly redactor = new Redactor();
  private config: SecretsConfig = { passEnv: [], hideEnv: [], readIgnoredFiles: false };

  /** No secrets at all: for services used on their own (tests). */
  static none(): DaemonSecrets {
    return new DaemonSecrets();
  }

  static from(sources: SecretSources): DaemonSecrets {
    const secrets = new DaemonSecrets();
    secrets.update(sources);
    return secrets;
  }

  /** Takes the current key, token, environment and config rules (call again after a config reload). */
  update(sources: SecretSources): void {
    if (sources.config) this.config = sources.config;
    const rules = this.envRules();
    const fromEnv = new Map<string, NamedSecret>();
    for (const env of sources.envs)
      for (const secret of secretVariables(env, rules)) fromEnv.set(`${secret.name}\0${secret.value}`, secret);
    this.redactor.set('env', [...fromEnv.values()]);
    if (sources.token !== undefined) this.redactor.set('token', [{ name: 'daemon token', value: sources.token }]);
    const keys = (sources.providerKeys ?? []).filter((key): key is string => typeof key === 'string' && key !== '');
    this.redactor.set(
      'provider',
      keys.map((value) => ({ name: 'provider key', value })),
    );
  }

  readonly redact: Redact = (text) => this.redactor.redact(text);
  readonly redactValue = <T>(value: T): T => this.redactor.redactValue(value);

  /** See Redactor.stream: for a reply that streams. */
  redactStream(): { push(piece: string): string; end(): string } {
    return this.redactor.stream();
  }

  /** Values no command may get, whatever the variable holding them is called. */
  values(): string[] {
    return this.redactor.values();
  }

  envRules(): EnvironmentRules {
    return { passEnv: this.config.passEnv, hideEnv: this.config.hideEnv };
  }

  /** Whether the chat's and research agents' file tools may read files git ignores. */
  readIgnoredFiles(): boolean {
    return this.config.readIgnoredFiles;
  }
}
