/**
 * The `ralph` command line: every command is a client of the repository's daemon.
 * Exit codes: 0 success, 1 failure, 2 bad usage. Errors are one line on stderr, `ralph: <message>`;
 * RALPH_DEBUG=1 adds the stack.
 */
import { messageOf } from '../../protocol/text.ts';
import { parseCommandLine } from './commands.ts';
import { UsageError } from './errors.ts';
import { relaunchWithNodeFlags } from '../bin/node-flags.js';
import { errorLine, print } from './output.ts';
import { stripControls } from '../terminal-text.ts';

async function run(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(argv);
  if (parsed.kind === 'help') {
    print(parsed.text);
    return 0;
  }
  const { spec, context, repo } = parsed;
  if (!spec.load) throw new Error(`no handler for ralph ${spec.words.join(' ')}`);
  if (spec.nodeFlags) relaunchWithNodeFlags(spec.nodeFlags);
  const { findRepoRoot } = await import('../connection/repo.ts');
  // git answers while the command's code loads.
  const [repoRoot, handler] = await Promise.all([spec.noRepo ? '' : findRepoRoot(repo ?? process.cwd()), spec.load()]);
  return (await handler({ ...context, repoRoot })) ?? 0;
}

function reportError(error: unknown): number {
  const usage = error instanceof UsageError;
  const message = messageOf(error);
  let line = errorLine(message);
  if (usage && error.helpFor !== undefined) line += ` (see: ralph ${error.helpFor ? `${error.helpFor} ` : ''}--help)`;
  process.stderr.write(`ralph: ${line}\n`);
  if (process.env.RALPH_DEBUG === '1' && error instanceof Error && error.stack) process.stderr.write(`${stripControls(error.stack)}\n`);
  return usage ? 2 : 1;
}

// A reader that went away (`ralph goal list | head -1`) is not an error worth a message.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const code = await run(process.argv.slice(2)).catch(reportError);
// Exit once stdout has taken everything: a handle a command forgot to close must not keep the CLI alive.
process.stdout.write('', () => process.exit(code));
