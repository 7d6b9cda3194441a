/**
 * Settings from the environment of the command that started the daemon (DESIGN.md, "Model
 * provider"), and how they combine with the config file into the provider settings in force.
 * A bad value is reported as a message, never a crash.
 */
import type { ProviderSettings } from '../../protocol/index.ts';
import type { ModelApi, ReasoningEffort } from '../llm/types.ts';
import { MODEL_APIS, type RalphConfig } from './schema.ts';

export interface EnvOverrides {
  apiKey: string | null;
  baseURL: string | null;
  model: string | null;
  api: ModelApi | null;
  verify: string | null;
  /** Values that were set but unusable (and what was done instead). */
  problems: string[];
}

/** What a model call needs: the settings in force with the environment applied (the key included). */
export interface ResolvedProvider {
  model: string;
  api: ModelApi;
  baseURL: string | null;
  apiKey: string | null;
  reasoningEffort?: ReasoningEffort;
  /** A key or a base URL is set (a local server such as Ollama needs no key). */
  configured: boolean;
}

/** Who the settings are for: the chat may name its own model and effort in `chat: {...}`. */
export type ProviderPurpose = 'default' | 'chat';

/** An unset or blank variable counts as not set. */
function read(env: NodeJS.ProcessEnv, name: string): string | null {
  const value = env[name]?.trim();
  return value ? value : null;
}

export function readEnvOverrides(env: NodeJS.ProcessEnv): EnvOverrides {
  const problems: string[] = [];
  const baseURL = read(env, 'OPENAI_BASE_URL');
  if (baseURL !== null && !isHttpUrl(baseURL)) {
    // Kept as given: calls then fail with a clear connection error, and a key meant for that
    // server is never sent to OpenAI instead.
    problems.push(`OPENAI_BASE_URL: expected an http:// or https:// URL, got ${JSON.stringify(baseURL)}`);
  }
  const apiText = read(env, 'RALPH_API');
  let api: ModelApi | null = null;
  if (apiText !== null) {
    const known = MODEL_APIS.find((name) => name === apiText.toLowerCase());
    if (known) api = known;
    else problems.push(`RALPH_API: expected "responses" or "chat", got ${JSON.stringify(apiText)} (ignored)`);
  }
  return {
    apiKey: read(env, 'OPENAI_API_KEY'),
    baseURL,
    model: read(env, 'RALPH_MODEL'),
    api,
    verify: read(env, 'RALPH_VERIFY'),
    problems,
  };
}

/** The file's config with the environment's overrides of its settings (model, executor.verify). */
export function applyEnvOverrides(config: RalphConfig, env: EnvOverrides): RalphConfig {
  return {
    ...config,
    model: env.model ?? config.model,
    executor: { ...config.executor, verify: env.verify ?? config.executor.verify },
  };
}

/** The Responses API where OpenAI serves it; Chat Completions, which every compatible server speaks, elsewhere. */
export function defaultApi(baseURL: string | null): ModelApi {
  if (baseURL === null) return 'responses';
  try {
    return new URL(baseURL).hostname === 'api.openai.com' ? 'responses' : 'chat';
  } catch {
    return 'chat';
  }
}

/** `config` is the file's config with applyEnvOverrides already applied. */
export function resolveProvider(config: RalphConfig, env: EnvOverrides, purpose: ProviderPurpose = 'default'): ResolvedProvider {
  const baseURL = env.baseURL ?? config.baseURL ?? null;
  const apiKey = env.apiKey;
  // RALPH_MODEL is the person's override for this daemon: it wins over the chat's own model too.
  const model = purpose === 'chat' ? (env.model ?? config.chat.model ?? config.model) : config.model;
  const reasoningEffort = purpose === 'chat' ? (config.chat.reasoningEffort ?? config.reasoningEffort) : config.reasoningEffort;
  const resolved: ResolvedProvider = {
    model,
    api: env.api ?? config.api ?? defaultApi(baseURL),
    baseURL,
    apiKey,
    configured: apiKey !== null || baseURL !== null,
  };
  if (reasoningEffort !== undefined) resolved.reasoningEffort = reasoningEffort;
  return resolved;
}

/** What clients may see: everything but the key itself. */
export function publicSettings(provider: ResolvedProvider): ProviderSettings {
  return {
    model: provider.model,
    api: provider.api,
    baseURL: provider.baseURL,
    apiKeySet: provider.apiKey !== null,
    configured: provider.configured,
  };
}

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
