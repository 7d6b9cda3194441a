import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createProvider, type ProviderOptions } from './provider.ts';
import { ProviderCache } from './provider-cache.ts';

/** The real factory, counting what it makes and with what. */
function countingFactory() {
  const made: ProviderOptions[] = [];
  return {
    made,
    create: (options: ProviderOptions) => {
      made.push(options);
      return createProvider(options);
    },
  };
}

describe('provider cache', () => {
  it('keeps one provider while the settings connect the same way, whatever else they say', () => {
    const factory = countingFactory();
    const cache = new ProviderCache(factory.create);
    const first = cache.for({ api: 'chat', apiKey: 'sk-1', baseURL: 'http://127.0.0.1:9/v1' });
    // The services pass their whole resolved settings: a changed model or effort keeps the provider.
    const resolved = {
      api: 'chat' as const,
      apiKey: 'sk-1',
      baseURL: 'http://127.0.0.1:9/v1',
      model: 'other-model',
      reasoningEffort: 'high',
    };
    const again = cache.for(resolved);
    assert.equal(again, first);
    assert.deepEqual(factory.made, [{ api: 'chat', apiKey: 'sk-1', baseURL: 'http://127.0.0.1:9/v1' }]);
  });

  it('makes a new provider when the API, the key or the server changes', () => {
    const factory = countingFactory();
    const cache = new ProviderCache(factory.create);
    const base = { api: 'chat' as const, apiKey: 'sk-1', baseURL: 'http://127.0.0.1:9/v1' };
    const providers = [
      cache.for(base),
      cache.for({ ...base, api: 'responses' }),
      cache.for({ ...base, api: 'responses', apiKey: 'sk-2' }),
      cache.for({ ...base, api: 'responses', apiKey: 'sk-2', baseURL: null }),
      cache.for({ ...base, api: 'responses', apiKey: null, baseURL: null }),
    ];
    assert.equal(new Set(providers).size, 5);
    assert.equal(factory.made.length, 5);
    // Back to earlier settings: the cache holds the last provider only, so it is made again.
    assert.notEqual(cache.for(base), providers[0]);
    assert.equal(factory.made.length, 6);
  });
});
