/** Error bodies exactly as OpenAI shapes them: `{"error": {message, type, param, code}}`. */

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function errorBody(message: string, type: string, code: string | null = null, param: string | null = null): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}

export const RATE_LIMIT_MESSAGE =
  'Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again shortly. ' +
  'Visit https://platform.openai.com/account/rate-limits to learn more.';

export const SERVER_ERROR_MESSAGE = 'The server had an error while processing your request. Sorry about that!';

export const MISSING_KEY_MESSAGE =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth " +
  '(i.e. Authorization: Bearer YOUR_KEY).';

export function invalidKeyMessage(key: string): string {
  const shown = key.length > 8 ? `${key.slice(0, 3)}*****${key.slice(-4)}` : '*****';
  return `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`;
}
