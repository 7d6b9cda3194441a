/**
 * The goal executor's tools (DESIGN.md, "Agent tools"): the file tools, `run_command` under the
 * config's command policy, and `goal_done {summary}`, with which the agent says the goal's
 * acceptance is met. The harness decides: the goal is done only when the check passes too.
 * Where the goal can wait for a person, `ask_human {question, options?}` too: the iteration ends
 * after it and the goal waits, `waiting`, until someone answers in the inbox.
 */
import { firstLine, QUESTION_MAX, QUESTION_OPTION_MAX, QUESTION_OPTIONS_MAX } from '../../protocol/index.ts';
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
  type CommandRecordOptions,
  type Tool,
  type ToolResult,
} from '../tools/index.ts';

export const GOAL_DONE_TOOL = 'goal_done';
export const ASK_HUMAN_TOOL = 'ask_human';

/** What the agent asked with ask_human. */
export interface AskedQuestion {
  question: string;
  options?: string[];
}

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
  record?: CommandRecordOptions,
): CommandRunner {
  return new CommandRunner({
    policy: executorPolicy(commands),
    timeoutMs: commands.timeoutSeconds * 1000,
    outputLimitBytes: commands.outputLimitBytes,
    sandbox: commands.sandbox,
    secrets,
    ...(envRules ? { envRules } : {}),
    ...(record ? { record } : {}),
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

/** `ask_human {question, options?}`: records the question through `onAsk`; the agent's turn ends after it. */
export function askHumanTool(onAsk: (asked: AskedQuestion) => void) {
  return defineTool({
    name: ASK_HUMAN_TOOL,
    description:
      'Ask the developer a question only they can answer (a decision, a preference, something missing from the goal), when ' +
      'guessing would risk wrong work. Your turn ends with this call: the harness commits your changes, the goal waits for ' +
      'the answer, and the next iteration reads it. Ask one clear question; offer options when there are a few obvious ones.',
    parameters: z.object({
      question: z.string().trim().min(1).max(QUESTION_MAX).describe('The question, with what the developer needs to know to answer it'),
      options: z
        .array(z.string().trim().min(1).max(QUESTION_OPTION_MAX))
        .max(QUESTION_OPTIONS_MAX)
        .optional()
        .describe('Suggested answers, if there are a few obvious ones'),
    }),
    async execute({ question, options }): Promise<ToolResult> {
      onAsk(options && options.length > 0 ? { question, options } : { question });
      return {
        output: 'Asked. Stop here: the harness commits your changes, and the next iteration starts with the answer.',
        summary: `ask_human: ${firstLine(question)}`,
      };
    },
  });
}

/** Every tool of one iteration: look and change files, run commands, say done; ask a person where `onAsk` is given. */
export function executorTools(runner: CommandRunner, onDone: (summary: string) => void, onAsk?: (asked: AskedQuestion) => void): Tool[] {
  return [...fileTools(), runCommandTool(runner), goalDoneTool(onDone), ...(onAsk ? [askHumanTool(onAsk)] : [])];
}

/** Whether the agent's turn ends after this call: goal_done or ask_human, accepted. */
export function endsTurn(call: ToolCall, result: ToolResult): boolean {
  return (call.name === GOAL_DONE_TOOL || call.name === ASK_HUMAN_TOOL) && result.isError !== true;
}
