/** What the file tools do inside the workspace: read, list, search, write, edit. */
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { git, makeTempDir, makeTempRepo } from '../../test/helpers/repo.ts';
import { editFileTool, listFilesTool, readFileTool, readOnlyFileTools, fileTools, searchFilesTool, writeFileTool } from './file-tools.ts';
import { LIST_LIMITS } from './list-files.ts';
import { READ_LIMITS } from './read-file.ts';
import { SEARCH_LIMITS } from './search-files.ts';
import { runTool, type Tool, type ToolContext, type ToolResult } from './tool.ts';

function context(root: string, activity: string[] = []): ToolContext {
  return { root, signal: new AbortController().signal, onActivity: (what) => activity.push(what) };
}

function call(tool: Tool, root: string, args: object, activity?: string[]): Promise<ToolResult> {
  return runTool(tool, JSON.stringify(args), context(root, activity));
}

async function writeFiles(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), content);
  }
}

test('the tool sets: read-only for the chat and research agents, read-write for the executor', () => {
  assert.deepEqual(
    readOnlyFileTools().map((tool) => tool.name),
    ['read_file', 'list_files', 'search_files'],
  );
  assert.deepEqual(
    fileTools().map((tool) => tool.name),
    ['read_file', 'list_files', 'search_files', 'write_file', 'edit_file'],
  );
});

// ---------------------------------------------------------------------------------------------
// read_file

test('read_file numbers the lines and reports what it reads', async (t) => {
  const root = await makeTempDir(t);
  await writeFiles(root, { 'src/a.ts': 'const a = 1;\r\nexport { a };\n' });
  const activity: string[] = [];
  const result = await call(readFileTool, root, { path: 'src/a.ts' }, activity);
  assert.equal(result.output, '1\tconst a = 1;\n2\texport { a };');
  assert.equal(result.summary, 'read src/a.ts (2 lines)');
  assert.deepEqual(activity, ['reading src/a.ts']);
});

test('read_file truncates a big file with a note, names a binary one, and explains an empty one', async (t) => {
  const root = await makeTempDir(t);
  const lines = Array.from({ length: READ_LIMITS.maxLines + 500 }, (_, index) => `line ${index + 1}`);
  await writeFiles(root, {
    'big.txt': `${lines.join('\n')}\n`,
    'huge-line.txt': 'x'.repeat(READ_LIMITS.maxBytes * 3),
    'image.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]),
    'empty.txt': '',
  });

  const big = await call(readFileTool, root, { path: 'big.txt' });
  const shown = big.output.split('\n');
  assert.equal(shown.length, READ_LIMITS.maxLines + 1, 'the lines kept plus one note');
  assert.match(shown[0]!, /^\s*1\tline 1$/);
  assert.match(shown.at(-2)!, new RegExp(`^${READ_LIMITS.maxLines}\\tline ${READ_LIMITS.maxLines}$`));
  assert.match(shown.at(-1)!, /truncated: showing lines 1–2000 of big\.txt/);
  assert.match(big.summary, /truncated/);

  const huge = await call(readFileTool, root, { path: 'huge-line.txt' });
  assert.ok(huge.output.length < READ_LIMITS.maxBytes, 'a file of one enormous line is still capped');
  assert.match(huge.output, /more characters\]/);
  assert.match(huge.output, /truncated/);

  const binary = await call(readFileTool, root, { path: 'image.png' });
  assert.equal(binary.isError, undefined);
  assert.match(binary.output, /image\.png is a binary file \(7 B\)/);

  const empty = await call(readFileTool, root, { path: 'empty.txt' });
  assert.equal(empty.output, 'empty.txt is empty.');
});

test('read_file on a folder or a missing file is an error that says so', async (t) => {
  const root = await makeTempDir(t);
  await mkdir(path.join(root, 'folder'));
  const folder = await call(readFileTool, root, { path: 'folder' });
  assert.equal(folder.isError, true);
  assert.match(folder.output, /folder is a folder: use list_files/);
  const missing = await call(readFileTool, root, { path: 'nope.txt' });
  assert.equal(missing.isError, true);
  assert.equal(missing.output, 'no such file or folder: nope.txt');
});

// ---------------------------------------------------------------------------------------------
// list_files

async function repoWithIgnoredFiles(t: Parameters<typeof makeTempRepo>[0]) {
  const root = await makeTempRepo(t, { '.gitignore': 'dist/\n*.log\n', 'tracked-gone.txt': 'bye\n' });
  await writeFiles(root, {
    'src/main.ts': 'export function createProvider() {}\n',
    'src/util/strings.ts': 'export const x = createProvider;\n',
    'notes.md': 'untracked but not ignored: createProvider\n',
    'dist/bundle.js': 'createProvider();\n',
    'debug.log': 'createProvider failed\n',
    'node_modules/lib/index.js': 'createProvider\n',
    'logo.bin': Buffer.concat([Buffer.from('createProvider'), Buffer.from([0, 1, 2])]),
  });
  git(root, 'add', 'src/main.ts');
  git(root, 'commit', '-q', '-m', 'main');
  await rm(path.join(root, 'tracked-gone.txt'));
  return root;
}

test('list_files shows a tree of what git does not ignore', async (t) => {
  const root = await repoWithIgnoredFiles(t);
  const activity: string[] = [];
  const result = await call(listFilesTool, root, {}, activity);
  assert.equal(
    result.output,
    ['the workspace: 6 files', 'src/', '  util/', '    strings.ts', '  main.ts', '.gitignore', 'logo.bin', 'notes.md', 'README.md'].join(
      '\n',
    ),
  );
  assert.equal(result.summary, 'listed . (6 files)');
  assert.deepEqual(activity, ['listing .']);

  const sub = await call(listFilesTool, root, { path: 'src' });
  assert.equal(sub.output, ['src/: 2 files', 'util/', '  strings.ts', 'main.ts'].join('\n'));
});

test('list_files outside git walks the folder, skipping .git and node_modules', async (t) => {
  const root = await makeTempDir(t);
  await writeFiles(root, { 'a.txt': 'a', 'lib/b.txt': 'b', 'node_modules/x/index.js': 'x', '.git/config': 'x' });
  const result = await call(listFilesTool, root, {});
  assert.equal(result.output, ['the workspace: 2 files', 'lib/', '  b.txt', 'a.txt'].join('\n'));
});

test('list_files keeps a big tree within its budget, closing folders with their file counts', async (t) => {
  const root = await makeTempDir(t);
  const files: Record<string, string> = { 'top.txt': 'x' };
  for (let folder = 0; folder < 30; folder++) {
    for (let file = 0; file < 20; file++) files[`pkg${String(folder).padStart(2, '0')}/file${file}.ts`] = 'x';
  }
  await writeFiles(root, files);
  const result = await call(listFilesTool, root, {});
  const lines = result.output.split('\n');
  assert.equal(lines[0], 'the workspace: 601 files');
  assert.ok(lines.length <= LIST_LIMITS.maxLines + 3, `at most the budget plus header and notes, got ${lines.length}`);
  assert.ok(lines.includes('pkg00/'), 'the first folders are opened');
  assert.ok(lines.includes('pkg29/ (20 files)'), 'the last folders are closed with their count');
  assert.match(result.output, /folders are shown closed with their file count/);
  // Every file is either shown or counted in a closed folder.
  const shownFiles = lines.filter((line) => /file\d+\.ts$/.test(line)).length;
  const counted = lines.map((line) => /\((\d+) files\)$/.exec(line)?.[1]).reduce((sum, count) => sum + Number(count ?? 0), 0);
  assert.equal(shownFiles + counted, 600);
});

// ---------------------------------------------------------------------------------------------
// search_files

test('search_files finds matches in tracked and untracked files, skipping ignored and binary ones', async (t) => {
  const root = await repoWithIgnoredFiles(t);
  const activity: string[] = [];
  const result = await call(searchFilesTool, root, { pattern: 'create\\w+\\(' }, activity);
  assert.equal(result.output, 'src/main.ts:1: export function createProvider() {}');
  assert.deepEqual(activity, ["searching for 'create\\w+\\('"]);

  const all = await call(searchFilesTool, root, { pattern: 'createProvider' });
  assert.deepEqual(all.output.split('\n').sort(), [
    'notes.md:1: untracked but not ignored: createProvider',
    'src/main.ts:1: export function createProvider() {}',
    'src/util/strings.ts:1: export const x = createProvider;',
  ]);
  assert.equal(all.summary, "searched for 'createProvider': 3 matches in 3 files");

  const inFolder = await call(searchFilesTool, root, { pattern: 'createProvider', path: 'src/util' });
  assert.equal(inFolder.output, 'src/util/strings.ts:1: export const x = createProvider;');

  const none = await call(searchFilesTool, root, { pattern: 'nothing[0-9]like this' });
  assert.equal(none.isError, undefined);
  assert.match(none.output, /^no matches for/);

  const invalid = await call(searchFilesTool, root, { pattern: 'unclosed(' });
  assert.equal(invalid.isError, true);
  assert.match(invalid.output, /invalid regular expression 'unclosed\('/);
});

test('search_files outside git walks text files with a JavaScript regex', async (t) => {
  const root = await makeTempDir(t);
  await writeFiles(root, {
    'a.ts': 'let count = 42;\nlet other = 7;\n',
    'deep/b.ts': 'count again 1000\n',
    'node_modules/c.js': 'count 1\n',
    'blob.bin': Buffer.concat([Buffer.from('count 5'), Buffer.from([0])]),
  });
  const result = await call(searchFilesTool, root, { pattern: 'count\\D+\\d+' });
  assert.deepEqual(result.output.split('\n').sort(), ['a.ts:1: let count = 42;', 'deep/b.ts:1: count again 1000']);
  const invalid = await call(searchFilesTool, root, { pattern: '(' });
  assert.equal(invalid.isError, true);
  assert.match(invalid.output, /invalid regular expression/);
});

test('search_files caps the matches and says how many there were', async (t) => {
  for (const useGit of [true, false]) {
    const root = useGit ? await makeTempRepo(t) : await makeTempDir(t);
    const total = SEARCH_LIMITS.maxMatches + 50;
    await writeFiles(root, { 'many.txt': Array.from({ length: total }, (_, index) => `hit ${index}`).join('\n') });
    const result = await call(searchFilesTool, root, { pattern: '^hit' });
    const lines = result.output.split('\n');
    assert.equal(lines.length, SEARCH_LIMITS.maxMatches + 1);
    assert.equal(
      lines.at(-1),
      `[showing the first ${SEARCH_LIMITS.maxMatches} of ${total} matches in 1 files; narrow the pattern or the path]`,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// write_file and edit_file

test('write_file creates files and folders, and keeps the mode of a file it replaces', async (t) => {
  const root = await makeTempDir(t);
  const created = await call(writeFileTool, root, { path: 'a/b/new.txt', content: 'one\ntwo\n' });
  assert.equal(created.isError, undefined, created.output);
  assert.equal(created.summary, 'created a/b/new.txt (2 lines, 8 B)');
  assert.equal(await readFile(path.join(root, 'a/b/new.txt'), 'utf8'), 'one\ntwo\n');

  await writeFiles(root, { 'run.sh': '#!/bin/sh\necho old\n' });
  await chmod(path.join(root, 'run.sh'), 0o755);
  const replaced = await call(writeFileTool, root, { path: 'run.sh', content: '#!/bin/sh\necho new\n' });
  assert.match(replaced.summary, /^wrote run\.sh/);
  assert.equal(await readFile(path.join(root, 'run.sh'), 'utf8'), '#!/bin/sh\necho new\n');
  assert.equal((await stat(path.join(root, 'run.sh'))).mode & 0o777, 0o755);

  await mkdir(path.join(root, 'folder'));
  const onFolder = await call(writeFileTool, root, { path: 'folder', content: 'x' });
  assert.equal(onFolder.isError, true);
});

test('edit_file replaces text that occurs exactly once, and refuses 0 or 2 occurrences with the count', async (t) => {
  const root = await makeTempDir(t);
  const original = 'alpha\nbeta\ngamma\nbeta\n';
  await writeFiles(root, { 'f.txt': original });

  const none = await call(editFileTool, root, { path: 'f.txt', old: 'delta', new: 'x' });
  assert.equal(none.isError, true);
  assert.match(none.output, /not found in f\.txt \(0 occurrences\)/);

  const two = await call(editFileTool, root, { path: 'f.txt', old: 'beta', new: 'x' });
  assert.equal(two.isError, true);
  assert.match(two.output, /occurs 2 times in f\.txt \(at lines 2, 4\)/);
  assert.equal(await readFile(path.join(root, 'f.txt'), 'utf8'), original, 'a refused edit changes nothing');

  const once = await call(editFileTool, root, { path: 'f.txt', old: 'gamma\nbeta', new: 'GAMMA\nBETA\nmore' });
  assert.equal(once.isError, undefined, once.output);
  assert.equal(once.summary, 'edited f.txt (line 3, -2 +3 lines)');
  assert.equal(await readFile(path.join(root, 'f.txt'), 'utf8'), 'alpha\nbeta\nGAMMA\nBETA\nmore\n');

  const missing = await call(editFileTool, root, { path: 'nope.txt', old: 'a', new: 'b' });
  assert.equal(missing.isError, true);
  assert.match(missing.output, /no such file/);
});

test("edit_file matches the model's \\n against a file with \\r\\n line endings", async (t) => {
  const root = await makeTempDir(t);
  await writeFiles(root, { 'win.txt': 'one\r\ntwo\r\nthree\r\n' });
  const result = await call(editFileTool, root, { path: 'win.txt', old: 'one\ntwo', new: 'ONE\nTWO' });
  assert.equal(result.isError, undefined, result.output);
  assert.equal(await readFile(path.join(root, 'win.txt'), 'utf8'), 'ONE\r\nTWO\r\nthree\r\n');
});
