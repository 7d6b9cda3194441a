/**
 * The shape of every tool an agent can call (DESIGN.md, "Agent tools"): one definition per tool,
 * its parameters a zod schema, so the JSON schema offered to the model and the validation of what
 * the model sends back come from the same place.
 */
import { z } from 'zod';
import { firstLine, messageOf } from '../../protocol/index.ts';
import type { JsonSchema, ToolDefinition } from '../llm/types.ts';

export interface ToolContext {
  /** The workspace the tool works in (the repository or a goal's worktree), as a real path. */
  root: string;
  /** Aborted when the agent's turn or iteration is cancelled. */
  signal: AbortSignal;
  /** What the tool is doing right now ("reading daemon/llm/models.ts"), for progress bars. */
  onActivity?: (what: string) => void;
  /**
   * The file tools may read files git ignores (a goal's own build output in its worktree). Default
   * false: `.env` and the like often hold secrets. `.ralph/daemon.json` is refused either way.
   */
  readIgnoredFiles?: boolean;
}

export interface ToolResult {
  /** What the model reads back (each tool caps its own output). */
  output: string;
  /** One line for the UI and the log: "read daemon/llm/models.ts (212 lines)". */
  summary: string;
  /** The call did not do what was asked (bad arguments, refused, failed); the output says why. */
  isError?: boolean;
}

export interface Tool<P extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  parameters: P;
  execute(args: z.output<P>, ctx: ToolContext): Promise<ToolResult>;
}

/** Identity, for inference: `defineTool({ parameters: z.object(…), execute(args) {…} })` types `args`. */
export function defineTool<P extends z.ZodType>(tool: Tool<P>): Tool<P> {
  return tool;
}

/** The tool as offered to the model (daemon/llm/types.ts). */
export function toolDefinition(tool: Tool): ToolDefinition {
  // 'input': the model writes the arguments, so fields with defaults are optional for it.
  const parameters = z.toJSONSchema(tool.parameters, { io: 'input' }) as JsonSchema;
  delete parameters.$schema;
  return { name: tool.name, description: tool.description, parameters };
}

export function errorResult(output: string, summary = output): ToolResult {
  return { output, summary: firstLine(summary), isError: true };
}

/**
 * Runs one call the model made: parses its JSON text, validates it against the tool's schema and
 * executes. Whatever goes wrong (bad JSON, bad arguments, a thrown error, a cancellation) comes
 * back as an `isError` result the model can read and act on, never as an exception.
 */
export async function runTool(tool: Tool, rawArguments: string, ctx: ToolContext): Promise<ToolResult> {
  let json: unknown;
  try {
    // Models sometimes send nothing at all for a tool without arguments.
    json = rawArguments.trim() === '' ? {} : JSON.parse(rawArguments);
  } catch (error) {
    return errorResult(`${tool.name}: the arguments are not valid JSON (${messageOf(error)}): ${clip(rawArguments, 200)}`);
  }
  const parsed = tool.parameters.safeParse(json);
  if (!parsed.success) {
    return errorResult(`${tool.name}: invalid arguments:\n${z.prettifyError(parsed.error)}`, `${tool.name}: invalid arguments`);
  }
  if (ctx.signal.aborted) return errorResult(`${tool.name}: cancelled`);
  try {
    return await tool.execute(parsed.data, ctx);
  } catch (error) {
    if (ctx.signal.aborted) return errorResult(`${tool.name}: cancelled`);
    return errorResult(`${tool.name} failed: ${messageOf(error)}`);
  }
}

/** `text` cut to `max` characters, with an ellipsis when cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The last `max` characters of `text`, with an ellipsis in front when cut (where a command's errors are). */
export function tail(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(text.length - max + 1)}`;
}
