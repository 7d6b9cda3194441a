/**
 * The command table and the parsing of a command line against it.
 *
 * This module is data plus `node:util` parseArgs only: what runs a command is imported when that
 * command runs, so `ralph goal list` never loads the TUI and `ralph --help` loads nothing.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './errors.ts';
import { TUI_NODE_FLAGS } from '../bin/node-flags.js';

export type OptionValues = Record<string, string | boolean | undefined>;

export interface CommandContext {
  /** Option values after strict parsing (global ones included). */
  options: OptionValues;
  /** The positional arguments after the command words, as many as the command declares. */
  args: string[];
  json: boolean;
  /** The repository the command is about (the git root above --repo or the current folder). */
  repoRoot: string;
}

/** Runs a command; resolves to the exit code (0 when nothing is returned). */
export type CommandHandler = (context: CommandContext) => Promise<number | undefined>;

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The placeholder in help: `--title T`. */
  value?: string;
  help: string;
}

export interface CommandSpec {
  /** The words that name it: [] is the bare `ralph`, ['goal', 'add']. */
  words: readonly string[];
  /** What follows `ralph` in the usage line. */
  synopsis: string;
  summary: string;
  options?: Readonly<Record<string, OptionSpec>>;
  /** Names of the required positional arguments, in order. */
  args?: readonly string[];
  /** The last argument may be given more than once (`research "q1" "q2" …`). */
  variadic?: boolean;
  /** What --json prints; a command without it refuses --json. */
  json?: string;
  load?: () => Promise<CommandHandler>;
  /** V8 flags the command runs with: Node is started again with them before it loads (tui/bin/node-flags.js). */
  nodeFlags?: readonly string[];
  /** The command is about no repository (`ralph worker`): it runs anywhere, no git root looked for. */
  noRepo?: boolean;
}

const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  repo: { type: 'string', value: 'DIR', help: 'the repository (default: the git root above the current folder)' },
  json: { type: 'boolean', help: 'machine-readable output' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

const ID = ['ID'] as const;

const goalTransition = (action: 'queue' | 'cancel' | 'retry' | 'pause', summary: string): CommandSpec => ({
  words: ['goal', action],
  synopsis: `goal ${action} ID`,
  summary,
  args: ID,
  json: 'print the goal as a JSON object',
  load: async () => (await import('./goal-commands.ts')).transitionCommand(action),
});

export const COMMANDS: readonly CommandSpec[] = [
  {
    words: [],
    synopsis: '',
    summary: 'open the TUI (starts the daemon if none runs)',
    load: async () => (await import('./tui-command.ts')).openTui,
    nodeFlags: TUI_NODE_FLAGS,
  },
  {
    words: ['daemon', 'start'],
    synopsis: 'daemon start [--foreground]',
    summary: "start the repository's daemon in the background (--foreground: in this terminal)",
    options: { foreground: { type: 'boolean', help: 'run the daemon in this terminal, logging to stderr, until Ctrl+C' } },
    json: 'print {running, started, url, pid}',
    load: async () => (await import('./daemon-commands.ts')).startDaemon,
  },
  {
    words: ['daemon', 'stop'],
    synopsis: 'daemon stop',
    summary: 'stop the daemon and wait until it is gone',
    json: 'print {stopped, pid}',
    load: async () => (await import('./daemon-commands.ts')).stopDaemon,
  },
  {
    words: ['daemon', 'status'],
    synopsis: 'daemon status',
    summary: 'the running daemon: url, pid, uptime, clients, goals (exit 1 when none runs)',
    json: 'print the status object',
    load: async () => (await import('./daemon-commands.ts')).daemonStatus,
  },
  {
    words: ['worker'],
    synopsis:
      'worker --queue URL [--concurrency N] [--dir DIR] [--name NAME] [--provider-url URL] [--allow-commands] [--allow-all-permissions] [--allow-sandbox-off] [--pass-env NAME[,NAME…]]',
    summary: 'run the iterations of goals that daemons queue on a Redis (README "Scale out"), until Ctrl+C',
    options: {
      queue: { type: 'string', value: 'URL', help: 'redis://[:password@]host:6379 or rediss://… (default: RALPH_QUEUE_URL)' },
      concurrency: { type: 'string', value: 'N', help: 'attempts run at once per repository (default 1)' },
      dir: { type: 'string', value: 'DIR', help: 'where the clones and worktrees live (default ~/.ralph-worker)' },
      name: { type: 'string', value: 'NAME', help: "the name the goals' logs show (default host:pid)" },
      'provider-url': {
        type: 'string',
        value: 'URL',
        help: "where this worker's model key goes (default: its OPENAI_BASE_URL, else OpenAI); never the queue's URL",
      },
      'allow-commands': {
        type: 'boolean',
        help: "run what the queue names beyond Ralph's agents: a command agent, an agent CLI's own path or extra arguments, and the repository's own settings for agent CLIs (their hooks, endpoints, plugins), as on the developer's machine",
      },
      'allow-all-permissions': {
        type: 'boolean',
        help: "run agent CLIs without their permission checks when the queue asks (permissions: 'all')",
      },
      'allow-sandbox-off': { type: 'boolean', help: "run goals' commands outside the sandbox when the queue asks (sandbox: 'off')" },
      'pass-env': {
        type: 'string',
        value: 'NAME[,NAME…]',
        help: "secret-looking variables of this machine the queue's secrets.passEnv may hand to commands (default: none)",
      },
    },
    noRepo: true,
    load: async () => (await import('./worker-command.ts')).workerCommand,
  },
  {
    words: ['status'],
    synopsis: 'status',
    summary: 'the daemon, the pipeline (and what holds it), the goals, spend today and this month (exit 1 when no daemon runs)',
    json: 'print the status object (pipeline, spend, goals …)',
    load: async () => (await import('./status-command.ts')).statusCommand,
  },
  {
    words: ['goal', 'add'],
    synopsis: 'goal add --title T [--spec-file F | --spec TEXT] [--queue] [--agent NAME] [--after ID[,ID…]] [--priority N]',
    summary: 'create a goal (a draft unless --queue) and print its id',
    options: {
      title: { type: 'string', value: 'T', help: "the goal's title" },
      spec: { type: 'string', value: 'TEXT', help: 'the spec, markdown (## Objective, ## Reference, ## Outcomes, ## Acceptance)' },
      'spec-file': { type: 'string', value: 'F', help: 'read the spec from a file (- reads stdin)' },
      agent: {
        type: 'string',
        value: 'NAME',
        help: 'the agent that runs it: ralph, claude, codex, opencode, gemini (default: executor.agent in ralph.config.ts; see `ralph agents`)',
      },
      queue: { type: 'boolean', help: 'queue the goal right away' },
      after: {
        type: 'string',
        value: 'ID[,ID…]',
        help: 'start it only once these goals have landed, on top of their commits',
      },
      priority: {
        type: 'string',
        value: 'N',
        help: 'higher starts first, -100 to 100 (default 0; a negative one as --priority=-5); equal ones start oldest first',
      },
    },
    json: 'print the new goal as a JSON object',
    load: async () => (await import('./goal-commands.ts')).addGoal,
  },
  {
    words: ['goal', 'list'],
    synopsis: 'goal list',
    summary: 'the goals, grouped by state',
    json: 'print an array of goals (invalid goal files are reported on stderr)',
    load: async () => (await import('./goal-commands.ts')).listGoals,
  },
  {
    words: ['goal', 'show'],
    synopsis: 'goal show ID',
    summary: "a goal's title, state, spec and history",
    args: ID,
    json: 'print the goal as a JSON object',
    load: async () => (await import('./goal-commands.ts')).showGoal,
  },
  {
    words: ['goal', 'edit'],
    synopsis: 'goal edit ID [--after ID[,ID…] | --after none] [--priority N]',
    summary: 'change the goals a goal comes after and its priority (not while it runs, nor once it is done or cancelled)',
    args: ID,
    options: {
      after: { type: 'string', value: 'ID[,ID…]', help: 'the goals it comes after, instead of those it has (none: no goal)' },
      priority: { type: 'string', value: 'N', help: 'its priority, -100 to 100 (0: the default; a negative one as --priority=-5)' },
    },
    json: 'print the goal as a JSON object',
    load: async () => (await import('./goal-commands.ts')).editGoal,
  },
  goalTransition('queue', 'queue a draft or paused goal'),
  goalTransition('cancel', 'cancel a goal that is not finished'),
  goalTransition('retry', 'queue a stuck goal again, with the notes of its attempts'),
  goalTransition('pause', 'pause a running goal'),
  {
    words: ['goal', 'land'],
    synopsis: 'goal land ID',
    summary: 'land a done goal as one commit on the current branch (refused, naming the files, where unsafe)',
    args: ID,
    json: 'print {goal, commit, files}',
    load: async () => (await import('./land-command.ts')).landGoalCommand,
  },
  {
    words: ['land', 'status'],
    synopsis: 'land status',
    summary: "the landing queue in order, and each done goal's landability (landable, needs rebase, conflicts, check failing)",
    json: 'print {queue, goals} as the daemon keeps them',
    load: async () => (await import('./land-command.ts')).landStatusCommand,
  },
  {
    words: ['pipeline', 'status'],
    synopsis: 'pipeline status',
    summary: 'whether the goal pipeline is paused, the goals running and the queue',
    json: 'print {paused, running, queued} (goal ids)',
    load: async () => (await import('./pipeline-commands.ts')).pipelineStatus,
  },
  {
    words: ['pipeline', 'pause'],
    synopsis: 'pipeline pause',
    summary: 'pause the goal pipeline: no queued goal starts until it is resumed',
    json: 'print {paused}',
    load: async () => (await import('./pipeline-commands.ts')).pausePipeline,
  },
  {
    words: ['pipeline', 'resume'],
    synopsis: 'pipeline resume',
    summary: 'resume the goal pipeline',
    json: 'print {paused}',
    load: async () => (await import('./pipeline-commands.ts')).resumePipeline,
  },
  {
    words: ['inbox'],
    synopsis: 'inbox',
    summary: 'the open questions agents asked, oldest first (answer one with: ralph answer ID "text")',
    json: 'print the open questions as a JSON array',
    load: async () => (await import('./inbox-commands.ts')).showInbox,
  },
  {
    words: ['answer'],
    synopsis: 'answer ID "text"',
    summary: 'answer a question from the inbox (the first answer wins)',
    args: ['ID', 'TEXT'],
    json: 'print the answered question as a JSON object',
    load: async () => (await import('./inbox-commands.ts')).answerQuestion,
  },
  {
    words: ['logs'],
    synopsis: 'logs ID [--follow]',
    summary: "a goal's execution log",
    args: ID,
    options: { follow: { type: 'boolean', short: 'f', help: 'keep printing new entries until Ctrl+C' } },
    json: 'print one JSON entry per line',
    load: async () => (await import('./logs-command.ts')).showLogs,
  },
  {
    words: ['chat'],
    synopsis: 'chat "message"',
    summary: 'one turn in the shared chat: the reply streams to stdout (Ctrl+C interrupts it)',
    args: ['MESSAGE'],
    json: 'print the reply, once it has ended, as a JSON message object',
    load: async () => (await import('./chat-command.ts')).chatCommand,
  },
  {
    words: ['research'],
    synopsis: 'research "question" ...',
    summary: 'send research agents out, one per question, in parallel: progress on stderr, the consolidated report on stdout',
    args: ['QUESTION'],
    variadic: true,
    json: 'print the finished run as a JSON object',
    load: async () => (await import('./research-command.ts')).researchCommand,
  },
  {
    words: ['models'],
    synopsis: 'models',
    summary: 'the model table, with the provider settings in force',
    json: 'print {models, provider}',
    load: async () => (await import('./models-command.ts')).listModels,
  },
  {
    words: ['agents'],
    synopsis: 'agents [--refresh]',
    summary: 'the agent backends a goal may run with: installed, version, how each authenticates; * marks the default',
    options: { refresh: { type: 'boolean', help: 'look for the agent CLIs again now, not from what the daemon found moments ago' } },
    json: 'print {agents, default}',
    load: async () => (await import('./agents-command.ts')).listAgents,
  },
];

/** `ralph daemon` alone: status, or start when asked to run in the foreground; `ralph pipeline` alone: status. */
function defaultSubcommand(group: string, values: OptionValues): string | undefined {
  if (group === 'daemon') return values.foreground ? 'start' : 'status';
  if (group === 'pipeline') return 'status';
  if (group === 'land') return 'status';
  return undefined;
}

export type ParsedCommandLine =
  | { kind: 'help'; text: string }
  | { kind: 'command'; spec: CommandSpec; context: Omit<CommandContext, 'repoRoot'>; repo: string | undefined };

function parseOptionsOf(specs: Readonly<Record<string, OptionSpec>>) {
  return Object.fromEntries(Object.entries(specs).map(([name, { type, short }]) => [name, short ? { type, short } : { type }]));
}

/** Every option any command knows: enough to tell option values from command words before the command is known. */
const ALL_OPTIONS = parseOptionsOf(Object.assign({}, GLOBAL_OPTIONS, ...COMMANDS.map((spec) => spec.options ?? {})));

const commandName = (words: readonly string[]) => ['ralph', ...words].join(' ');
const isGroup = (word: string) => COMMANDS.some((spec) => spec.words.length > 1 && spec.words[0] === word);
const findSpec = (words: readonly string[]) =>
  COMMANDS.find((spec) => spec.words.length === words.length && spec.words.every((word, i) => word === words[i]));

/**
 * Finds the command a line names and parses its options strictly. `--repo DIR`, `--json` and
 * `--help` may stand anywhere on the line. Throws UsageError for anything malformed.
 */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  // First pass, lenient: only to find the command words. Unknown options are caught by the strict pass.
  const loose = parseArgs({ args: [...argv], options: ALL_OPTIONS, strict: false, allowPositionals: true });
  let words = loose.positionals;
  /** How many words of the line name the command (fewer than spec.words when a default subcommand applies). */
  let wordsOnLine = 0;
  const wantsHelp = loose.values.help === true;

  if (words[0] === 'help') return { kind: 'help', text: helpFor(words.slice(1)) };

  let spec: CommandSpec | undefined;
  if (words.length === 0) {
    spec = findSpec([]);
  } else if (isGroup(words[0]!)) {
    const group = words[0]!;
    if (words.length === 1) {
      if (wantsHelp) return { kind: 'help', text: helpFor([group]) };
      const fallback = defaultSubcommand(group, loose.values);
      if (!fallback) throw new UsageError(`'${group}' needs a command: ${subcommandsOf(group).join(', ')}`, group);
      words = [group, fallback];
      wordsOnLine = 1;
    } else {
      wordsOnLine = 2;
    }
    spec = findSpec(words.slice(0, 2));
    if (!spec)
      throw new UsageError(`unknown command '${words.slice(0, 2).join(' ')}' (commands: ${subcommandsOf(group).join(', ')})`, group);
  } else {
    spec = findSpec(words.slice(0, 1));
    if (!spec) throw new UsageError(`unknown command '${words[0]}'`, '');
    wordsOnLine = 1;
  }
  if (!spec) throw new Error('the command table has no entry for the bare command');

  if (wantsHelp) return { kind: 'help', text: helpFor(spec.words) };
  const helpName = spec.words.join(' ');

  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: parseOptionsOf({ ...GLOBAL_OPTIONS, ...spec.options }),
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError(describeParseError(error), helpName);
  }
  const values = parsed.values as OptionValues;
  const args = parsed.positionals.slice(wordsOnLine);

  const expected = spec.args ?? [];
  if (args.length < expected.length) {
    throw new UsageError(`missing argument ${expected.slice(args.length).join(' ')}`, helpName);
  }
  if (args.length > expected.length && !spec.variadic) throw new UsageError(`unexpected argument '${args[expected.length]}'`, helpName);
  if (values.repo === '') throw new UsageError('--repo needs a folder', helpName);
  if (values.json && !spec.json) throw new UsageError(`--json does not apply to ${commandName(spec.words)}`, helpName);

  return {
    kind: 'command',
    spec,
    repo: typeof values.repo === 'string' ? values.repo : undefined,
    context: { options: values, args, json: values.json === true },
  };
}

/** parseArgs' messages, shortened to one line that names the culprit. */
function describeParseError(error: unknown): string {
  const { code, message } = error as { code?: string; message: string };
  const culprit = /'([^']+)'/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && culprit) return `unknown option '${culprit}'`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && culprit) {
    // `'--title <value>' argument missing`, `'-f, --follow' does not take an argument`
    const name = culprit
      .replace(/ <value>$/, '')
      .split(', ')
      .at(-1);
    return message.includes('argument missing') ? `${name} needs a value` : `${name} does not take a value`;
  }
  return message.split('\n')[0] ?? 'bad command line';
}

/** The words and arguments without the options: the overview lists these, each command's help the rest. */
function shortSynopsis(spec: CommandSpec): string {
  return spec.words.length === 0 ? '(none)' : [...spec.words, ...(spec.args ?? []), ...(spec.variadic ? ['...'] : [])].join(' ');
}

function subcommandsOf(group: string): string[] {
  return COMMANDS.filter((spec) => spec.words[0] === group && spec.words.length > 1).map((spec) => spec.words[1]!);
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[][] {
  return Object.entries(options).map(([name, option]) => [
    `${option.short ? `-${option.short}, ` : '    '}--${name}${option.value ? ` ${option.value}` : ''}`,
    option.help,
  ]);
}

function columns(rows: string[][]): string {
  const width = Math.max(...rows.map((row) => row[0]!.length));
  return rows.map(([left, right]) => `  ${left!.padEnd(width)}  ${right}`).join('\n');
}

/** Help for the words given: the whole tool ([]), a group (['goal']) or one command. */
export function helpFor(words: readonly string[]): string {
  if (words.length === 0) {
    return [
      'Usage: ralph [command] [--repo DIR] [--json]',
      '',
      'Ralph turns a conversation into finished work: agree on goals, queue them, and a daemon',
      'executes them one after another while you keep editing.',
      '',
      'Commands:',
      columns(COMMANDS.map((spec) => [shortSynopsis(spec), spec.summary])),
      '',
      'Options:',
      columns(optionLines(GLOBAL_OPTIONS)),
      '',
      'Exit codes: 0 success, 1 failure, 2 bad usage. Run `ralph <command> --help` for more.',
    ].join('\n');
  }
  const spec = findSpec(words);
  if (!spec && isGroup(words[0]!) && words.length === 1) {
    const members = COMMANDS.filter((member) => member.words[0] === words[0] && member.words.length > 1);
    return [
      `Usage: ralph ${words[0]} <command>`,
      '',
      'Commands:',
      columns(members.map((member) => [member.synopsis, member.summary])),
      '',
      `Run \`ralph ${words[0]} <command> --help\` for its options.`,
    ].join('\n');
  }
  if (!spec) throw new UsageError(`no help for unknown command '${words.join(' ')}'`, '');
  const json: Record<string, OptionSpec> = spec.json ? { json: { type: 'boolean', help: spec.json } } : {};
  return [
    `Usage: ralph${spec.synopsis ? ` ${spec.synopsis}` : ''} [--repo DIR]${spec.json ? ' [--json]' : ''}`,
    '',
    `${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}.`,
    '',
    'Options:',
    columns(optionLines({ ...spec.options, repo: GLOBAL_OPTIONS.repo!, ...json, help: GLOBAL_OPTIONS.help! })),
  ].join('\n');
}

/** A goal id as typed: `3` or `#3`. */
export function parseGoalId(text: string, helpName: string): number {
  const match = /^#?([1-9]\d{0,14})$/.exec(text.trim());
  if (!match) throw new UsageError(`a goal ID is a positive integer, not '${text}'`, helpName);
  return Number(match[1]);
}
