/**
 * One provider for the settings in force, made again only when they change. The chat and research
 * services read the settings at each turn or run (a reloaded config applies to the next one);
 * unchanged settings keep the provider, and with it its client's open connections.
 */
import type { ProviderFactory, ProviderOptions } from './provider.ts';
import type { Provider } from './types.ts';

/** What a provider is made from: how it connects, not the model (one provider serves any model). */
export type ProviderConnection = Pick<ProviderOptions, 'api' | 'apiKey' | 'baseURL'>;

export class ProviderCache {
  private readonly create: ProviderFactory;
  private current: { key: string; provider: Provider } | undefined;

  constructor(create: ProviderFactory) {
    this.create = create;
  }

  /** The provider for these settings: the last one made while they connect the same way, else a new one. */
  for(settings: ProviderConnection): Provider {
    const { api, apiKey, baseURL } = settings;
    const key = JSON.stringify([api, apiKey, baseURL]);
    if (this.current?.key !== key) this.current = { key, provider: this.create({ api, apiKey, baseURL }) };
    return this.current.provider;
  }
}
