/**
 * How the command policy should split shell lines: shell-words.ts (hand-written) against
 * tree-sitter-bash (the grammar OpenCode's bash tool parses with, run by web-tree-sitter from the
 * WebAssembly build the npm package ships), over the corpus of tricky lines in test/shell/corpus.ts.
 * For each parser: the lines where it misses a command bash would run (the ones that matter: a
 * missed command escapes the deny rules), the lines where it invents one, and its time per line.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Language, type Node, Parser } from 'web-tree-sitter';
import { splitCommands } from '../daemon/tools/shell-words.ts';
import { commandSet, SHELL_CORPUS } from '../test/shell/corpus.ts';
import { printTable, type Row } from './table.ts';

const ROUNDS = Number(process.env.BENCH_SHELL_ROUNDS ?? 200);

function shellWordsCommands(line: string): string[][] {
  return splitCommands(line)
    .map((command) => {
      const first = command.words.findIndex((word) => !word.isAssignment);
      return first === -1 ? [] : command.words.slice(first).map((word) => word.value);
    })
    .filter((words) => words.length > 0);
}

/** A tree-sitter word node's value after quote removal, the way shell-words gives it (substitutions kept as written). */
function wordValue(node: Node): string {
  const text = node.text;
  switch (node.type) {
    case 'command_name':
      return node.firstChild ? wordValue(node.firstChild) : text;
    case 'word':
      return text.replace(/\\\n/g, '').replace(/\\(.)/gs, '$1');
    case 'raw_string':
      return text.slice(1, -1);
    case 'string':
      return text.slice(1, -1).replace(/\\([$`"\\\n])/g, (_, char: string) => (char === '\n' ? '' : char));
    case 'ansi_c_string':
      return text.slice(2, -1).replace(/\\(['\\])/g, '$1');
    case 'concatenation':
      return node.children.map((child) => (child ? wordValue(child) : '')).join('');
    default:
      return text;
  }
}

function treeSitterCommands(parser: Parser, line: string): string[][] {
  const tree = parser.parse(line);
  if (!tree) throw new Error('tree-sitter returned no tree');
  try {
    return tree.rootNode.descendantsOfType('command').flatMap((command) => {
      const name = command?.childForFieldName('name');
      if (!command || !name) return [];
      return [[name, ...command.childrenForFieldName('argument')].map(wordValue)];
    });
  } finally {
    tree.delete();
  }
}

function compare(split: (line: string) => string[][]): { missing: string[]; extra: string[] } {
  const missing: string[] = [];
  const extra: string[] = [];
  for (const { line, commands } of SHELL_CORPUS) {
    let found: string[];
    try {
      found = commandSet(split(line));
    } catch {
      found = [];
    }
    const expected = commandSet(commands);
    const missed = expected.filter((command) => !found.includes(command));
    const invented = found.filter((command) => !expected.includes(command));
    if (missed.length > 0) missing.push(`${JSON.stringify(line)}: ${missed.join(' ')}`);
    if (invented.length > 0) extra.push(`${JSON.stringify(line)}: ${invented.join(' ')}`);
  }
  return { missing, extra };
}

function microsPerLine(split: (line: string) => unknown): number {
  for (const { line } of SHELL_CORPUS) split(line); // warm-up
  const start = performance.now();
  for (let round = 0; round < ROUNDS; round++) for (const { line } of SHELL_CORPUS) split(line);
  return ((performance.now() - start) * 1000) / (ROUNDS * SHELL_CORPUS.length);
}

export async function run(): Promise<void> {
  await Parser.init();
  const bash = await Language.load(fileURLToPath(new URL('../node_modules/tree-sitter-bash/tree-sitter-bash.wasm', import.meta.url)));
  const parser = new Parser();
  parser.setLanguage(bash);
  const sides = [
    { parser: 'shell-words.ts', split: shellWordsCommands },
    { parser: 'tree-sitter-bash', split: (line: string) => treeSitterCommands(parser, line) },
  ];
  const rows: Row[] = [];
  for (const side of sides) {
    const { missing, extra } = compare(side.split);
    rows.push({
      parser: side.parser,
      'lines missing a command': missing.length,
      'lines with an invented command': extra.length,
      'µs/line': microsPerLine(side.split),
    });
    for (const miss of missing) console.log(`${side.parser} misses ${miss}`);
    for (const invented of extra) console.log(`${side.parser} invents ${invented}`);
  }
  printTable(`Shell line splitting: ${SHELL_CORPUS.length} corpus lines (test/shell/corpus.ts), time over ${ROUNDS} rounds`, rows);
  parser.delete();
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
