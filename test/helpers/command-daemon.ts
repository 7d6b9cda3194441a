/**
 * A stand-in for the daemon as its commands see it: a process whose own environment holds a
 * secret (OPENAI_API_KEY) and whose children are the agent's commands. It runs the commands given
 * as JSON on argv through a real CommandRunner (sandbox mode, no deny rules: the sandbox alone is
 * under test) and prints their results as JSON, then ends everything they started.
 *
 * argv[2]: {"mode": "auto" | "bwrap" | "off", "cwd": "...", "commands": ["..."]}
 */
import { CommandPolicy } from '../../daemon/tools/command-policy.ts';
import { CommandRunner } from '../../daemon/tools/run-command.ts';
import type { SandboxMode } from '../../daemon/tools/sandbox.ts';

const { mode, cwd, commands } = JSON.parse(process.argv[2]!) as { mode: SandboxMode; cwd: string; commands: string[] };
const apiKey = process.env.OPENAI_API_KEY ?? '';
const runner = new CommandRunner({ sandbox: mode, policy: new CommandPolicy({ deny: [] }), secrets: [apiKey], timeoutMs: 60_000 });
const results = [];
for (const command of commands) {
  const result = await runner.run(command, { cwd });
  results.push({ command, exitCode: result.exitCode, output: result.output });
}
await runner.killAll();
process.stdout.write(JSON.stringify({ sandbox: await runner.sandboxState(), results }));
