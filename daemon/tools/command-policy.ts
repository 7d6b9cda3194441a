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
 *
 * What is only known at run time is not guessed at. Whatever the rules, these are refused with a
 * reason the model can act on: a command word that is computed (`$G push`, `$(echo git) push`, a
 * glob); a shell fed its commands from a pipe, a computed here-string or here-document, a process
 * substitution or `/dev/stdin` (`printf 'git push' | bash`; a literal here-string is checked as
 * the script it is); `source`/`eval` of something computed; git configuration that renames
 * commands (`git -c alias.p=push p`, `GIT_CONFIG_*`, `--exec-path=`) and git subcommands that are
 * not git's own (an alias or add-on can run anything). A computed word where a deny rule needs a
 * literal one (`git $sub`, `… | xargs git`) counts as matching it (a rule's options, `-rf`, only
 * match words as written).
 *
 * This is a guard rail that makes the agent's intent explicit, not the boundary: a script file or
 * a program in another language can run anything. Where the sandbox is on (sandbox.ts) git's refs
 * and everything outside the workspace are read-only whatever the command does.
 */
import { ShellSyntaxError, splitCommands, type CommandInput, type SimpleCommand, type Word } from './shell-words.ts';

/**
 * Denied by default: the harness owns git (it commits each iteration, makes the branch and lands
 * it), so the agent must not commit, push, move HEAD, rewrite refs, or delete untracked work;
 * no command gains root; and git's stored credentials stay where they are. `git restore --staged`
 * is not here: the harness stages everything itself before it commits, so unstaging is harmless,
 * and `git restore`/`git diff`/`git status`/`git log`/`git add` are how an agent looks after its
 * own work.
 */
export const DEFAULT_DENY_RULES: readonly string[] = [
  'sudo',
  'sudoedit',
  'su',
  'doas',
  'pkexec',
  'runuser',
  'setpriv',
  'chroot',
  'capsh',
  'nsenter',
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
  'git quiltimport',
  'git branch',
  'git worktree',
  'git stash',
  'git tag',
  'git update-ref',
  'git symbolic-ref',
  'git filter-branch',
  'git replace',
  'git notes',
  'git bisect',
  'git send-pack',
  'git receive-pack',
  'git http-push',
  'git http-fetch',
  'git fast-import',
  'git pack-refs',
  'git reflog expire',
  'git reflog delete',
  'git gc',
  'git prune',
  'git repack',
  'git maintenance',
  'git clean',
  'git credential',
  'git credential-store',
  'git credential-cache',
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
      /** What refused it: 'deny: git push', 'not in the allow list', 'unparsable: …', 'computed command word'. */
      rule: string;
      /** The simple command that was refused, as written. */
      command: string;
      /** For refusals of what cannot be known statically: what to do instead, for the model. */
      reason?: string;
    };

type Refusal = Omit<Extract<PolicyDecision, { allowed: false }>, 'allowed'>;

/** How a rule matched: on the words as written, or only because a computed word could be anything. */
type Match = false | 'literal' | { dynamicWord: string };

interface Rule {
  /** As configured, for messages: "git push", "re:^curl". */
  source: string;
  isRegex: boolean;
  /** `deny`: a computed word matches any word of the rule; `allow`: only a `*`. */
  matches(command: NormalizedCommand, mode: 'deny' | 'allow'): Match;
}

/** A simple command ready for matching. */
interface NormalizedCommand {
  /** Words without leading assignments; the program as a bare name; git's global options dropped. */
  words: string[];
  /** For each of `words`: whether its value is only known at run time. */
  dynamic: boolean[];
  /** As written. */
  text: string;
  input?: CommandInput;
  /** A git global option that changes what its subcommand runs (`-c alias.p=push`), described. */
  gitTrick?: string;
}

export class CommandPolicy {
  readonly allowRules: readonly string[];
  readonly denyRules: readonly string[];
  private readonly allow: Rule[];
  private readonly deny: Rule[];
  /** Set by `allowAll`: the reason every decision gives, for lines that are allowed without being read. */
  private allowsAllBecause: string | null = null;

  /** Throws on a rule that cannot be used (an empty one, an invalid `re:` regex), naming it. */
  constructor(rules: PolicyRules = {}) {
    this.allowRules = [...(rules.allow ?? [])];
    this.denyRules = [...(rules.deny ?? DEFAULT_DENY_RULES)];
    this.allow = this.allowRules.map(parseRule);
    this.deny = this.denyRules.map(parseRule);
  }

  /**
   * No policy at all: every line runs, unread, even shell syntax the parser does not know. For a
   * command that is not the agent's but the developer's own (the goal's check, `executor.verify`);
   * `because` is the rule every decision names.
   */
  static allowAll(because: string): CommandPolicy {
    const policy = new CommandPolicy({ deny: [] });
    policy.allowsAllBecause = because;
    return policy;
  }

  check(commandLine: string): PolicyDecision {
    if (this.allowsAllBecause !== null) return { allowed: true, rule: this.allowsAllBecause };
    let commands: SimpleCommand[];
    try {
      commands = splitCommands(commandLine);
    } catch (error) {
      if (!(error instanceof ShellSyntaxError)) throw error;
      // Bash would refuse it as well; running it blind could let a denied command through.
      return { allowed: false, rule: `unparsable: ${error.message}`, command: commandLine };
    }

    // Deny first, over the whole line and then every command (and what it runs).
    const wholeLine = this.deny.find((rule) => rule.isRegex && rule.matches({ words: [], dynamic: [], text: commandLine }, 'deny'));
    if (wholeLine) return { allowed: false, rule: `deny: ${wholeLine.source}`, command: commandLine.trim() };
    for (const command of commands) {
      const denied = this.findDenied(command, 0);
      if (denied) return { allowed: false, ...denied };
    }

    if (this.allow.length === 0) return { allowed: true, rule: 'no allow list: anything not denied' };
    const used = new Set<string>();
    for (const command of commands) {
      const refused = this.findNotAllowed(command, used, 0);
      if (refused) return { allowed: false, rule: 'not in the allow list', command: refused };
    }
    return { allowed: true, rule: [...used].map((source) => `allow: ${source}`).join(', ') || 'nothing to run' };
  }

  private findDenied(command: SimpleCommand, depth: number): Refusal | null {
    if (depth > MAX_WRAPPER_DEPTH) return { rule: 'unparsable: the command is nested too deeply', command: command.text };
    // Set as an assignment (`X=… git p`, `X=…; git p`) or through env/export/declare: not in an echo or grep.
    const programAt = command.words.findIndex((word) => !word.isAssignment);
    const setsVariables = programAt !== -1 && SETS_VARIABLES.has(programName(command.words[programAt]!.value));
    const environmentTrick = command.words.find(
      (word, index) => (programAt === -1 || index < programAt || setsVariables) && GIT_CONFIG_VARIABLE.test(word.value),
    );
    if (environmentTrick) {
      return {
        rule: 'git configuration from the environment',
        command: command.text,
        reason: `${environmentTrick.value.split('=')[0]} can rename git commands; run git without it`,
      };
    }
    const normalized = normalize(command);
    if (normalized.words.length === 0) return null;
    const judged = judge(normalized);
    if (judged) return judged;
    for (const rule of this.deny) {
      const match = rule.matches(normalized, 'deny');
      if (!match) continue;
      if (match === 'literal') return { rule: `deny: ${rule.source}`, command: command.text };
      return {
        rule: `deny: ${rule.source}`,
        command: command.text,
        reason: `${match.dynamicWord} is only known at run time and could make this \`${rule.source}\`; write the words out`,
      };
    }
    for (const inner of innerCommands(normalized)) {
      const denied = this.findDenied(inner, depth + 1);
      if (denied) return denied;
    }
    return null;
  }

  /**
   * The first command (this one or one it runs) no allow rule covers, as written; null when all are.
   * A wrapper that only runs another command (`env`, `timeout`, `bash -c`) needs no rule of its own.
   */
  private findNotAllowed(command: SimpleCommand, used: Set<string>, depth: number): string | null {
    const normalized = normalize(command);
    if (normalized.words.length === 0) return null;
    const rule = this.allow.find((candidate) => candidate.matches(normalized, 'allow'));
    const inner = innerCommands(normalized);
    if (rule) used.add(rule.source);
    // `bash script.sh` runs no command we can see: as a wrapper it covers nothing.
    else if (!TRANSPARENT_WRAPPERS.has(normalized.words[0]!) || inner.length === 0) return command.text;
    for (const command of inner) {
      const refused = this.findNotAllowed(command, used, depth + 1);
      if (refused) return refused;
    }
    return null;
  }
}

/** The refusal in one line for the model and the log. */
export function describeRefusal(decision: Extract<PolicyDecision, { allowed: false }>): string {
  const line = `refused by the command policy (${decision.rule}): ${decision.command}`;
  return decision.reason ? `${line}\n${decision.reason}.` : line;
}

/** Wrappers in wrappers (`env env env … git push`) deeper than this are refused rather than followed. */
const MAX_WRAPPER_DEPTH = 32;

// ---------------------------------------------------------------------------------------------
// What is refused whatever the rules: forms whose effect is only known at run time

/** Variables through which git takes configuration (aliases included) or finds its commands. */
const GIT_CONFIG_VARIABLE = /^(GIT_CONFIG\w*|GIT_EXEC_PATH)\+?=/;

/** Commands whose `NAME=value` operands set variables. */
const SETS_VARIABLES = new Set(['env', 'export', 'declare', 'typeset', 'local', 'readonly']);

/** Programs that run shell code given on their standard input or as a file operand. */
const SHELLS = new Set(['bash', 'sh', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'fish']);

/** Options of a shell that take a separate value (not the script operand). */
const SHELL_OPTIONS_WITH_VALUE = new Set(['-o', '+o', '-O', '+O', '--rcfile', '--init-file']);

/** A file operand that is the standard input (or another open descriptor) rather than a file. */
const STDIN_DEVICE = /^\/(dev\/(stdin|fd\/\d+)|proc\/(self|\d+)\/fd\/\d+)$/;

/** git's own commands (`git --list-cmds=main,nohelpers`, and `lfs`): any other is an alias or an add-on. */
const GIT_COMMANDS = new Set(
  (
    'add am annotate apply archive bisect blame branch bugreport bundle cat-file check-attr check-ignore check-mailmap ' +
    'check-ref-format checkout checkout-index cherry cherry-pick citool clean clone column commit commit-graph commit-tree ' +
    'config count-objects credential credential-cache credential-store daemon describe diagnose diff diff-files diff-index ' +
    'diff-tree difftool fast-export fast-import fetch fetch-pack filter-branch fmt-merge-msg for-each-ref for-each-repo ' +
    'format-patch fsck fsck-objects gc get-tar-commit-id grep gui hash-object help hook http-backend http-fetch http-push ' +
    'imap-send index-pack init init-db instaweb interpret-trailers log ls-files ls-remote ls-tree mailinfo mailsplit ' +
    'maintenance merge merge-base merge-file merge-index merge-octopus merge-one-file merge-ours merge-recursive ' +
    'merge-recursive-ours merge-recursive-theirs merge-resolve merge-subtree merge-tree mergetool mktag mktree ' +
    'multi-pack-index mv name-rev notes pack-objects pack-redundant pack-refs patch-id pickaxe prune prune-packed pull push ' +
    'quiltimport range-diff read-tree rebase receive-pack reflog remote repack replace request-pull rerere reset restore ' +
    'rev-list rev-parse revert rm send-email send-pack shortlog show show-branch show-index show-ref sparse-checkout stage ' +
    'stash status stripspace submodule subtree switch symbolic-ref tag unpack-file unpack-objects update-index update-ref ' +
    'update-server-info upload-archive upload-pack var verify-commit verify-pack verify-tag version whatchanged worktree ' +
    'write-tree lfs'
  ).split(' '),
);

/** Configuration keys that define commands or pull in more configuration. */
const GIT_COMMAND_CONFIG = /^(alias|include|includeif)\./i;

function computed(command: NormalizedCommand, what: string, reason: string): Refusal {
  return { rule: what, command: command.text, reason };
}

/** Refuses what the rules could not judge because it is only known at run time; null for everything else. */
function judge(command: NormalizedCommand): Refusal | null {
  const { words, dynamic } = command;
  const program = words[0]!;
  if (dynamic[0]) {
    return computed(
      command,
      'computed command word',
      `the command word is computed at run time (${program}); write the program's name out`,
    );
  }
  if (program === 'git') return judgeGit(command);
  if (SHELLS.has(program)) return judgeShell(command);
  if (program === 'source' || program === '.') {
    const file = words[1];
    if (file === undefined) return null;
    if (dynamic[1] || (STDIN_DEVICE.test(file) && !literalText(command.input))) {
      return computed(command, 'computed script', `${program} would run commands made at run time (${file}); write the commands out`);
    }
    return null;
  }
  if (program === 'eval') {
    const at = dynamic.indexOf(true, 1);
    if (at !== -1) return computed(command, 'computed script', `eval of a string made at run time (${words[at]}); write the commands out`);
  }
  return null;
}

function judgeGit(command: NormalizedCommand): Refusal | null {
  const { words, dynamic } = command;
  if (command.gitTrick) return computed(command, 'git configuration', command.gitTrick);
  const subcommand = words[1];
  if (subcommand === undefined || dynamic[1]) return null; // a computed subcommand meets the deny rules as a wildcard
  if (!GIT_COMMANDS.has(subcommand)) {
    return computed(
      command,
      'not a git command',
      `\`git ${subcommand}\` is not one of git's own commands (an alias or an add-on could run anything); use the git command itself`,
    );
  }
  if (subcommand === 'config') {
    const reading = words.some((word) => /^(--get(-all|-regexp|-urlmatch)?|-l|--list|--show-origin|--name-only)$/.test(word));
    const key = words.slice(2).find((word, index) => GIT_COMMAND_CONFIG.test(word) || dynamic[index + 2]);
    if (key !== undefined && !reading)
      return computed(command, 'git configuration', `\`git config ${key}\` would define a git command; run git commands as themselves`);
  }
  return null;
}

/** Git's global options (before the subcommand) that change what a subcommand runs: refused. */
function gitGlobalTrick(words: string[]): string | null {
  for (let index = 1; index < words.length; index++) {
    const word = words[index]!;
    if (!isOption(word)) return null;
    if (word.startsWith('--exec-path=')) return `${word} makes git run its commands from elsewhere`;
    const value = word === '-c' || word === '--config-env' ? words[index + 1] : /^(-c|--config-env=)(.+)$/.exec(word)?.[2];
    if (value !== undefined && GIT_COMMAND_CONFIG.test(value))
      return `-c ${value} defines a git command at run time; run the git command itself`;
    if (GIT_OPTIONS_WITH_VALUE.has(word)) index++;
  }
  return null;
}

function judgeShell(command: NormalizedCommand): Refusal | null {
  const { words, dynamic, input } = command;
  const program = words[0]!;
  const { script, operand, operandDynamic, readsStdin } = shellInvocation(words, dynamic);
  if (script !== undefined) return null; // `bash -c '…'`: the script is checked as commands (innerCommands)
  if (operand !== undefined && (operandDynamic || STDIN_DEVICE.test(operand))) {
    if (STDIN_DEVICE.test(operand) && literalText(input)) return null; // checked as the script it is
    return computed(
      command,
      'computed script',
      `${program} would run commands made at run time (${operand}); write the commands out (${program} -c '…')`,
    );
  }
  if (!readsStdin || input === undefined) return null;
  switch (input.kind) {
    case 'pipe':
      return computed(
        command,
        'shell fed from a pipe',
        `${program} would run commands read from a pipe; write them out (${program} -c '…')`,
      );
    case 'file':
      return input.dynamic
        ? computed(command, 'computed script', `${program} would run commands made at run time (${input.path}); write them out`)
        : null;
    case 'text':
      return input.dynamic
        ? computed(
            command,
            'computed script',
            `${program} would run a ${input.form} that expands at run time; write the commands out (${program} -c '…')`,
          )
        : null;
  }
}

/** A here-string or here-document whose text is known: it can be checked as a script. */
function literalText(input: CommandInput | undefined): string | null {
  return input?.kind === 'text' && !input.dynamic ? input.text : null;
}

/** How a shell is invoked: `-c SCRIPT`, a script file operand, or commands from its standard input. */
function shellInvocation(
  words: string[],
  dynamic: boolean[],
): { script?: string; operand?: string; operandDynamic: boolean; readsStdin: boolean } {
  let hasC = false;
  let readsFromS = false;
  for (let index = 1; index < words.length; index++) {
    const word = words[index]!;
    if (word === '--' || word === '-') {
      const next = words[index + 1];
      return next === undefined ? { operandDynamic: false, readsStdin: true } : operandOf(next, dynamic[index + 1]!, hasC, readsFromS);
    }
    if (!isOption(word) && !word.startsWith('+')) return operandOf(word, dynamic[index]!, hasC, readsFromS);
    if (/^-[a-zA-Z]*c[a-zA-Z]*$/.test(word)) hasC = true;
    if (/^-[a-zA-Z]*s[a-zA-Z]*$/.test(word)) readsFromS = true;
    if (SHELL_OPTIONS_WITH_VALUE.has(word)) index++;
  }
  return { operandDynamic: false, readsStdin: !hasC };
}

function operandOf(word: string, isDynamic: boolean, hasC: boolean, readsFromS: boolean) {
  if (hasC) return { script: word, operandDynamic: isDynamic, readsStdin: false };
  if (readsFromS) return { operandDynamic: false, readsStdin: true }; // `bash -s arg`: arguments, commands from stdin
  return { operand: word, operandDynamic: isDynamic, readsStdin: false };
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
        regex.test(command.text.trim()) || (command.words.length > 0 && regex.test(command.words.join(' '))) ? 'literal' : false,
    };
  }
  const words = text.split(/\s+/).filter((word) => word !== '');
  if (words.length === 0) throw new Error(`invalid command rule ${JSON.stringify(source)}: it is empty`);
  words[0] = programName(words[0]!);
  const positional = words.filter((word) => !isOption(word));
  const options = words.filter(isOption).map(globToRegex);
  const restIsFree = positional.at(-1) === '*';
  const prefixWords = restIsFree ? positional.slice(0, -1) : positional;
  const prefix = prefixWords.map(globToRegex);
  return {
    source: text,
    isRegex: false,
    matches: ({ words: commandWords, dynamic }, mode) => {
      if (commandWords.length < prefix.length) return false;
      let dynamicWord: string | null = null;
      // A computed word stands for any word when denying; when allowing, only a rule's `*` covers it.
      const wordMatches = (pattern: RegExp, glob: string, index: number): boolean => {
        if (!dynamic[index]) return pattern.test(commandWords[index]!);
        if (glob === '*') return true;
        if (mode === 'allow') return false;
        dynamicWord ??= commandWords[index]!;
        return true;
      };
      if (!prefix.every((pattern, index) => wordMatches(pattern, prefixWords[index]!, index))) return false;
      // A rule's options (`rm -rf`) are matched by words as written only: `rm -r "$dir"` is not `rm -rf`.
      const rest = commandWords.slice(prefix.length).filter((_, index) => !dynamic[prefix.length + index]);
      if (!options.every((option) => rest.some((word) => option.test(word)))) return false;
      return dynamicWord === null ? 'literal' : { dynamicWord };
    },
  };
}

function isOption(word: string): boolean {
  return word.startsWith('-') && word !== '-';
}

/** `*` any characters, `?` one; everything else literal; the whole word must match. */
function globToRegex(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

// ---------------------------------------------------------------------------------------------
// Normalizing a command for matching

function programName(word: string): string {
  const slash = word.lastIndexOf('/');
  return slash === -1 ? word : word.slice(slash + 1);
}

/** Git's options that come before the subcommand and take a separate value. */
const GIT_OPTIONS_WITH_VALUE = new Set(['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--config-env', '--super-prefix']);

function normalize(command: SimpleCommand): NormalizedCommand {
  const first = command.words.findIndex((word) => !word.isAssignment);
  const kept = first === -1 ? [] : command.words.slice(first);
  const words = kept.map((word: Word) => word.value);
  const dynamic = kept.map((word: Word) => word.dynamic === true);
  if (words.length > 0 && !dynamic[0]) words[0] = programName(words[0]!);
  // git's commands as programs of their own (`/usr/lib/git-core/git-push`, `git-receive-pack`) are git's.
  const dashed = /^git-(.+)$/.exec(words[0] ?? '');
  if (dashed && !dynamic[0] && GIT_COMMANDS.has(dashed[1]!)) {
    words.splice(0, 1, 'git', dashed[1]!);
    dynamic.splice(0, 1, false, false);
  }
  if (words[0] === 'git' && !dynamic[0]) {
    const trick = gitGlobalTrick(words);
    let index = 1;
    while (index < words.length && isOption(words[index]!)) {
      index += GIT_OPTIONS_WITH_VALUE.has(words[index]!) ? 2 : 1;
    }
    words.splice(1, index - 1);
    dynamic.splice(1, index - 1);
    // Kept for judge(): the global options are dropped from the words.
    if (trick) return { words, dynamic, text: command.text, gitTrick: trick };
  }
  return { words, dynamic, text: command.text, ...(command.input ? { input: command.input } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Commands that run other commands

/** Wrappers that do nothing but run the command they are given: checked as that command. */
const TRANSPARENT_WRAPPERS = new Set([
  'env',
  'command',
  'builtin',
  'exec',
  'nohup',
  'time',
  'nice',
  'timeout',
  'xargs',
  'setsid',
  'stdbuf',
  'eval',
  'busybox',
  'source',
  '.',
  ...SHELLS,
]);

/** For each wrapper, its options that take a separate value (so the value is not taken for the command). */
const OPTIONS_WITH_VALUE: Record<string, ReadonlySet<string>> = {
  env: new Set(['-u', '--unset', '-C', '--chdir', '-S', '--split-string']),
  exec: new Set(['-a']),
  time: new Set(['-o', '--output', '-f', '--format']),
  nice: new Set(['-n', '--adjustment']),
  timeout: new Set(['-s', '--signal', '-k', '--kill-after']),
  xargs: new Set([
    '-a',
    '--arg-file',
    '-d',
    '--delimiter',
    '-E',
    '-e',
    '-I',
    '-i',
    '-L',
    '-l',
    '-n',
    '--max-args',
    '-P',
    '--max-procs',
    '-s',
    '--max-chars',
  ]),
  stdbuf: new Set(['-i', '-o', '-e']),
};

/** The index of the first word after a wrapper's options (and, for some, its fixed operands): where the command it runs starts. */
function afterOptions(words: string[], program: string, operandsBefore = 0): number {
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
  return index + operandsBefore;
}

/** The words of `command` from `from` on, as a command of their own; `computed` marks words only known at run time. */
function asCommand(
  command: NormalizedCommand,
  from: number,
  computed: (word: string) => boolean = () => false,
  extra: Word[] = [],
): SimpleCommand[] {
  const words: Word[] = command.words.slice(from).map((value, index) => {
    const dynamic = command.dynamic[from + index] === true || computed(value);
    return { value, isAssignment: false, ...(dynamic ? { dynamic } : {}) };
  });
  if (words.length === 0) return [];
  return [{ words: [...words, ...extra], text: command.words.slice(from).join(' ') }];
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
function innerCommands(command: NormalizedCommand): SimpleCommand[] {
  const { words } = command;
  const program = words[0]!;
  switch (program) {
    case 'env': {
      const split = words.findIndex((word) => word === '-S' || word === '--split-string');
      if (split !== -1 && words[split + 1] !== undefined) return scriptCommands(words[split + 1]!);
      return asCommand(command, afterOptions(words, program));
    }
    case 'command':
    case 'builtin':
      // `command -v x` only says where x is.
      return words.some((word) => word === '-v' || word === '-V') ? [] : asCommand(command, afterOptions(words, program));
    case 'exec':
    case 'nohup':
    case 'time':
    case 'nice':
    case 'setsid':
    case 'stdbuf':
    case 'busybox':
      return asCommand(command, afterOptions(words, program));
    case 'xargs': {
      // Its command gets words read from the input: computed, and so is any word holding the -I placeholder.
      const start = afterOptions(words, program);
      const option = words.slice(1, start).findIndex((word) => /^(-I|-i|--replace)/.test(word)) + 1;
      const placeholder =
        option === 0 ? undefined : words[option] === '-I' ? words[option + 1] : words[option]!.replace(/^(-I|-i|--replace=?)/, '') || '{}';
      const fromInput: Word = { value: '(words read by xargs)', isAssignment: false, dynamic: true };
      return asCommand(command, start, (word) => placeholder !== undefined && word.includes(placeholder), [fromInput]);
    }
    case 'timeout':
      return asCommand(command, afterOptions(words, program, 1)); // the first operand is the duration
    case 'eval':
      return scriptCommands(words.slice(1).join(' '));
    case 'source':
    case '.': {
      const text = words[1] !== undefined && STDIN_DEVICE.test(words[1]) ? literalText(command.input) : null;
      return text === null ? [] : scriptCommands(text);
    }
    case 'find': {
      // `find … -exec CMD … ;` (or `+`), also -execdir, -ok, -okdir; `{}` is a file name found at run time.
      const inner: SimpleCommand[] = [];
      for (let index = 1; index < words.length; index++) {
        if (!['-exec', '-execdir', '-ok', '-okdir'].includes(words[index]!)) continue;
        const end = words.findIndex((word, at) => at > index && (word === ';' || word === '+'));
        const slice = {
          ...command,
          words: words.slice(0, end === -1 ? words.length : end),
          dynamic: command.dynamic.slice(0, end === -1 ? words.length : end),
        };
        inner.push(...asCommand(slice, index + 1, (word) => word.includes('{}')));
        if (end === -1) break;
        index = end;
      }
      return inner;
    }
    default: {
      if (!SHELLS.has(program)) return [];
      // `bash -c SCRIPT` (also bundled: `-lc`, `-ec`), or commands from a literal here-string or here-document.
      const { script, operand, readsStdin } = shellInvocation(words, command.dynamic);
      if (script !== undefined) return scriptCommands(script);
      const text = readsStdin || (operand !== undefined && STDIN_DEVICE.test(operand)) ? literalText(command.input) : null;
      return text === null ? [] : scriptCommands(text);
    }
  }
}
