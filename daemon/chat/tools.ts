/**
 * The tools the chat agent may call. Empty for now: the agent's tools (research, create_goal,
 * list_goals, read_file, …; DESIGN.md "Agent tools") arrive with issue 4 as rows of this registry,
 * and the turn runner already executes whatever the model calls.
 */
import type { ToolCall, ToolDefinition } from '../llm/types.ts';

export interface ToolContext {
  /** Aborted when the turn is interrupted. */
  signal: AbortSignal;
}

export interface ChatTool {
  definition: ToolDefinition;
  /** Runs the tool on the model's arguments (JSON text, to validate) and returns what the model reads back. */
  run(argumentsJson: string, context: ToolContext): Promise<string>;
}

export interface ToolOutcome {
  ok: boolean;
  /** What the model reads back: the result, or the error in one line. */
  output: string;
}

export class ToolRegistry {
  private readonly tools = new Map<string, ChatTool>();

  constructor(tools: readonly ChatTool[] = []) {
    for (const tool of tools) {
      if (this.tools.has(tool.definition.name)) throw new Error(`two chat tools are named ${tool.definition.name}`);
      this.tools.set(tool.definition.name, tool);
    }
  }

  /** What is offered to the model; none means the request offers no tools at all. */
  definitions(): ToolDefinition[] {
    return [...this.tools.values()].map((tool) => tool.definition);
  }

  /** Runs a call. A failure is an outcome the model reads (it may try again), never a thrown error. */
  async execute(call: ToolCall, context: ToolContext): Promise<ToolOutcome> {
    const tool = this.tools.get(call.name);
    if (!tool) return { ok: false, output: `error: there is no tool named ${call.name}` };
    try {
      return { ok: true, output: await tool.run(call.arguments, context) };
    } catch (error) {
      if (context.signal.aborted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, output: `error: ${message.split('\n')[0]}` };
    }
  }
}
