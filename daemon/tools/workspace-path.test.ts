/**
 * Path escapes: every file tool refuses `../`, absolute paths outside, symlinks (to files, to
 * folders, dangling) that lead outside; paths inside work, also through a symlink that stays in.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { makeTempDir, makeTempRepo } from '../../test/helpers/repo.ts';
import { fileTools } from './file-tools.ts';
import { runTool, type Tool, type ToolContext } from './tool.ts';
import { resolveWorkspacePath, WorkspacePathError } from './workspace-path.ts';

const SECRET = 'outside-secret-4711';

/** A workspace (a git repository) and, beside it, a folder it must never reach. */
async function workspaceWithEscapes(t: TestContext, { git = true } = {}) {
  const root = git ? await makeTempRepo(t) : await makeTempDir(t);
  await writeFile(path.join(root, 'inside.txt'), 'inside content\n');
  const outside = await makeTempDir(t, 'ralph-outside-');
  await writeFile(path.join(outside, 'secret.txt'), `${SECRET}\n`);
  await symlink(path.join('..', path.basename(outside), 'secret.txt'), path.join(root, 'relative-link-out.txt'));
  await symlink(path.join(outside, 'secret.txt'), path.join(root, 'link-out.txt'));
  await symlink(outside, path.join(root, 'dir-out'));
  await symlink(path.join(outside, 'not-yet.txt'), path.join(root, 'dangling-out.txt'));
  await symlink('inside.txt', path.join(root, 'link-in.txt'));
  await mkdir(path.join(root, 'sub'));
  await symlink('sub', path.join(root, 'dir-in'));
  return { root, outside };
}

function context(root: string): ToolContext {
  return { root, signal: new AbortController().signal };
}

/** Arguments that make `tool` touch `target`. */
function argumentsFor(tool: Tool, target: string): string {
  switch (tool.name) {
    case 'read_file':
    case 'list_files':
      return JSON.stringify({ path: target });
    case 'search_files':
      return JSON.stringify({ pattern: 'secret', path: target });
    case 'write_file':
      return JSON.stringify({ path: target, content: 'overwritten by the agent\n' });
    case 'edit_file':
      return JSON.stringify({ path: target, old: SECRET, new: 'edited by the agent' });
    default:
      throw new Error(`no arguments for ${tool.name}`);
  }
}

test('every file tool refuses paths that leave the workspace', async (t) => {
  const { root, outside } = await workspaceWithEscapes(t);
  const escapes = [
    '../x',
    '../../etc/passwd',
    '/etc/passwd',
    path.join(outside, 'secret.txt'),
    'link-out.txt',
    'relative-link-out.txt',
    'dir-out',
    'dir-out/secret.txt',
    'dangling-out.txt',
    'sub/../../x',
  ];
  for (const tool of fileTools()) {
    for (const target of escapes) {
      const result = await runTool(tool, argumentsFor(tool, target), context(root));
      assert.equal(result.isError, true, `${tool.name} ${target} must be refused`);
      assert.match(result.output, /path escapes the workspace/, `${tool.name} ${target}: ${result.output}`);
      assert.doesNotMatch(result.output, new RegExp(SECRET), `${tool.name} ${target} leaked the outside file`);
    }
  }
  // Nothing outside was written or created, also not through the dangling link.
  assert.equal(await readFile(path.join(outside, 'secret.txt'), 'utf8'), `${SECRET}\n`);
  assert.equal(existsSync(path.join(outside, 'not-yet.txt')), false);
  assert.equal(existsSync(path.join(path.dirname(root), 'x')), false);
});

for (const git of [true, false]) {
  test(`listing and searching the whole workspace do not follow links out of it (${git ? 'git' : 'plain folder'})`, async (t) => {
    const { root } = await workspaceWithEscapes(t, { git });
    const [, listFiles, searchFiles] = fileTools();
    const search = await runTool(searchFiles!, JSON.stringify({ pattern: SECRET }), context(root));
    assert.equal(search.isError, undefined);
    assert.match(search.output, /no matches/);
    const inside = await runTool(searchFiles!, JSON.stringify({ pattern: 'inside content' }), context(root));
    assert.match(inside.output, /^inside\.txt:1: inside content$/m, 'the search itself works');
    const listing = await runTool(listFiles!, '{}', context(root));
    assert.match(listing.output, /inside\.txt/);
    assert.doesNotMatch(listing.output, /secret\.txt/);
  });
}

test('paths inside the workspace work, also absolute and through a symlink that stays inside', async (t) => {
  const { root } = await workspaceWithEscapes(t);
  const [readFileTool, , , writeFileTool, editFileTool] = fileTools();
  const ctx = context(root);

  for (const target of ['inside.txt', './inside.txt', path.join(root, 'inside.txt'), 'link-in.txt', 'sub/../inside.txt']) {
    const result = await runTool(readFileTool!, JSON.stringify({ path: target }), ctx);
    assert.equal(result.isError, undefined, `${target}: ${result.output}`);
    assert.match(result.output, /inside content/);
  }

  // Writing through an inside link changes the file it points to and keeps the link a link.
  const edit = await runTool(editFileTool!, JSON.stringify({ path: 'link-in.txt', old: 'inside content', new: 'changed content' }), ctx);
  assert.equal(edit.isError, undefined, edit.output);
  assert.equal(await readFile(path.join(root, 'inside.txt'), 'utf8'), 'changed content\n');
  assert.equal(lstatSync(path.join(root, 'link-in.txt')).isSymbolicLink(), true);

  const write = await runTool(writeFileTool!, JSON.stringify({ path: 'dir-in/new/file.txt', content: 'via a folder link\n' }), ctx);
  assert.equal(write.isError, undefined, write.output);
  assert.equal(await readFile(path.join(root, 'sub', 'new', 'file.txt'), 'utf8'), 'via a folder link\n');
});

test('.git can be read but not written', async (t) => {
  const root = await makeTempRepo(t);
  const [readFileTool, , , writeFileTool, editFileTool] = fileTools();
  const ctx = context(root);
  const read = await runTool(readFileTool!, JSON.stringify({ path: '.git/HEAD' }), ctx);
  assert.match(read.output, /ref: refs\/heads\/main/);

  const before = await readFile(path.join(root, '.git', 'HEAD'), 'utf8');
  const write = await runTool(writeFileTool!, JSON.stringify({ path: '.git/HEAD', content: 'ref: refs/heads/evil\n' }), ctx);
  assert.equal(write.isError, true);
  assert.match(write.output, /inside \.git/);
  const edit = await runTool(editFileTool!, JSON.stringify({ path: '.git/HEAD', old: 'main', new: 'evil' }), ctx);
  assert.equal(edit.isError, true);
  const hook = await runTool(writeFileTool!, JSON.stringify({ path: '.git/hooks/pre-commit', content: '#!/bin/sh\n' }), ctx);
  assert.equal(hook.isError, true);
  assert.equal(await readFile(path.join(root, '.git', 'HEAD'), 'utf8'), before);
});

test('resolveWorkspacePath gives the real path and the path to show', async (t) => {
  const { root } = await workspaceWithEscapes(t);
  const resolved = await resolveWorkspacePath(root, 'link-in.txt');
  assert.equal(resolved.realPath, path.join(root, 'inside.txt'));
  assert.equal(resolved.display, 'link-in.txt');
  assert.equal((await resolveWorkspacePath(root, '')).display, '.');
  const missing = await resolveWorkspacePath(root, 'dir-in/a/b.txt');
  assert.equal(missing.realPath, path.join(root, 'sub', 'a', 'b.txt'));
  await assert.rejects(resolveWorkspacePath(root, 'dir-out/new.txt'), WorkspacePathError);
  await assert.rejects(resolveWorkspacePath(root, 'nul\0byte'), /NUL/);
});
