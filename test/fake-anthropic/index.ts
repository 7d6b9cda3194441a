/** test/fake-anthropic: a real Anthropic Messages API server for tests. See server.ts for a tour. */
export { DEFAULT_MODELS, FakeAnthropicServer, startFakeAnthropic, startFakeAnthropicForTest, UNSCRIPTED_TEXT } from './server.ts';
export type { FakeAnthropicOptions, RequestRecord } from './server.ts';
export type { AnthropicErrorReply, AnthropicReply, MessagesRequest, ReplyFn, ScriptedReply, ToolUseScript } from './messages.ts';
