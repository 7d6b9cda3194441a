/**
 * Scenarios: a scenario is a function of the request (API, model, conversation so far, tools
 * offered, tool results present, request count) that returns a reply script. The named ones
 * below serve the standalone server and common tests; tests pass their own functions freely.
 */
import type { Reply } from './reply.ts';
import type { OfferedTool, ScenarioRequest } from './request.ts';
import { offersWebSearch } from './request.ts';

export type ScenarioFn = (request: ScenarioRequest) => Reply | Promise<Reply>;

/** Repeats the last user message, exactly. */
const echo: ScenarioFn = (request) => ({ text: request.lastUserText });

/**
 * Calls a tool, then answers with its result. The tool is the first offered one named in the last
 * user message (else the first offered function); its arguments are the JSON object written after
 * its name in the message (`read_file {"path": "README.md"}`), else example values from its schema.
 */
const toolRoundtrip: ScenarioFn = (request) => {
  if (request.pendingToolResults.length > 0) {
    return {
      text: request.pendingToolResults.map((result) => `Tool ${result.name ?? result.callId} returned: ${result.output}`).join('\n'),
    };
  }
  const functions = request.tools.filter((tool): tool is Extract<OfferedTool, { type: 'function' }> => tool.type === 'function');
  if (functions.length === 0) return { text: 'No tools were offered, so there is nothing to call.' };
  const text = request.lastUserText;
  const named = functions
    .map((tool) => ({ tool, at: text.indexOf(tool.name) }))
    .filter(({ at }) => at >= 0)
    .sort((a, b) => a.at - b.at)[0];
  const tool = named?.tool ?? functions[0]!;
  const written = named ? jsonObjectAfter(text, named.at + tool.name.length) : undefined;
  return { toolCalls: [{ name: tool.name, arguments: written ?? exampleArguments(tool.parameters) }] };
};

/** A hosted web search, then an answer citing two sources (plain text when search is not offered). */
const webSearch: ScenarioFn = (request) => {
  const query = request.lastUserText || 'the question';
  if (!offersWebSearch(request)) {
    return { text: `Web search is not available here, so this answer about "${query}" comes without sources.` };
  }
  const sources = [
    { url: 'https://example.com/guide', title: 'Example Guide' },
    { url: 'https://example.org/reference', title: 'Example Reference' },
  ];
  return {
    webSearches: [{ query, sources }],
    text: `I searched the web for "${query}". The Example Guide explains it step by step, and the Example Reference lists every option.`,
    citations: [
      { ...sources[0]!, quote: 'The Example Guide explains it step by step' },
      { ...sources[1]!, quote: 'the Example Reference lists every option' },
    ],
  };
};

/** Many small deltas (a word each, about 400 of them): for streaming UIs and throughput. */
const longStream: ScenarioFn = () => {
  const lines = Array.from({ length: 40 }, (_, index) => `Line ${index + 1} of the long stream: the quick brown fox jumps over the dog.`);
  return { text: lines.join('\n') };
};

/** A reasoning item with a summary, then the answer; reasoning tokens show in usage. */
const reasoning: ScenarioFn = (request) => ({
  reasoning: { summary: `The user asked: "${request.lastUserText}". A short, direct answer fits.` },
  text: `Having thought about it: ${request.lastUserText}`,
  usage: { reasoningTokens: 128 },
});

export const scenarios = {
  echo,
  'tool-roundtrip': toolRoundtrip,
  'web-search': webSearch,
  'long-stream': longStream,
  reasoning,
} satisfies Record<string, ScenarioFn>;

export type ScenarioName = keyof typeof scenarios;

export function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(scenarios, name);
}

/** The JSON object starting at the first `{` after `from`, if the text holds a valid one there. */
function jsonObjectAfter(text: string, from: number): Record<string, unknown> | undefined {
  const start = text.indexOf('{', from);
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) return undefined;
  try {
    const value: unknown = JSON.parse(text.slice(start, end + 1));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Arguments that satisfy a JSON schema's outline: every required property with a plain value. */
export function exampleArguments(parameters: unknown): Record<string, unknown> {
  const value = exampleValue(parameters, 'value');
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function exampleValue(schema: unknown, name: string): unknown {
  if (typeof schema !== 'object' || schema === null) return {};
  const s = schema as { type?: unknown; enum?: unknown; properties?: unknown; required?: unknown };
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'string':
      return `example ${name}`;
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'null':
      return null;
    default: {
      const properties = typeof s.properties === 'object' && s.properties !== null ? (s.properties as Record<string, unknown>) : {};
      const required = Array.isArray(s.required)
        ? s.required.filter((key): key is string => typeof key === 'string')
        : Object.keys(properties);
      return Object.fromEntries(required.map((key) => [key, exampleValue(properties[key], key)]));
    }
  }
}
