/**
 * The chat agent: what the shared chat's model is told and which tools it may call (DESIGN.md,
 * "Agent tools": research, create_goal, list_goals, read_file, list_files, search_files; and
 * ask_human where there is an inbox). The chat
 * service runs it through the one agent loop (daemon/agent/agent-loop.ts); this module only says
 * what the agent is, turn by turn.
 */
import path from 'node:path';
import type { GoalStore } from '../store/goal-store.ts';
import { readOnlyFileTools } from '../tools/file-tools.ts';
import type { Tool } from '../tools/tool.ts';
import type { ChatTurn } from './chat-turn.ts';
import type { InboxService } from '../inbox/inbox-service.ts';
import { askHumanTool } from './ask-tool.ts';
import { createGoalTool, listGoalsTool } from './goal-tools.ts';
import { researchTool, type ResearchRunner } from './research-tool.ts';
import { systemPrompt } from './system-prompt.ts';

export interface ChatAgent {
  /** The system prompt for a turn starting now. */
  instructions(): string;
  /** The tools of one turn. */
  tools(turn: ChatTurn): Tool[];
}

export interface ChatAgentOptions {
  /** The repository's root as a real path: the file tools' workspace. */
  repoRoot: string;
  store: Pick<GoalStore, 'create' | 'list' | 'invalid'>;
  research: ResearchRunner;
  /** Where the chat's questions go (ask_human); absent, it asks only in its replies. */
  inbox?: Pick<InboxService, 'ask'>;
}

/** The chat agent of a daemon: the flow from conversation to goal, over the goal store and the research service. */
export function createChatAgent({ repoRoot, store, research, inbox }: ChatAgentOptions): ChatAgent {
  const repoName = path.basename(repoRoot);
  return {
    instructions: () => systemPrompt({ repoName, goals: store.list() }),
    tools: (turn) => [
      researchTool(research, turn),
      createGoalTool(store, turn),
      listGoalsTool(store),
      ...readOnlyFileTools(),
      ...(inbox ? [askHumanTool(inbox, turn)] : []),
    ],
  };
}

/** An agent with no tools: the chat of a daemon built without the services the tools need (tests of the chat alone). */
export function plainChatAgent(repoRoot: string): ChatAgent {
  const repoName = path.basename(repoRoot);
  return { instructions: () => systemPrompt({ repoName, goals: [] }), tools: () => [] };
}
