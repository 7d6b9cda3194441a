/** The read tools refuse Ralph's daemon file always, and what git ignores unless allowed (DESIGN.md, "Secrets"). */
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { makeTempRepo } from '../../test/helpers/repo.ts';
import { listFilesTool, readFileTool, searchFilesTool } from './file-tools.ts';
import { runTool, type Tool, type ToolResult } from './tool.ts';

function call(tool: Tool, root: string, args: object, readIgnoredFiles?: boolean): Promise<ToolResult> {
  return runTool(tool, JSON.stringify(args), {
    root,
    signal: new AbortController().signal,
    ...(readIgnoredFiles ? { readIgnoredFiles } : {}),
  });
}

test("the read tools refuse .ralph/daemon.json and git-ignored files, through links too; the executor's may read ignored files", async (t) => {
  const root = await makeTempRepo(t, { '.gitignore': '.env\ndist/\nnode_modules/\n', 'app.ts': 'export const app = 1;\n' });
  const files: Record<string, string> = {
    '.env': 'STRIPE_KEY=whsec_envfilesecret\n',
    'dist/out.js': 'console.log("built");\n',
    'node_modules/lib/index.js': 'module.exports = 42;\n',
    '.ralph/.gitignore': 'daemon.json\n',
    '.ralph/daemon.json': '{"token":"tok_daemonfilesecret"}\n',
    'sub/.ralph/daemon.json': '{"token":"tok_nested"}\n',
  };
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), content);
  }
  await symlink('.env', path.join(root, 'env-link'));
  await symlink('.ralph/daemon.json', path.join(root, 'token-link'));

  const refusedDaemonFile = /refused: \.ralph\/daemon\.json holds the daemon's access token/;
  for (const target of ['.ralph/daemon.json', './.ralph/../.ralph/daemon.json', 'token-link']) {
    for (const allowed of [false, true]) {
      const result = await call(readFileTool, root, { path: target }, allowed);
      assert.equal(result.isError, true, `${target} (ignored files allowed: ${allowed})`);
      assert.match(result.output, refusedDaemonFile);
    }
  }
  assert.match(
    (await call(readFileTool, root, { path: 'sub/.ralph/daemon.json' }, true)).output,
    /refused: sub\/\.ralph\/daemon\.json holds/,
  );
  assert.match((await call(searchFilesTool, root, { pattern: 'tok_', path: '.ralph/daemon.json' })).output, refusedDaemonFile);

  const refusedIgnored = /refused: git ignores (\.env|dist\/out\.js|dist)\b.*secrets\.readIgnoredFiles/;
  for (const target of ['.env', 'env-link', 'dist/out.js']) {
    const result = await call(readFileTool, root, { path: target });
    assert.equal(result.isError, true, target);
    assert.match(result.output, refusedIgnored);
    assert.doesNotMatch(result.output, /whsec_/);
  }
  assert.match((await call(listFilesTool, root, { path: 'dist' })).output, refusedIgnored);
  assert.match((await call(searchFilesTool, root, { pattern: 'whsec', path: '.env' })).output, refusedIgnored);
  assert.match((await call(searchFilesTool, root, { pattern: 'whsec|tok_' })).output, /^no matches/, 'a search of everything skips them');

  // Installed dependencies stay readable; tracked and ordinary files of course.
  assert.match((await call(readFileTool, root, { path: 'node_modules/lib/index.js' })).output, /module\.exports = 42/);
  assert.match((await call(readFileTool, root, { path: 'app.ts' })).output, /export const app/);
  assert.match((await call(listFilesTool, root, { path: '.ralph' })).output, /\.ralph\/: 1 files\n\.gitignore/);

  // Allowed (the executor in its own worktree, or `secrets.readIgnoredFiles`): ignored files read, the daemon file still not.
  assert.match((await call(readFileTool, root, { path: '.env' }, true)).output, /whsec_envfilesecret/);
  assert.match((await call(readFileTool, root, { path: 'dist/out.js' }, true)).output, /built/);
});
