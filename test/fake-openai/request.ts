/**
 * What a scenario sees of a request: both APIs' bodies reduced to one conversation model, so a
 * scenario answers a Responses call and a Chat Completions call the same way.
 */
import { z } from 'zod';

export type ApiKind = 'responses' | 'chat';

/** One entry of the conversation so far, in order. */
export type ConversationItem =
  | { kind: 'message'; role: 'system' | 'developer' | 'user' | 'assistant'; text: string }
  /** `arguments`: a function call's JSON arguments, or a custom tool call's raw input. */
  | { kind: 'tool-call'; callId: string; name: string; arguments: string }
  | { kind: 'tool-result'; callId: string; name: string | undefined; output: string };

/**
 * A tool the client offered: a function (with its JSON schema), a freeform `custom` tool (with its
 * input format, such as Codex's `apply_patch` grammar), or a hosted tool such as `web_search`.
 */
export type OfferedTool =
  | { type: 'function'; name: string; parameters: unknown }
  | { type: 'custom'; name: string; format: unknown }
  | { type: 'hosted'; name: string };

export interface ScenarioRequest {
  api: ApiKind;
  model: string;
  stream: boolean;
  /** Chat only: `stream_options.include_usage`. */
  includeUsage: boolean;
  conversation: ConversationItem[];
  tools: OfferedTool[];
  /** Function names and hosted tool types (`web_search`), as offered. */
  toolNames: string[];
  /** Text of the last user message ('' if there is none). */
  lastUserText: string;
  /** Tool results that arrived after the last user message: the model is being asked to use them. */
  pendingToolResults: Extract<ConversationItem, { kind: 'tool-result' }>[];
  /** 0-based position of this request among the model requests this server received. */
  requestIndex: number;
  /** The request body as sent, for anything the fields above do not cover. */
  body: Record<string, unknown>;
}

export class BadRequestError extends Error {
  readonly param: string | null;
  constructor(message: string, param: string | null = null) {
    super(message);
    this.param = param;
  }
}

// Only what the server relies on is checked; everything else passes through untouched.
const ResponsesBody = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.unknown())]).optional(),
  instructions: z.string().nullish(),
  tools: z.array(z.unknown()).optional(),
  stream: z.boolean().nullish(),
  previous_response_id: z.string().nullish(),
});

const ChatBody = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.unknown()).min(1),
  tools: z.array(z.unknown()).optional(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
});

/** Conversation items a previous response produced, by response id (for `previous_response_id`). */
export type ConversationHistory = Map<string, ConversationItem[]>;

export function parseRequest(api: ApiKind, body: unknown, requestIndex: number, history: ConversationHistory): ScenarioRequest {
  if (api === 'responses') {
    const parsed = validate(ResponsesBody, body);
    const conversation: ConversationItem[] = [];
    if (parsed.previous_response_id) {
      const previous = history.get(parsed.previous_response_id);
      if (!previous) {
        throw new BadRequestError(`Previous response with id '${parsed.previous_response_id}' not found.`, 'previous_response_id');
      }
      conversation.push(...previous);
    }
    if (parsed.instructions) conversation.push({ kind: 'message', role: 'developer', text: parsed.instructions });
    if (typeof parsed.input === 'string') conversation.push({ kind: 'message', role: 'user', text: parsed.input });
    else for (const item of parsed.input ?? []) conversation.push(...responsesInputItem(item));
    const tools = (parsed.tools ?? []).map(responsesTool);
    return finish(api, parsed, conversation, tools, false, requestIndex);
  }
  const parsed = validate(ChatBody, body);
  const conversation = parsed.messages.flatMap(chatMessage);
  const tools = (parsed.tools ?? []).map(chatTool);
  return finish(api, parsed, conversation, tools, parsed.stream_options?.include_usage === true, requestIndex);
}

function finish(
  api: ApiKind,
  body: { model: string; stream?: boolean | null | undefined } & Record<string, unknown>,
  conversation: ConversationItem[],
  tools: OfferedTool[],
  includeUsage: boolean,
  requestIndex: number,
): ScenarioRequest {
  nameToolResults(conversation);
  const lastUserIndex = conversation.findLastIndex((item) => item.kind === 'message' && item.role === 'user');
  const lastUser = conversation[lastUserIndex];
  return {
    api,
    model: body.model,
    stream: body.stream === true,
    includeUsage,
    conversation,
    tools,
    toolNames: tools.map((tool) => tool.name),
    lastUserText: lastUser?.kind === 'message' ? lastUser.text : '',
    pendingToolResults: conversation
      .slice(lastUserIndex + 1)
      .filter((item): item is Extract<ConversationItem, { kind: 'tool-result' }> => item.kind === 'tool-result'),
    requestIndex,
    body,
  };
}

function validate<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue && issue.path.length > 0 ? issue.path.join('.') : null;
  throw new BadRequestError(`Invalid request body${param ? ` at '${param}'` : ''}: ${issue?.message ?? 'malformed'}`, param);
}

/** A tool result names its tool only through the call it answers. */
function nameToolResults(conversation: ConversationItem[]): void {
  const callNames = new Map<string, string>();
  for (const item of conversation) {
    if (item.kind === 'tool-call') callNames.set(item.callId, item.name);
    else if (item.kind === 'tool-result' && item.name === undefined) item.name = callNames.get(item.callId);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Text of a content field: a string, or the `text` of each part (input_text, output_text, text). */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('');
}

function messageRole(role: unknown): Extract<ConversationItem, { kind: 'message' }>['role'] | undefined {
  return role === 'system' || role === 'developer' || role === 'user' || role === 'assistant' ? role : undefined;
}

function responsesInputItem(item: unknown): ConversationItem[] {
  if (!isRecord(item)) throw new BadRequestError('Invalid input item: expected an object.', 'input');
  const role = messageRole(item.role);
  if (role && (item.type === undefined || item.type === 'message')) {
    return [{ kind: 'message', role, text: contentText(item.content) }];
  }
  if (item.type === 'function_call') {
    return [{ kind: 'tool-call', callId: asString(item.call_id), name: asString(item.name), arguments: asString(item.arguments) }];
  }
  if (item.type === 'function_call_output' || item.type === 'custom_tool_call_output') {
    const output = typeof item.output === 'string' ? item.output : contentText(item.output);
    return [{ kind: 'tool-result', callId: asString(item.call_id), name: undefined, output }];
  }
  if (item.type === 'custom_tool_call') {
    return [{ kind: 'tool-call', callId: asString(item.call_id), name: asString(item.name), arguments: asString(item.input) }];
  }
  // Reasoning items, hosted tool calls and the like carry nothing a scenario needs.
  return [];
}

function chatMessage(message: unknown): ConversationItem[] {
  if (!isRecord(message)) throw new BadRequestError('Invalid message: expected an object.', 'messages');
  if (message.role === 'tool') {
    return [{ kind: 'tool-result', callId: asString(message.tool_call_id), name: undefined, output: contentText(message.content) }];
  }
  const role = messageRole(message.role);
  if (!role) throw new BadRequestError(`Invalid message role: ${JSON.stringify(message.role)}.`, 'messages');
  const items: ConversationItem[] = [];
  const text = contentText(message.content);
  if (text || !Array.isArray(message.tool_calls)) items.push({ kind: 'message', role, text });
  for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
    if (!isRecord(call)) continue;
    const fn = isRecord(call.function) ? call.function : {};
    items.push({ kind: 'tool-call', callId: asString(call.id), name: asString(fn.name), arguments: asString(fn.arguments) });
  }
  return items;
}

function responsesTool(tool: unknown): OfferedTool {
  if (!isRecord(tool) || typeof tool.type !== 'string') throw new BadRequestError('Invalid tool: expected an object with a type.', 'tools');
  if (tool.type === 'function') {
    if (typeof tool.name !== 'string' || !tool.name) throw new BadRequestError('Invalid function tool: missing name.', 'tools');
    return { type: 'function', name: tool.name, parameters: tool.parameters };
  }
  if (tool.type === 'custom') {
    if (typeof tool.name !== 'string' || !tool.name) throw new BadRequestError('Invalid custom tool: missing name.', 'tools');
    return { type: 'custom', name: tool.name, format: tool.format };
  }
  // `web_search`, `web_search_preview`, `web_search_2025_08_26`… are all the hosted web search.
  return { type: 'hosted', name: tool.type.startsWith('web_search') ? 'web_search' : tool.type };
}

function chatTool(tool: unknown): OfferedTool {
  if (!isRecord(tool)) throw new BadRequestError('Invalid tool: expected an object.', 'tools');
  const fn = isRecord(tool.function) ? tool.function : undefined;
  if (tool.type !== 'function' || !fn || typeof fn.name !== 'string' || !fn.name) {
    throw new BadRequestError('Invalid tool: expected {type: "function", function: {name, parameters}}.', 'tools');
  }
  return { type: 'function', name: fn.name, parameters: fn.parameters };
}

/** Does the request offer the Responses API's hosted web search? */
export function offersWebSearch(request: ScenarioRequest): boolean {
  return request.tools.some((tool) => tool.type === 'hosted' && tool.name === 'web_search');
}
