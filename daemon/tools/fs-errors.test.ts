/** How a file tool reaches its path (onWorkspacePath): resolved, checked, and its failures in words naming the path. */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { makeTempDir, makeTempRepo } from '../../test/helpers/repo.ts';
import { onWorkspacePath } from './fs-errors.ts';
import type { ToolContext, ToolResult } from './tool.ts';

function context(root: string, signal = new AbortController().signal): ToolContext {
  return { root, signal };
}

const readIt = async ({ realPath, display }: { realPath: string; display: string }): Promise<ToolResult> => ({
  output: `${display}: ${await readFile(realPath, 'utf8')}`,
  summary: display,
});

test('the work gets the path resolved in the workspace, as the model should see it', async (t) => {
  const root = await makeTempDir(t);
  await mkdir(path.join(root, 'src'));
  await writeFile(path.join(root, 'src', 'a.txt'), 'alpha');
  const result = await onWorkspacePath(context(root), './src//a.txt', {}, readIt);
  assert.deepEqual(result, { output: 'src/a.txt: alpha', summary: 'src/a.txt' });
});

test("a failure is the tool's error in words naming the path, with the tool's prefix", async (t) => {
  const root = await makeTempDir(t);
  const missing = await onWorkspacePath(context(root), 'nope/b.txt', { errorPrefix: 'search_files: ' }, readIt);
  assert.equal(missing.isError, true);
  assert.equal(missing.output, 'search_files: no such file or folder: nope/b.txt');
  const outside = await onWorkspacePath(context(root), '../elsewhere.txt', {}, readIt);
  assert.equal(outside.isError, true);
  assert.equal(outside.output, 'path escapes the workspace: ../elsewhere.txt');
});

test('reading checks the file may be read; writing checks it may be written', async (t) => {
  const repo = await makeTempRepo(t);
  await writeFile(path.join(repo, '.gitignore'), '.env\n');
  await writeFile(path.join(repo, '.env'), 'SECRET=1');
  const ignored = await onWorkspacePath(context(repo), '.env', {}, readIt);
  assert.equal(ignored.isError, true, 'an ignored file is not read');
  const intoGit = await onWorkspacePath(context(repo), '.git/config', { forWrite: true }, readIt);
  assert.equal(intoGit.isError, true, 'nothing is written inside .git');
});

test('a cancelled turn is rethrown, not answered as a file error', async (t) => {
  const root = await makeTempDir(t);
  const controller = new AbortController();
  controller.abort();
  // runTool answers a cancelled call ("read_file: cancelled"); here it must not become "no such file".
  await assert.rejects(onWorkspacePath(context(root, controller.signal), 'missing.txt', {}, readIt));
});
