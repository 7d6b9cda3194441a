/**
 * The goal executor's tools (DESIGN.md, "Agent tools"): the file tools, `run_command` under the
 * config's command policy, and `goal_done {summary}`, with which the agent says the goal's
 * acceptance is met. The harness decides: the goal is done only when the check passes too.
 */
import { firstLine } from '../../protocol/index.ts';
import { z } from 'zod';
import type { RalphConfig } from '../config/schema.ts';
import type { ToolCall } from '../llm/types.ts';
import type { EnvironmentRules } from '../secrets/environment.ts';
import {
  CommandPolicy,
  CommandRunner,
  DEFAULT_DENY_RULES,
  defineTool,
  fileTools,
  runCommandTool,
  type Tool,
  type ToolResult,
} from '../tools/index.ts';

export const GOAL_DONE_TOOL = 'goal_done';

type ExecutorConfig = RalphConfig['executor'];

/**
 * The agent's command policy: the harness's own deny rules (it owns git; no sudo) always apply,
 * the config's deny rules are added to them, and the config's allow list (if any) limits the rest.
 */
export function executorPolicy(commands: ExecutorConfig['commands']): CommandPolicy {
  return new CommandPolicy({ deny: [...DEFAULT_DENY_RULES, ...commands.deny], allow: commands.allow });
}

/**
 * One runner per iteration (its `killAll` ends everything the agent started): the config's policy,
 * timeout and output cap; `secrets` (the provider's key) never reach the commands' environment, nor
 * secret-looking variables but those `envRules.passEnv` names.
 */
export function executorRunner(
  commands: ExecutorConfig['commands'],
  secrets: readonly string[],
  envRules?: EnvironmentRules,
): CommandRunner {
  return new CommandRunner({
    policy: executorPolicy(commands),
    timeoutMs: commands.timeoutSeconds * 1000,
    outputLimitBytes: commands.outputLimitBytes,
    sandbox: commands.sandbox,
    secrets,
    ...(envRules ? { envRules } : {}),
  });
}

/** `goal_done {summary}`: records the claim through `onDone`; the agent's turn ends after it. */
export function goalDoneTool(onDone: (summary: string) => void) {
  return defineTool({
    name: GOAL_DONE_TOOL,
    description:
      "Say that the goal's acceptance is met, with a summary of the work. Call it only then: the harness commits your " +
      'changes and runs the check, and the goal is done only if the check passes. Your turn ends with this call.',
    parameters: z.object({
      summary: z.string().trim().min(1).max(4000).describe('What was done, in a few sentences: it is recorded with the goal'),
    }),
    async execute({ summary }): Promise<ToolResult> {
      onDone(summary);
      return {
        output: 'Recorded. The harness will now commit your changes and run the check.',
        summary: `goal_done: ${firstLine(summary)}`,
      };
    },
  });
}

/** Every tool of one iteration: look and change files, run commands, say done. */
export function executorTools(runner: CommandRunner, onDone: (summary: string) => void): Tool[] {
  return [...fileTools(), runCommandTool(runner), goalDoneTool(onDone)];
}

/** Whether the loop should end after this call: a goal_done that was accepted. */
export function isGoalDone(call: ToolCall, result: ToolResult): boolean {
  return call.name === GOAL_DONE_TOOL && result.isError !== true;
}
