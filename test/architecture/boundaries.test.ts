/**
 * The layers stay layers: every .ts/.tsx file's imports (static `import … from`, `export … from`,
 * side-effect `import '…'`, dynamic and type-position `import('…')`, type-only ones included: a type
 * is a dependency too) are read from the source and checked against the boundaries README.md draws:
 *
 * - protocol/ is the only code both sides share: it imports neither daemon/ nor tui/;
 * - tui/ talks to the daemon over the protocol only: it never imports daemon/;
 * - daemon/ never imports tui/;
 * - the services under daemon/ do not depend on the transport: nothing under daemon/ imports
 *   daemon/server/ except daemon/server/ itself and daemon/daemon.ts, the one place that builds the
 *   services and hands them to the server. (daemon/main.ts only starts a Daemon: it needs no more.)
 *
 * The rules are about the code that ships: a test beside the code (`*.test.ts`) may reach across to
 * set its scene (a protocol test comparing with the daemon's rule), as the tests under test/ do.
 *
 * And daemon/ has no import cycles: a cycle ties its files into one piece that can only be read,
 * tested and changed together. A failure names the offending import or the files of the cycle.
 *
 * Imports are read with a small scanner rather than a parser: comments, strings and template
 * literals are blanked out first, so code quoted inside them (test fixtures) is not taken for an
 * import; only relative specifiers are followed (packages are outside these rules).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Folders of generated or installed code, never scanned. */
const SKIPPED = new Set(['node_modules', '.build', '.git', '.ralph']);

interface Import {
  /** Repository-relative, '/'-separated. */
  from: string;
  to: string;
  line: number;
}

interface Boundary {
  /** Says what is wrong, for the failure message. */
  rule: string;
  applies: (from: string) => boolean;
  forbids: (to: string) => boolean;
}

const under = (folder: string) => (file: string) => file.startsWith(`${folder}/`);
const isTest = (file: string) => /\.test\.tsx?$/.test(file);

/** Files under daemon/ (outside daemon/server/) allowed to import the server: the one that wires it. */
const SERVER_WIRING = new Set(['daemon/daemon.ts']);

const BOUNDARIES: Boundary[] = [
  { rule: 'protocol/ imports daemon/', applies: under('protocol'), forbids: under('daemon') },
  { rule: 'protocol/ imports tui/', applies: under('protocol'), forbids: under('tui') },
  { rule: 'tui/ imports daemon/ (the TUI speaks to the daemon through protocol/ only)', applies: under('tui'), forbids: under('daemon') },
  { rule: 'daemon/ imports tui/', applies: under('daemon'), forbids: under('tui') },
  {
    rule: 'a daemon service imports daemon/server/ (services must not depend on the transport)',
    applies: (file) => under('daemon')(file) && !under('daemon/server')(file) && !SERVER_WIRING.has(file),
    forbids: under('daemon/server'),
  },
];

describe('architecture: import boundaries', () => {
  const files = sourceFiles(ROOT);
  const imports = files.flatMap((file) => importsOf(file));

  it('reads the imports of every source file (the scanner finds what it must)', () => {
    assert.ok(files.length > 100, `only ${files.length} source files found under ${ROOT}`);
    // Each kind of import the scanner knows, as written in the tree today.
    const found = (from: string, to: string) => imports.some((entry) => entry.from === from && entry.to === to);
    assert.ok(found('daemon/daemon.ts', 'daemon/server/server.ts'), 'a static import');
    assert.ok(found('protocol/index.ts', 'protocol/jsonrpc.ts'), 'an export … from');
    assert.ok(
      imports.some((entry) => entry.from.startsWith('daemon/') && entry.from.endsWith('.ts') && entry.to.startsWith('protocol/')),
      'a daemon file importing the protocol',
    );
  });

  it('no import crosses a boundary', () => {
    const crossings: string[] = [];
    for (const entry of imports) {
      if (isTest(entry.from)) continue;
      for (const boundary of BOUNDARIES) {
        if (boundary.applies(entry.from) && boundary.forbids(entry.to)) {
          crossings.push(`${entry.from}:${entry.line} imports ${entry.to}: ${boundary.rule}`);
        }
      }
    }
    assert.deepEqual(crossings, [], `imports that cross the layers:\n  ${crossings.join('\n  ')}`);
  });

  it('daemon/ has no import cycles', () => {
    const daemonImports = imports.filter((entry) => under('daemon')(entry.from) && under('daemon')(entry.to));
    const cycles = findCycles(daemonImports).map(
      ({ files, cycle }) => `${files.length} files tied together (${files.join(', ')}), e.g. ${[...cycle, cycle[0]].join(' -> ')}`,
    );
    assert.deepEqual(cycles, [], `import cycles in daemon/:\n  ${cycles.join('\n  ')}`);
  });
});

describe('architecture: the import scanner', () => {
  const scan = (source: string) => specifiersIn(source).map((entry) => entry.specifier);

  it('finds static, re-export, side-effect, dynamic and type-position imports', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from './b.ts';",
      'import {',
      '  c,',
      '  type D,',
      "} from './c.ts';",
      "import * as e from './e.ts';",
      "import './f.ts';",
      "export { g } from './g.ts';",
      "export * from './h.ts';",
      "export type { I } from './i.ts';",
      "const j = await import('./j.ts');",
      "type K = typeof import('./k.ts');",
      'import{l}from"./l.ts";',
    ].join('\n');
    assert.deepEqual(scan(source), [
      './a.ts',
      './b.ts',
      './c.ts',
      './e.ts',
      './f.ts',
      './g.ts',
      './h.ts',
      './i.ts',
      './j.ts',
      './k.ts',
      './l.ts',
    ]);
  });

  it('ignores imports inside comments, strings, template literals and regular expressions', () => {
    const source = [
      "// import { a } from './a.ts';",
      "/* import './b.ts'; */",
      'const c = "import { c } from \'./c.ts\'";',
      "const d = `import { d } from './d.ts'`;",
      "const e = `${'x'}\nimport { e } from './e.ts';\n`;",
      "const f = /import\\('.\\/f.ts'\\)/;",
      "const g = 1 / 2; import { h } from './h.ts';",
      'const { from } = x; const i = from;',
      'export const from2 = \'import { j } from "./j.ts"\';',
      "const k = import.meta.url; import { l } from './l.ts';",
    ].join('\n');
    assert.deepEqual(scan(source), ['./h.ts', './l.ts']);
  });

  it('reports the line of each import', () => {
    assert.deepEqual(
      specifiersIn("// one\nimport { a } from './a.ts';\n\nexport * from './b.ts';").map((entry) => entry.line),
      [2, 4],
    );
  });

  it('finds each group of files tied by cycles, with one cycle through it', () => {
    const edges = (pairs: [string, string][]) => pairs.map(([from, to]) => ({ from, to, line: 1 }));
    assert.deepEqual(
      findCycles(
        edges([
          ['a', 'b'],
          ['b', 'c'],
          ['c', 'a'],
          ['c', 'd'],
          ['d', 'e'],
          ['e', 'd'],
          ['b', 'f'],
          ['f', 'b'],
        ]),
      ),
      [
        { files: ['a', 'b', 'c', 'f'], cycle: ['a', 'b', 'c'] },
        { files: ['d', 'e'], cycle: ['d', 'e'] },
      ],
    );
    assert.deepEqual(findCycles(edges([['a', 'a']])), [{ files: ['a'], cycle: ['a'] }]);
    assert.deepEqual(
      findCycles(
        edges([
          ['a', 'b'],
          ['b', 'c'],
        ]),
      ),
      [],
    );
  });
});

/** Every .ts and .tsx file in the repository, repository-relative. */
function sourceFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (SKIPPED.has(entry.name)) continue;
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(toRelative(full));
    }
  };
  walk(root);
  return files.sort();
}

function toRelative(full: string): string {
  return path.relative(ROOT, full).split(path.sep).join('/');
}

/** The repository files a source file imports by relative path. */
function importsOf(file: string): Import[] {
  const source = readFileSync(path.join(ROOT, file), 'utf8');
  const imports: Import[] = [];
  for (const { specifier, line } of specifiersIn(source)) {
    if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue;
    imports.push({ from: file, to: resolve(path.join(ROOT, path.dirname(file), specifier)), line });
  }
  return imports;
}

/** The file a relative specifier names (an import written with .js of a .ts file resolves to the .ts). */
function resolve(target: string): string {
  const candidates = [target, target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.tsx'), `${target}.ts`, `${target}/index.ts`];
  return toRelative(candidates.find((candidate) => existsSync(candidate)) ?? target);
}

/** The module specifiers a source imports, with their lines, in source order. */
export function specifiersIn(source: string): { specifier: string; line: number }[] {
  const code = blankOut(source);
  const found: { specifier: string; at: number }[] = [];
  const patterns = [
    // import … from '…' and export … from '…': only names, braces, commas, `*`, `as` and `type` between
    /\b(?:import|export)(?=[\s{*])[\w\s{},*$]*?\bfrom\s*(['"])/g,
    // import '…' (for its side effects)
    /\bimport\s*(['"])/g,
    // import('…'), as an expression or in a type
    /\bimport\s*\(\s*(['"])/g,
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) {
      const quote = match.index + match[0].length - 1;
      // Strings were blanked in `code`; the specifier is read from the source at the same place.
      const end = source.indexOf(match[1]!, quote + 1);
      found.push({ specifier: source.slice(quote + 1, end), at: match.index });
    }
  }
  return found.sort((a, b) => a.at - b.at).map(({ specifier, at }) => ({ specifier, line: source.slice(0, at).split('\n').length }));
}

/**
 * The source with comments, template literals and regular expressions replaced by spaces and the
 * insides of strings by `x`, every newline and every offset kept: what is left is code, and a quote
 * in it opens a real string.
 */
function blankOut(source: string): string {
  const out = source.split('');
  const blank = (from: number, to: number, fill = ' ') => {
    for (let i = from; i < to; i++) if (out[i] !== '\n') out[i] = fill;
  };
  /** The last character of code before `at` that is not white space ('' at the start). */
  const previousCode = (at: number): string => {
    for (let i = at - 1; i >= 0; i--) if (!/\s/.test(out[i]!)) return out[i]!;
    return '';
  };
  /** Where a template literal starting at `start` (its backquote) ends, past its closing backquote. */
  const templateEnd = (start: number): number => {
    let i = start + 1;
    while (i < source.length && source[i] !== '`') {
      if (source[i] === '\\') i += 2;
      else if (source[i] === '$' && source[i + 1] === '{') i = codeEnd(i + 2, '}');
      else i++;
    }
    return i + 1;
  };
  /** Where the code from `start` up to its closing `close` ends (past it), skipping nested strings and templates. */
  const codeEnd = (start: number, close: string): number => {
    let depth = 0;
    let i = start;
    while (i < source.length) {
      const char = source[i]!;
      if (char === '`') i = templateEnd(i);
      else if (char === '"' || char === "'") i = stringEnd(i);
      else if (char === '{') {
        depth++;
        i++;
      } else if (char === close && depth === 0) return i + 1;
      else {
        if (char === '}') depth--;
        i++;
      }
    }
    return i;
  };
  const stringEnd = (start: number): number => {
    let i = start + 1;
    while (i < source.length && source[i] !== source[start] && source[i] !== '\n') i += source[i] === '\\' ? 2 : 1;
    return i + 1;
  };
  const regexEnd = (start: number): number => {
    let i = start + 1;
    let inClass = false;
    while (i < source.length && source[i] !== '\n') {
      const char = source[i];
      if (char === '\\') i++;
      else if (char === '[') inClass = true;
      else if (char === ']') inClass = false;
      else if (char === '/' && !inClass) return i + 1;
      i++;
    }
    return i;
  };

  let i = 0;
  while (i < source.length) {
    const char = source[i]!;
    const next = source[i + 1];
    if (char === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? source.length : end;
      blank(i, stop);
      i = stop;
    } else if (char === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (char === '"' || char === "'") {
      const end = stringEnd(i);
      blank(i + 1, end - 1, 'x');
      i = end;
    } else if (char === '`') {
      const end = templateEnd(i);
      blank(i, end);
      i = end;
    } else if (char === '/' && startsRegex(previousCode(i), out.slice(Math.max(0, i - 12), i).join(''))) {
      const end = regexEnd(i);
      blank(i, end);
      i = end;
    } else i++;
  }
  return out.join('');
}

/** Whether a `/` after this code starts a regular expression (not a division). */
function startsRegex(previous: string, before: string): boolean {
  if (previous === '' || '(,=:[!&|?{};+-*%<>~^'.includes(previous)) return true;
  return /\b(?:return|typeof|case|do|else|in|of|void|yield|await|throw|new|delete)\s*$/.test(before);
}

/**
 * The import cycles among the files: each strongly connected group of files (Tarjan), sorted, with
 * one cycle through it that starts at its first file.
 */
export function findCycles(imports: { from: string; to: string }[]): { files: string[]; cycle: string[] }[] {
  const graph = new Map<string, string[]>();
  for (const { from, to } of imports) {
    if (!graph.has(from)) graph.set(from, []);
    if (!graph.has(to)) graph.set(to, []);
    graph.get(from)!.push(to);
  }
  for (const targets of graph.values()) targets.sort();

  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  let counter = 0;
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node)!) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(node, Math.min(low.get(node)!, index.get(target)!));
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      const selfImport = graph.get(node)!.includes(node);
      if (group.length > 1 || selfImport) groups.push(group.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);

  return groups.map((files) => ({ files, cycle: cycleThrough(files, graph) })).sort((a, b) => a.files[0]!.localeCompare(b.files[0]!));
}

/** A cycle in a strongly connected group: from its first file, the shortest way back to it. */
function cycleThrough(group: string[], graph: Map<string, string[]>): string[] {
  const members = new Set(group);
  const start = group[0]!;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const target of graph.get(node)!) {
      if (!members.has(target)) continue;
      if (target === start) {
        const cycle = [node];
        while (cycle[0] !== start) cycle.unshift(cameFrom.get(cycle[0]!)!);
        return cycle;
      }
      if (!cameFrom.has(target)) {
        cameFrom.set(target, node);
        queue.push(target);
      }
    }
  }
  return group;
}
