/**
 * The goal's check (`executor.verify`): the developer's own command, run in a goal's worktree after
 * each iteration (iteration.ts) and once more before landing (land-service.ts). One function for
 * both, so the check runs the same way whoever asks: same limits, same environment rules, no secrets.
 */
import { formatSeconds, type CheckResult } from '../../protocol/index.ts';
import type { EnvironmentRules } from '../secrets/environment.ts';
import { CommandPolicy, CommandRunner, type CommandRecordOptions } from '../tools/index.ts';
import type { SandboxMode } from '../tools/sandbox.ts';
import { tail } from '../tools/tool.ts';

/** The check's output kept on the goal (goal files are committed: they stay small) and shown to the next iteration. */
export const CHECK_OUTPUT_CHARS = 3000;

/** The check's result, with its whole (capped) output for the log. */
export type CheckRun = CheckResult & { fullOutput: string };

/** The check is the developer's own command: no rule applies to it, and shell syntax the policy's parser does not know is not a reason to refuse it. */
const DEVELOPERS_COMMAND = CommandPolicy.allowAll("the goal's check (executor.verify)");

/**
 * Runs the goal's check in the worktree: the developer's own command, so the agent's command policy
 * does not apply; it runs in its own process group (in the agent's sandbox where that is on) with a
 * timeout, without the provider's key.
 */
export async function runCheck(
  command: string,
  cwd: string,
  options: {
    timeoutMs: number;
    outputLimitBytes: number;
    /** The agent's sandbox (executor.commands.sandbox): the check runs in the same place. Default `auto`. */
    sandbox?: SandboxMode;
    secrets: readonly string[];
    envRules?: EnvironmentRules;
    signal?: AbortSignal;
    /** The check starts once this resolves, its sandbox and shell started at once (CommandRunner's startWhen). */
    startWhen?: Promise<unknown>;
    /** Where it is recorded while it runs outside the sandbox, for the next daemon to kill if this one is killed. */
    record?: CommandRecordOptions;
  },
): Promise<CheckRun> {
  const runner = new CommandRunner({
    policy: DEVELOPERS_COMMAND,
    timeoutMs: options.timeoutMs,
    outputLimitBytes: options.outputLimitBytes,
    ...(options.sandbox ? { sandbox: options.sandbox } : {}),
    secrets: options.secrets,
    ...(options.envRules ? { envRules: options.envRules } : {}),
    ...(options.record ? { record: options.record } : {}),
  });
  try {
    const result = await runner.run(command, {
      cwd,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.startWhen ? { startWhen: options.startWhen } : {}),
    });
    let output = result.output;
    if (result.outcome === 'timed-out')
      output += `\n[the check was killed after ${formatSeconds(options.timeoutMs / 1000)}: it ran too long]`;
    return {
      command,
      ok: result.outcome === 'exited' && result.exitCode === 0,
      exitCode: result.outcome === 'exited' ? result.exitCode : null,
      output: tail(output, CHECK_OUTPUT_CHARS),
      fullOutput: output,
      durationMs: Math.round(result.durationMs),
    };
  } finally {
    await runner.killAll();
  }
}
