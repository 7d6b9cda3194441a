/**
 * Which commands the goal executor may run (config `executor.commands.allow` / `.deny`). Deny
 * rules are checked first and win; an empty allow list allows whatever is not denied.
 *
 * A rule is either a command prefix (`git push`, `npm *`, `git restore --staged`) or a regular
 * expression (`re:^curl .*example\.com`). The command line is split into every simple command it
 * would run (shell-words.ts) and EVERY one is checked, so `cd x && git push` is caught; commands
 * that only run another command (`env`, `timeout 5`, `bash -c '…'`, `xargs`, `find -exec`, …)
 * are looked through, so the command they run is checked too.
 *
 * Prefix rules, word by word: the program matches by name wherever it lives (`/usr/bin/git` is
 * `git`); the next words of the rule must be the next words of the command; words of the rule
 * that are options (`--staged`) may appear anywhere after them; `*` in a word matches any
 * characters, and a final `*` any remaining words. For `git`, options before the subcommand are
 * skipped (`git -C dir push` is `git push`). Leading `NAME=value` assignments are skipped.
 *
 * A `re:` rule is tested against each simple command as written and as normalized; a deny regex is
 * also tested against the whole command line (so it can catch `curl … | sh`).
 */
import { ShellSyntaxError, splitCommands, type SimpleCommand, type Word } from './shell-words.ts';

/**
 * Denied by default: the harness owns git (it commits each iteration, makes the branch and lands
 * it), so the agent must not commit, push, move HEAD, rewrite refs, or delete untracked work;
 * and no command gains root. `git restore --staged` is not here: the harness stages everything
 * itself before it commits, so unstaging is harmless, and `git restore`/`git diff`/`git status`/
 * `git log`/`git add` are how an agent looks after its own work.
 */
export const DEFAULT_DENY_RULES: readonly string[] = [
  'sudo',
  'su',
  'git commit',
  'git push',
  'git pull',
  'git reset',
  'git checkout',
  'git switch',
  'git rebase',
  'git merge',
  'git cherry-pick',
  'git revert',
  'git am',
  'git branch',
  'git worktree',
  'git stash',
  'git tag',
  'git update-ref',
  'git symbolic-ref',
  'git filter-branch',
  'git clean',
];

export interface PolicyRules {
  allow?: readonly string[];
  deny?: readonly string[];
}

export type PolicyDecision =
  | {
      allowed: true;
      /** Why: the allow rules that matched, or that there is no allow list. */
      rule: string;
    }
  | {
      allowed: false;
      /** The rule that refused it: 'deny: git push', 'not in the allow list', 'unparsable: …'. */
      rule: string;
      /** The simple command that was refused, as written. */
      command: string;
    };

interface Rule {
  /** As configured, for messages: "git push", "re:^curl". */
  source: string;
  isRegex: boolean;
  matches(command: NormalizedCommand): boolean;
}

/** A simple command ready for matching. */
interface NormalizedCommand {
  /** Words without leading assignments; the program as a bare name; git's global options dropped. */
  words: string[];
  /** As written. */
  text: string;
}

export class CommandPolicy {
  readonly allowRules: readonly string[];
  readonly denyRules: readonly string[];
  private readonly allow: Rule[];
  private readonly deny: Rule[];

  /** Throws on a rule that cannot be used (an empty one, an invalid `re:` regex), naming it. */
  constructor(rules: PolicyRules = {}) {
    this.allowRules = [...(rules.allow ?? [])];
    this.denyRules = [...(rules.deny ?? DEFAULT_DENY_RULES)];
    this.allow = this.allowRules.map(parseRule);
    this.deny = this.denyRules.map(parseRule);
  }

  check(commandLine: string): PolicyDecision {
    let commands: SimpleCommand[];
    try {
      commands = splitCommands(commandLine);
    } catch (error) {
      if (!(error instanceof ShellSyntaxError)) throw error;
      // Bash would refuse it as well; running it blind could let a denied command through.
      return { allowed: false, rule: `unparsable: ${error.message}`, command: commandLine };
    }

    // Deny first, over the whole line and then every command (and what it runs).
    const wholeLine = this.deny.find((rule) => rule.isRegex && rule.matches({ words: [], text: commandLine }));
    if (wholeLine) return { allowed: false, rule: `deny: ${wholeLine.source}`, command: commandLine.trim() };
    for (const command of commands) {
      const denied = this.findDenied(command);
      if (denied) return { allowed: false, ...denied };
    }

    if (this.allow.length === 0) return { allowed: true, rule: 'no allow list: anything not denied' };
    const used = new Set<string>();
    for (const command of commands) {
      const refused = this.findNotAllowed(command, used);
      if (refused) return { allowed: false, rule: 'not in the allow list', command: refused };
    }
    return { allowed: true, rule: [...used].map((source) => `allow: ${source}`).join(', ') || 'nothing to run' };
  }

  private findDenied(command: SimpleCommand): { rule: string; command: string } | null {
    const normalized = normalize(command);
    if (normalized.words.length === 0) return null;
    const rule = this.deny.find((candidate) => candidate.matches(normalized));
    if (rule) return { rule: `deny: ${rule.source}`, command: command.text };
    for (const inner of innerCommands(normalized.words)) {
      const denied = this.findDenied(inner);
      if (denied) return denied;
    }
    return null;
  }

  /**
   * The first command (this one or one it runs) no allow rule covers, as written; null when all are.
   * A wrapper that only runs another command (`env`, `timeout`, `bash -c`) needs no rule of its own.
   */
  private findNotAllowed(command: SimpleCommand, used: Set<string>): string | null {
    const normalized = normalize(command);
    if (normalized.words.length === 0) return null;
    const rule = this.allow.find((candidate) => candidate.matches(normalized));
    const inner = innerCommands(normalized.words);
    if (rule) used.add(rule.source);
    // `bash script.sh` runs no command we can see: as a wrapper it covers nothing.
    else if (!TRANSPARENT_WRAPPERS.has(normalized.words[0]!) || inner.length === 0) return command.text;
    for (const command of inner) {
      const refused = this.findNotAllowed(command, used);
      if (refused) return refused;
    }
    return null;
  }
}

/** The refusal in one line for the model and the log. */
export function describeRefusal(decision: Extract<PolicyDecision, { allowed: false }>): string {
  return `refused by the command policy (${decision.rule}): ${decision.command}`;
}

// ---------------------------------------------------------------------------------------------
// Rules

const REGEX_PREFIX = 're:';

function parseRule(source: string): Rule {
  const text = source.trim();
  if (text.startsWith(REGEX_PREFIX)) {
    let regex: RegExp;
    try {
      regex = new RegExp(text.slice(REGEX_PREFIX.length));
    } catch (error) {
      throw new Error(`invalid command rule ${JSON.stringify(source)}: ${(error as Error).message}`);
    }
    return {
      source: text,
      isRegex: true,
      matches: (command) =>
        regex.test(command.text.trim()) || (command.words.length > 0 && regex.test(command.words.join(' '))),
    };
  }
  const words = text.split(/\s+/).filter((word) => word !== '');
  if (words.length === 0) throw new Error(`invalid command rule ${JSON.stringify(source)}: it is empty`);
  words[0] = programName(words[0]!);
  const positional = words.filter((word) => !isOption(word));
  const options = words.filter(isOption).map(globToRegex);
  const restIsFree = positional.at(-1) === '*';
  const prefix = (restIsFree ? positional.slice(0, -1) : positional).map(globToRegex);
  return {
    source: text,
    isRegex: false,
    matches: ({ words: commandWords }) => {
      if (commandWords.length < prefix.length) return false;
      if (!prefix.every((pattern, index) => pattern.test(commandWords[index]!))) return false;
      const rest = commandWords.slice(prefix.length);
      return options.every((option) => rest.some((word) => option.test(word)));
    },
  };
}

function isOption(word: string): boolean {
  return word.startsWith('-') && word !== '-';
}

/** `*` any characters, `?` one; everything else literal; the whole word must match. */
function globToRegex(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

// ---------------------------------------------------------------------------------------------
// Normalizing a command for matching

function programName(word: string): string {
  const slash = word.lastIndexOf('/');
  return slash === -1 ? word : word.slice(slash + 1);
}

/** Git's options that come before the subcommand and take a separate value. */
const GIT_OPTIONS_WITH_VALUE = new Set(['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--config-env', '--super-prefix', '--exec-path']);

function normalize(command: SimpleCommand): NormalizedCommand {
  const first = command.words.findIndex((word) => !word.isAssignment);
  const words = first === -1 ? [] : command.words.slice(first).map((word: Word) => word.value);
  if (words.length > 0) words[0] = programName(words[0]!);
  if (words[0] === 'git') {
    let index = 1;
    while (index < words.length && isOption(words[index]!)) {
      index += GIT_OPTIONS_WITH_VALUE.has(words[index]!) ? 2 : 1;
    }
    words.splice(1, index - 1);
  }
  return { words, text: command.text };
}

// ---------------------------------------------------------------------------------------------
// Commands that run other commands

/** Wrappers that do nothing but run the command they are given: checked as that command. */
const TRANSPARENT_WRAPPERS = new Set(['env', 'command', 'builtin', 'exec', 'nohup', 'time', 'nice', 'timeout', 'xargs', 'setsid', 'stdbuf', 'eval', 'bash', 'sh', 'dash', 'zsh', 'ksh']);

/** For each wrapper, its options that take a separate value (so the value is not taken for the command). */
const OPTIONS_WITH_VALUE: Record<string, ReadonlySet<string>> = {
  env: new Set(['-u', '--unset', '-C', '--chdir', '-S', '--split-string']),
  exec: new Set(['-a']),
  time: new Set(['-o', '--output', '-f', '--format']),
  nice: new Set(['-n', '--adjustment']),
  timeout: new Set(['-s', '--signal', '-k', '--kill-after']),
  xargs: new Set(['-a', '--arg-file', '-d', '--delimiter', '-E', '-e', '-I', '-i', '-L', '-l', '-n', '--max-args', '-P', '--max-procs', '-s', '--max-chars']),
  stdbuf: new Set(['-i', '-o', '-e']),
};

/** The words after a wrapper's options (and, for some, its fixed operands): the command it runs. */
function afterOptions(words: string[], program: string, operandsBefore = 0): string[] {
  const withValue = OPTIONS_WITH_VALUE[program] ?? new Set<string>();
  let index = 1;
  while (index < words.length) {
    const word = words[index]!;
    if (word === '--') {
      index++;
      break;
    }
    if (!isOption(word)) break;
    index += withValue.has(word) ? 2 : 1;
  }
  // env's NAME=value settings come before the command.
  if (program === 'env') while (index < words.length && words[index]!.includes('=')) index++;
  return words.slice(index + operandsBefore);
}

function asCommand(words: string[]): SimpleCommand[] {
  if (words.length === 0) return [];
  return [{ words: words.map((value) => ({ value, isAssignment: false })), text: words.join(' ') }];
}

/** Parses a script given as a string (`bash -c '…'`, `eval …`); an unparsable one yields nothing more to check. */
function scriptCommands(script: string): SimpleCommand[] {
  try {
    return splitCommands(script);
  } catch {
    return [];
  }
}

/** The commands a command runs on its behalf (none for an ordinary command). */
function innerCommands(words: string[]): SimpleCommand[] {
  const program = words[0]!;
  switch (program) {
    case 'env': {
      const split = words.findIndex((word) => word === '-S' || word === '--split-string');
      if (split !== -1 && words[split + 1] !== undefined) return scriptCommands(words[split + 1]!);
      return asCommand(afterOptions(words, program));
    }
    case 'command':
    case 'builtin':
      // `command -v x` only says where x is.
      return words.some((word) => word === '-v' || word === '-V') ? [] : asCommand(afterOptions(words, program));
    case 'exec':
    case 'nohup':
    case 'time':
    case 'nice':
    case 'setsid':
    case 'stdbuf':
    case 'xargs':
      return asCommand(afterOptions(words, program));
    case 'timeout':
      return asCommand(afterOptions(words, program, 1)); // the first operand is the duration
    case 'eval':
      return scriptCommands(words.slice(1).join(' '));
    case 'bash':
    case 'sh':
    case 'dash':
    case 'zsh':
    case 'ksh': {
      // `bash -c SCRIPT`, also bundled (`-lc`, `-ec`); the script is the first operand.
      const hasC = words.slice(1).some((word) => /^-[a-zA-Z]*c[a-zA-Z]*$/.test(word));
      if (!hasC) return [];
      const script = words.slice(1).find((word) => !isOption(word));
      return script === undefined ? [] : scriptCommands(script);
    }
    case 'find': {
      // `find … -exec CMD … ;` (or `+`), also -execdir, -ok, -okdir.
      const inner: SimpleCommand[] = [];
      for (let index = 1; index < words.length; index++) {
        if (!['-exec', '-execdir', '-ok', '-okdir'].includes(words[index]!)) continue;
        const end = words.findIndex((word, at) => at > index && (word === ';' || word === '+'));
        inner.push(...asCommand(words.slice(index + 1, end === -1 ? words.length : end)));
        if (end === -1) break;
        index = end;
      }
      return inner;
    }
    default:
      return [];
  }
}
