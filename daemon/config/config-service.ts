/**
 * The repository's configuration as the daemon uses it: `ralph.config.ts` validated (defaults
 * applied), the environment's overrides on top, reloaded when the file changes.
 *
 * A file that fails to load or validate never stops the daemon: the last valid config stays in
 * force (the defaults, at start) and `error` says what is wrong until the file is fixed.
 */
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { messageOf, type ProviderSettings } from '../../protocol/index.ts';
import { ModelTable } from '../llm/models.ts';
import {
  applyEnvOverrides,
  publicSettings,
  readEnvOverrides,
  resolveProvider,
  type EnvOverrides,
  type ProviderPurpose,
  type ResolvedProvider,
} from './env.ts';
import { CONFIG_FILE_NAMES, loadConfig } from './load.ts';
import { defaultConfig, type RalphConfig } from './schema.ts';

export type { RalphConfig } from './schema.ts';
export type { ProviderPurpose, ResolvedProvider } from './env.ts';

export interface ConfigServiceOptions {
  /** The repository root, where `ralph.config.ts` lives. */
  repoRoot: string;
  /** Default: process.env, as the daemon was started. */
  env?: NodeJS.ProcessEnv;
  /** Reload when the config file changes (default true). */
  watch?: boolean;
  /** After each successful reload, with the config now in force. Not called by start(): read `config`. */
  onChange?: (config: RalphConfig) => void;
  /** When a reload fails (the file does not load or validate). Not called by start(): read `error`. */
  onError?: (message: string) => void;
}

/** Editors write a file in several steps (truncate, write, rename): one reload for the lot. */
const RELOAD_DEBOUNCE_MS = 100;

const CONFIG_NAMES: ReadonlySet<string> = new Set(CONFIG_FILE_NAMES);

export class ConfigService {
  private readonly repoRoot: string;
  private readonly env: EnvOverrides;
  private readonly onChange: (config: RalphConfig) => void;
  private readonly onError: (message: string) => void;
  private current: RalphConfig;
  private table: ModelTable;
  private fileError: string | null = null;
  private loadedFile: string | null = null;
  private watcher: FSWatcher | null = null;
  private reloadTimer: NodeJS.Timeout | undefined;
  /** Reloads run one at a time, in order. */
  private reloading: Promise<void> = Promise.resolve();
  private closed = false;
  /** Listeners hear about reloads, not the first load: the caller has no service to ask yet while start() runs. */
  private started = false;

  private constructor(options: ConfigServiceOptions) {
    this.repoRoot = options.repoRoot;
    this.env = readEnvOverrides(options.env ?? process.env);
    this.onChange = options.onChange ?? (() => {});
    this.onError = options.onError ?? (() => {});
    this.current = applyEnvOverrides(defaultConfig(), this.env);
    this.table = new ModelTable(this.current.models);
  }

  /**
   * Loads the config and starts watching it. Never fails on a bad file or environment: the
   * defaults are then in force and `error` says what is wrong.
   */
  static async start(options: ConfigServiceOptions): Promise<ConfigService> {
    const service = new ConfigService(options);
    if (options.watch ?? true) await service.startWatching();
    await service.reload();
    service.started = true;
    return service;
  }

  /** The config in force: the last valid file (or the defaults) with the environment's overrides. */
  get config(): RalphConfig {
    return this.current;
  }

  /**
   * What is wrong, in one line, or null: the config file's error (the config in force is then the
   * last valid one) and environment values that could not be used.
   */
  get error(): string | null {
    const problems = [...(this.fileError === null ? [] : [this.fileError]), ...this.env.problems];
    return problems.length === 0 ? null : problems.join('; ');
  }

  /** The config file in use, or null when the repository has none. */
  get file(): string | null {
    return this.loadedFile;
  }

  /** The provider settings for a model call, key included (never send these to a client: see providerSettings). */
  provider(purpose: ProviderPurpose = 'default'): ResolvedProvider {
    return resolveProvider(this.current, this.env, purpose);
  }

  /** The provider settings clients may see: no key, only whether one is set. */
  providerSettings(purpose: ProviderPurpose = 'default'): ProviderSettings {
    return publicSettings(this.provider(purpose));
  }

  /** The model table: the built-in rows and the config's. */
  models(): ModelTable {
    return this.table;
  }

  /** Loads the file again now (the watcher does this on every change); resolves when done. */
  reload(): Promise<void> {
    const run = this.reloading.then(() => this.loadOnce());
    this.reloading = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reloadTimer);
    await this.watcher?.close();
    this.watcher = null;
    await this.reloading;
  }

  private async loadOnce(): Promise<void> {
    if (this.closed) return;
    const result = await loadConfig(this.repoRoot);
    if (this.closed) return;
    if (!result.ok) {
      this.fileError = result.error;
      if (this.started) this.notifyError(result.error);
      return;
    }
    this.fileError = null;
    this.loadedFile = result.file;
    this.current = applyEnvOverrides(result.config, this.env);
    this.table = new ModelTable(this.current.models);
    if (!this.started) return;
    try {
      this.onChange(this.current);
    } catch (error) {
      // A throwing listener must not stop later reloads; it is reported like any other problem.
      this.notifyError(`configuration listener failed: ${messageOf(error)}`);
    }
  }

  private notifyError(message: string): void {
    try {
      this.onError(message);
    } catch {
      // The error listener itself failed: there is no one left to tell.
    }
  }

  /** Watches the repository root, depth 0, for the config file names only: a file created later is seen too. */
  private async startWatching(): Promise<void> {
    const root = this.repoRoot;
    const watcher = watch(root, {
      ignoreInitial: true,
      depth: 0,
      ignored: (file) => file !== root && !CONFIG_NAMES.has(path.basename(file)),
    });
    this.watcher = watcher;
    watcher.on('all', (event) => {
      if (event === 'add' || event === 'change' || event === 'unlink') this.scheduleReload();
    });
    watcher.on('error', (error) => this.notifyError(`watching the config file failed: ${messageOf(error)}`));
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  private scheduleReload(): void {
    if (this.closed) return;
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.reload(), RELOAD_DEBOUNCE_MS);
  }
}
