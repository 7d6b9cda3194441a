/** `ralph models`: the provider settings in force, then the model table. */
import type { ModelInfo, ProviderSettings } from '../../protocol/index.ts';
import type { CommandHandler } from './commands.ts';
import { formatTable, paint, print, printJson } from './output.ts';
import { withDaemon } from './session.ts';

export const listModels: CommandHandler = async (context) => {
  const { models, provider } = await withDaemon(context, (client) => client.request('models.list', {}));
  if (context.json) {
    printJson({ models, provider });
    return;
  }
  for (const line of [...providerLines(provider), '', ...modelTable(models, provider.model)]) print(line);
};

const UNKNOWN = '—';

/** Where calls go and with which model; whether a key is set, never the key. */
export function providerLines(provider: ProviderSettings): string[] {
  const lines = formatTable([
    ['model', provider.model],
    ['API', provider.api === 'responses' ? 'responses (Responses API)' : 'chat (Chat Completions)'],
    ['base URL', provider.baseURL ?? 'OpenAI (default)'],
    ['API key', provider.apiKeySet ? 'set' : 'not set'],
  ]);
  if (!provider.configured) {
    lines.push(
      'No model provider is configured: set OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL for a compatible',
      'server (Ollama: http://localhost:11434/v1) in the environment that starts the daemon.',
    );
  }
  return [paint('bold', 'Provider'), ...lines];
}

/** One row per model; `*` marks the model in use. Unknown figures show as `—`. */
export function modelTable(models: readonly ModelInfo[], current: string): string[] {
  const rows = [
    ['', 'MODEL', 'CONTEXT', 'MAX OUT', '$ IN', '$ CACHED', '$ OUT', 'EFFORTS', 'APIS'],
    ...models.map((model) => [
      model.id === current ? '*' : '',
      model.id,
      formatCount(model.contextWindow),
      formatCount(model.maxOutputTokens),
      formatPrice(model.pricing.input),
      formatPrice(model.pricing.cachedInput),
      formatPrice(model.pricing.output),
      model.reasoningEfforts.length > 0 ? model.reasoningEfforts.join(',') : UNKNOWN,
      model.apis.join(','),
    ]),
  ];
  const [header, ...body] = formatTable(rows);
  return [paint('bold', header ?? ''), ...body, '', 'Prices in USD per 1M tokens. Add or override rows with `models` in ralph.config.ts.'];
}

function formatCount(tokens: number | null): string {
  return tokens === null ? UNKNOWN : tokens.toLocaleString('en');
}

/** At least two decimals, more when the price has them: 2.50, 0.075, 180.00. */
function formatPrice(usd: number | null): string {
  if (usd === null) return UNKNOWN;
  const [whole, fraction = ''] = usd.toFixed(6).replace(/0+$/, '').split('.');
  return `${whole}.${fraction.padEnd(2, '0')}`;
}
