/** test/fake-openai: a real OpenAI-compatible HTTP server for tests. See server.ts for a tour. */
export { DEFAULT_MODELS, FakeOpenAIServer, startFakeOpenAI } from './server.ts';
export type { FakeOpenAIOptions, RequestRecord } from './server.ts';
export type { Fault, FaultKind, FaultOptions } from './faults.ts';
export type { CitationScript, Reply, ToolCallScript, Usage, WebSearchScript } from './reply.ts';
export { splitIntoDeltas } from './reply.ts';
export type { ApiKind, ConversationItem, OfferedTool, ScenarioRequest } from './request.ts';
export { offersWebSearch } from './request.ts';
export type { ScenarioFn, ScenarioName } from './scenarios.ts';
export { exampleArguments, scenarios } from './scenarios.ts';
export { sdkClient, startFakeOpenAIForTest } from './fixtures.ts';
