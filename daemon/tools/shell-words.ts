/**
 * Splits a bash command line into the simple commands it would run, so the command policy can
 * check every one of them: `cd x && git push` is two commands, and so are the insides of
 * `$(…)`, backticks, `<(…)`, subshells, `{ …; }` groups, pipelines, `if`/`while`/`for` bodies and
 * the substitutions in an unquoted here-document.
 *
 * This is a guard rail for an agent that means well, not a sandbox: it follows bash's quoting
 * and grammar closely enough that an ordinary command is never misread. What is built at run time
 * (`$G push`, `git $(echo push)`, a script file) cannot be known statically: each word says
 * whether it is (`dynamic`), and each command where its standard input comes from (a pipe, a
 * here-string, a here-document), so the policy can refuse what it cannot judge.
 *
 * Why not a library: shell-quote (the maintained npm tokenizer) does not descend into `$(…)`,
 * backticks or here-documents, and bash-parser is unmaintained. tree-sitter-bash (what OpenCode's
 * bash tool parses with; web-tree-sitter runs the WebAssembly build its npm package ships) was
 * measured against this file by `bench/shell-parsers.ts` over the 119 tricky lines of
 * test/shell/corpus.ts (quotes, here-documents, `$( )`, backticks, `eval`, functions, subshells,
 * process substitution, `case`/`if`/`for`/`while`, `[[ ]]`, arrays, ANSI-C quoting, nested
 * substitutions): this file finds every command of every line (shell-corpus.test.ts); tree-sitter
 * never sees the command of six (a backtick substitution in a here-document, the command after
 * `coproc` three ways, `rm` after the pattern `*\)*)`, a `for` with a `{ }` body) and gives seven
 * more in shapes a policy would have to map (`[ … ]` as a test, `export`/`local`/`declare` as
 * declarations, escapes in backticks, `$"…"`). It is also slower: 69 µs a line against 12 (6 and
 * 35 on a quieter machine).
 */

export interface Word {
  /** The word after quote removal (`"a b"` → `a b`); substitutions are kept as written. */
  value: string;
  /** Starts with an unquoted `NAME=` or `NAME+=`: an assignment when it leads a command. */
  isAssignment: boolean;
  /**
   * Its value is only known at run time: it holds a parameter expansion (`$G`, `${G}`), a command
   * substitution (`$(…)`, backticks), arithmetic (`$((…))`), a process substitution, or an unquoted
   * glob (`g?t`) or brace expansion (`{git,x}`).
   */
  dynamic?: boolean;
}

/** Where a command's standard input comes from, when the command line says. */
export type CommandInput =
  /** The output of the command before it in a pipeline (`… | bash`). */
  | { kind: 'pipe' }
  /** `< file` (`< <(…)` is a dynamic one). */
  | { kind: 'file'; path: string; dynamic: boolean }
  /** A here-string (`<<< text`) or a here-document, with its text; dynamic when it expands at run time. */
  | { kind: 'text'; form: 'here-string' | 'here-document'; text: string; dynamic: boolean };

export interface SimpleCommand {
  /** Its words: assignments included, redirections and their targets left out. */
  words: Word[];
  /** The command as written, for messages. */
  text: string;
  /** Where its standard input comes from, when redirected or piped. */
  input?: CommandInput;
}

export class ShellSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShellSyntaxError';
  }
}

export function splitCommands(source: string): SimpleCommand[] {
  const parser = new Parser(source, 0, 0);
  parser.parseList(false, false);
  return parser.commands;
}

/** Deeper nesting than this is refused instead of risking the stack. */
const MAX_DEPTH = 64;

/** Operators, longest first so `&&` wins over `&`. */
const OPERATORS = [
  ';;&',
  '<<<',
  '<<-',
  '&>>',
  ';;',
  ';&',
  '&&',
  '||',
  '|&',
  '<<',
  '>>',
  '<&',
  '>&',
  '<>',
  '>|',
  '&>',
  ';',
  '&',
  '|',
  '<',
  '>',
  '(',
  ')',
  '\n',
];
const REDIRECTIONS = new Set(['<', '>', '>>', '<<', '<<-', '<<<', '<&', '>&', '<>', '>|', '&>', '&>>']);
const METACHARACTERS = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);
/** Reserved words that may stand where a command starts and are not commands themselves. */
const KEYWORDS = new Set(['!', '{', '}', 'if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', 'esac']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;

type Token =
  | { kind: 'word'; word: Word; raw: string; start: number; end: number; fdPrefix: boolean }
  | { kind: 'op'; op: string; start: number; end: number };

interface PendingHeredoc {
  delimiter: string;
  stripTabs: boolean;
  /** Unquoted delimiter: the body's `$(…)` and backticks run. */
  expands: boolean;
  /** The command's input, filled in when the body is read (after the command's line ends). */
  input: Extract<CommandInput, { kind: 'text' }>;
}

/** Where a parameter expansion starts after `$`: a name, a digit, `{`, `(`, or a special parameter. */
const EXPANSION_START = /[A-Za-z0-9_{(@*#?$!-]/;

class Parser {
  readonly commands: SimpleCommand[] = [];
  private readonly source: string;
  private pos: number;
  private readonly depth: number;
  private readonly heredocs: PendingHeredoc[] = [];

  constructor(source: string, pos: number, depth: number) {
    if (depth > MAX_DEPTH) throw new ShellSyntaxError('the command is nested too deeply');
    this.source = source;
    this.pos = pos;
    this.depth = depth;
  }

  get position(): number {
    return this.pos;
  }

  /**
   * Parses commands until the end of the source or, when `nested`, the `)` that closes the current `(`.
   * `piped`: the list's first command reads the output of a pipeline before it (`… | (bash)`).
   */
  parseList(nested: boolean, piped: boolean): void {
    let words: Word[] = [];
    let start = -1;
    let end = -1;
    let input: CommandInput | undefined;
    /** A file descriptor written before the redirection being read (`2` in `2>&1`): not stdin unless 0. */
    let redirectedFd: string | null = null;
    /** What the next words are, when they are not a command's. */
    let skipping: 'none' | 'for-list' | 'case-subject' | 'case-pattern' | 'test' | 'function-name' | 'coproc-name' = 'none';
    /** Open `case … esac` blocks: in them a `)` ends a pattern, not a subshell. */
    let openCases = 0;

    const finish = (): void => {
      const stdin = input ?? (piped ? { kind: 'pipe' as const } : undefined);
      if (words.length > 0) this.commands.push({ words, text: this.source.slice(start, end), ...(stdin ? { input: stdin } : {}) });
      words = [];
      start = -1;
      input = undefined;
    };
    const extend = (token: Token): void => {
      if (start === -1) start = token.start;
      end = token.end;
    };

    for (;;) {
      const token = this.nextToken();
      if (!token) {
        if (nested) throw new ShellSyntaxError('unterminated ( or $(');
        finish();
        return;
      }
      if (token.kind === 'op') {
        if (skipping === 'case-pattern') {
          if (token.op === ')') skipping = 'none';
          continue;
        }
        // In `[[ … ]]` these group, alternate and compare (`=~ ^(a|b)$`, `( -f a )`, `a < b`): no commands, no files.
        if (skipping === 'test' && (token.op === '(' || token.op === ')' || token.op === '|' || token.op === '<' || token.op === '>'))
          continue;
        if (REDIRECTIONS.has(token.op)) {
          const redirected = this.readRedirectionTarget(token.op);
          if (redirected && (redirectedFd === null || redirectedFd === '0')) input = redirected;
          redirectedFd = null;
          extend(token);
          end = this.pos;
          continue;
        }
        const last = words.at(-1);
        if (token.op === '(' && last?.isAssignment && last.value.endsWith('=') && token.start === end) {
          // `a=(one $(two))`, also as an argument (`declare -a a=(…)`): the elements are words, not a command.
          if (this.readArrayElements()) last.dynamic = true;
          end = this.pos;
          continue;
        }
        if (token.op === '(' && words.length === 1 && this.skipEmptyParentheses()) {
          // `name() { …; }` defines a function: the name is not a command.
          words = [];
          start = -1;
          continue;
        }
        if (token.op === '(' && words.length === 0 && this.source[this.pos] === '(') {
          this.pos++;
          this.skipBalanced('(', ')', 2); // `((i++))`, `for ((…))`: arithmetic, not commands
          continue;
        }
        finish();
        const pipedHere = piped;
        piped = token.op === '|' || token.op === '|&';
        if (skipping === 'for-list' || skipping === 'test') skipping = token.op === '\n' || token.op === ';' ? 'none' : skipping;
        if (token.op === '(') {
          this.parseList(true, pipedHere);
        } else if (token.op === ')') {
          if (nested && openCases === 0) return;
          // Outside a subshell, a stray `)` can only end a case pattern.
        } else if ((token.op === ';;' || token.op === ';&' || token.op === ';;&') && openCases > 0) {
          skipping = 'case-pattern';
        }
        continue;
      }

      if (token.fdPrefix) {
        redirectedFd = token.raw;
        extend(token); // `2` in `2>&1`: part of the redirection
        continue;
      }
      const value = token.word.value;
      if (skipping === 'case-pattern') {
        if (value === 'esac') {
          openCases--;
          skipping = 'none';
        }
        continue;
      }
      if (skipping === 'case-subject') {
        if (value === 'in') skipping = 'case-pattern';
        continue;
      }
      if (skipping === 'for-list') {
        if (value === 'do') skipping = 'none';
        continue;
      }
      if (skipping === 'test') {
        if (value === ']]') skipping = 'none';
        continue;
      }
      if (skipping === 'function-name') {
        skipping = 'none';
        continue;
      }
      if (skipping === 'coproc-name') {
        skipping = 'none';
        // `coproc NAME { …; }` names the coprocess; in `coproc cmd args` the first word is the command.
        if (/[ \t]*[({]/y.test(this.source.slice(this.pos))) continue;
      }
      if (words.length === 0 && token.raw === value) {
        // Reserved words count only unquoted and where a command starts.
        if (KEYWORDS.has(value)) {
          if (value === 'esac' && openCases > 0) openCases--;
          continue;
        }
        if (value === 'for' || value === 'select') {
          skipping = 'for-list';
          continue;
        }
        if (value === 'case') {
          openCases++;
          skipping = 'case-subject';
          continue;
        }
        if (value === '[[') {
          skipping = 'test';
          continue;
        }
        if (value === 'function') {
          skipping = 'function-name';
          continue;
        }
        if (value === 'coproc') {
          skipping = 'coproc-name';
          continue;
        }
      }
      words.push(token.word);
      extend(token);
    }
  }

  /** After the `(` of an array assignment: skips its elements up to the `)`; says whether any is dynamic. */
  private readArrayElements(): boolean {
    let dynamic = false;
    for (;;) {
      const token = this.nextToken();
      if (!token) throw new ShellSyntaxError('unterminated array (');
      if (token.kind === 'op') {
        if (token.op === ')') return dynamic;
        continue;
      }
      dynamic ||= token.word.dynamic === true;
    }
  }

  /** Right after a `(`: when only blanks and a `)` follow, skips them and says so. */
  private skipEmptyParentheses(): boolean {
    const match = /[ \t]*\)/y;
    match.lastIndex = this.pos;
    if (!match.test(this.source)) return false;
    this.pos = match.lastIndex;
    return true;
  }

  /**
   * After a redirection operator: its target word (a here-document's delimiter is remembered).
   * Returns the input it gives the command when it redirects input.
   */
  private readRedirectionTarget(op: string): CommandInput | null {
    const target = this.nextToken();
    if (target?.kind !== 'word') throw new ShellSyntaxError(`a redirection (${op}) without a target`);
    if (op === '<<' || op === '<<-') {
      // A delimiter with any quoting in it (`'EOF'`, `"EOF"`, `\EOF`) makes the body literal.
      const input = { kind: 'text' as const, form: 'here-document' as const, text: '', dynamic: false };
      this.heredocs.push({ delimiter: target.word.value, stripTabs: op === '<<-', expands: target.raw === target.word.value, input });
      return input;
    }
    if (op === '<<<') return { kind: 'text', form: 'here-string', text: target.word.value, dynamic: target.word.dynamic === true };
    if (op === '<' || op === '<>') return { kind: 'file', path: target.word.value, dynamic: target.word.dynamic === true };
    return null;
  }

  private nextToken(): Token | null {
    const src = this.source;
    for (;;) {
      const char = src[this.pos];
      if (char === ' ' || char === '\t') this.pos++;
      else if (char === '\\' && src[this.pos + 1] === '\n')
        this.pos += 2; // line continuation
      else if (char === '#') {
        while (this.pos < src.length && src[this.pos] !== '\n') this.pos++;
      } else break;
    }
    if (this.pos >= src.length) return null;
    const start = this.pos;

    if (src.startsWith('<(', start) || src.startsWith('>(', start)) {
      // Process substitution: a file name to the command, a command list to us.
      this.pos += 2;
      this.parseList(true, false);
      const raw = src.slice(start, this.pos);
      return { kind: 'word', word: { value: raw, isAssignment: false, dynamic: true }, raw, start, end: this.pos, fdPrefix: false };
    }
    const op = OPERATORS.find((candidate) => src.startsWith(candidate, start));
    if (op) {
      this.pos += op.length;
      if (op === '\n') this.readHeredocBodies();
      return { kind: 'op', op, start, end: this.pos };
    }
    const { value, dynamic } = this.readWord();
    const raw = src.slice(start, this.pos);
    const fdPrefix = /^\d+$/.test(raw) && (src[this.pos] === '<' || src[this.pos] === '>');
    const word: Word = { value, isAssignment: ASSIGNMENT.test(raw), ...(dynamic ? { dynamic } : {}) };
    return { kind: 'word', word, raw, start, end: this.pos, fdPrefix };
  }

  /**
   * Reads one word up to an unquoted metacharacter; returns it without its quotes, and whether
   * its value is only known at run time (an expansion, or an unquoted glob or brace expansion).
   */
  private readWord(): { value: string; dynamic: boolean } {
    const src = this.source;
    let value = '';
    /** The unquoted, unescaped characters: where globs and braces take effect. */
    let unquoted = '';
    let dynamic = false;
    while (this.pos < src.length) {
      const char = src[this.pos]!;
      if (METACHARACTERS.has(char)) break;
      if (char === '\\') {
        const next = src[this.pos + 1];
        this.pos += 2;
        if (next !== undefined && next !== '\n') value += next;
      } else if (char === "'") {
        const close = src.indexOf("'", this.pos + 1);
        if (close === -1) throw new ShellSyntaxError("unterminated single quote (')");
        value += src.slice(this.pos + 1, close);
        this.pos = close + 1;
      } else if (char === '"') {
        this.pos++;
        const quoted = this.readDoubleQuoted();
        value += quoted.value;
        dynamic ||= quoted.dynamic;
      } else if (char === '$' && src[this.pos + 1] === '"') {
        this.pos++; // `$"…"`, a string translated by the locale: read as the double-quoted string it is
      } else if (char === '$' && src[this.pos + 1] === "'") {
        this.pos += 2;
        value += this.readAnsiQuoted();
      } else if (char === '$' || char === '`') {
        dynamic ||= isExpansionAt(src, this.pos);
        value += this.readExpansion();
      } else {
        value += char;
        unquoted += char;
        this.pos++;
      }
    }
    // `[` alone is the test command, not a pattern; `[a]` is one.
    if (/[*?]|\[.*\]/.test(unquoted) || /\{[^{}]*(,|\.\.)[^{}]*\}/.test(unquoted)) dynamic = true;
    return { value, dynamic };
  }

  /** After an opening `"`: up to the closing one, with `$(…)` and backticks parsed; dynamic when it expands anything. */
  private readDoubleQuoted(): { value: string; dynamic: boolean } {
    const src = this.source;
    let value = '';
    let dynamic = false;
    for (;;) {
      if (this.pos >= src.length) throw new ShellSyntaxError('unterminated double quote (")');
      const char = src[this.pos]!;
      if (char === '"') {
        this.pos++;
        return { value, dynamic };
      }
      if (char === '\\') {
        const next = src[this.pos + 1];
        this.pos += 2;
        // In double quotes a backslash escapes only these; elsewhere it stays.
        if (next === '$' || next === '`' || next === '"' || next === '\\') value += next;
        else if (next !== '\n' && next !== undefined) value += `\\${next}`;
      } else if (char === '$' || char === '`') {
        dynamic ||= isExpansionAt(src, this.pos);
        value += this.readExpansion(true);
      } else {
        value += char;
        this.pos++;
      }
    }
  }

  /** After `$'`: ANSI-C quoting; escapes are kept as written except the quote and backslash. */
  private readAnsiQuoted(): string {
    const src = this.source;
    let value = '';
    for (;;) {
      if (this.pos >= src.length) throw new ShellSyntaxError("unterminated $' quote");
      const char = src[this.pos]!;
      if (char === "'") {
        this.pos++;
        return value;
      }
      if (char === '\\') {
        const next = src[this.pos + 1] ?? '';
        value += next === "'" || next === '\\' ? next : `\\${next}`;
        this.pos += 2;
      } else {
        value += char;
        this.pos++;
      }
    }
  }

  /**
   * At a `$` or a backtick: a command substitution is parsed for its commands; `$((…))` and
   * `${…}` are skipped over (their insides may hold substitutions too). Returns the raw text.
   * (Not private: a here-document body is scanned by a parser started at each substitution.)
   */
  readExpansion(inDoubleQuotes = false): string {
    const src = this.source;
    const start = this.pos;
    if (src[start] === '`') {
      this.commands.push(...this.parseBackticks(inDoubleQuotes));
    } else if (src.startsWith('$((', start)) {
      this.pos += 3;
      this.skipBalanced('(', ')', 2);
    } else if (src.startsWith('$(', start)) {
      this.pos += 2;
      this.parseList(true, false);
    } else if (src.startsWith('${', start)) {
      this.pos += 2;
      this.skipBalanced('{', '}', 1);
    } else {
      this.pos++; // `$NAME`, `$1`, or a lone `$`: plain text to us
    }
    return src.slice(start, this.pos);
  }

  /** Skips to the close that balances `depth` opens, minding quotes and nested substitutions. */
  private skipBalanced(open: string, close: string, depth: number): void {
    const src = this.source;
    while (depth > 0) {
      if (this.pos >= src.length) throw new ShellSyntaxError(`unterminated ${open === '{' ? '${' : '$(('}`);
      const char = src[this.pos]!;
      if (char === '\\') this.pos += 2;
      else if (char === "'" && open === '{') {
        const closeQuote = src.indexOf("'", this.pos + 1);
        if (closeQuote === -1) throw new ShellSyntaxError("unterminated single quote (')");
        this.pos = closeQuote + 1;
      } else if (char === '"') {
        this.pos++;
        this.readDoubleQuoted();
      } else if (char === '$' || char === '`') {
        this.readExpansion();
      } else {
        if (char === open) depth++;
        else if (char === close) depth--;
        this.pos++;
      }
    }
  }

  /**
   * At a backtick: the commands of the old-style substitution up to the closing backtick. A backslash
   * before a backtick, `$` or backslash (and, inside double quotes, before `"`) only escapes it.
   */
  private parseBackticks(inDoubleQuotes: boolean): SimpleCommand[] {
    const src = this.source;
    let inner = '';
    this.pos++;
    for (;;) {
      if (this.pos >= src.length) throw new ShellSyntaxError('unterminated backtick (`)');
      const char = src[this.pos]!;
      if (char === '`') break;
      const next = src[this.pos + 1];
      if (char === '\\' && (next === '`' || next === '\\' || next === '$' || (inDoubleQuotes && next === '"'))) {
        inner += src[this.pos + 1];
        this.pos += 2;
      } else {
        inner += char;
        this.pos++;
      }
    }
    this.pos++;
    const parser = new Parser(inner, 0, this.depth + 1);
    parser.parseList(false, false);
    return parser.commands;
  }

  /** After a newline: the bodies of the here-documents started on the line just ended. */
  private readHeredocBodies(): void {
    const src = this.source;
    for (const heredoc of this.heredocs.splice(0)) {
      let body = '';
      while (this.pos < src.length) {
        const lineEnd = src.indexOf('\n', this.pos);
        const line = src.slice(this.pos, lineEnd === -1 ? src.length : lineEnd);
        this.pos = lineEnd === -1 ? src.length : lineEnd + 1;
        if ((heredoc.stripTabs ? line.replace(/^\t+/, '') : line) === heredoc.delimiter) break;
        body += `${line}\n`;
      }
      heredoc.input.text = body;
      if (heredoc.expands) {
        heredoc.input.dynamic = hasExpansion(body);
        this.commands.push(...substitutionsIn(body, this.depth + 1));
      }
    }
  }
}

/** The commands inside the `$(…)` and backticks of a text that is not itself a command (a here-document body). */
function substitutionsIn(text: string, depth: number): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    if (char === '\\') {
      at++;
    } else if ((char === '$' && text[at + 1] === '(' && text[at + 2] !== '(') || char === '`') {
      const parser = new Parser(text, at, depth);
      parser.readExpansion();
      commands.push(...parser.commands);
      at = parser.position - 1;
    }
  }
  return commands;
}

/** At `text[at]` (a `$` or a backtick): whether an expansion starts there (a lone `$` is literal). */
function isExpansionAt(text: string, at: number): boolean {
  return text[at] === '`' || EXPANSION_START.test(text[at + 1] ?? '');
}

/** Whether an expanding here-document body expands anything at run time (an unescaped `$…` or backtick). */
function hasExpansion(text: string): boolean {
  for (let at = 0; at < text.length; at++) {
    if (text[at] === '\\') at++;
    else if ((text[at] === '$' || text[at] === '`') && isExpansionAt(text, at)) return true;
  }
  return false;
}
