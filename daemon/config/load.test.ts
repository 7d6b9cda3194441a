/** loadConfig against a hostile repository: what it refuses to run, and that it never hangs or quotes. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { loadConfig, MAX_CONFIG_BYTES, MAX_CONFIG_NESTING, nestingDepth } from './load.ts';

test('a config that is a link outside the repository, a folder, a FIFO, huge or not UTF-8 is refused, unrun and unquoted', async (t) => {
  const repo = await makeTempDir(t);
  const file = path.join(repo, 'ralph.config.ts');
  const refusal = async () => {
    const result = await loadConfig(repo, { timeoutMs: 5000 });
    assert.equal(result.ok, false);
    return result.ok ? '' : result.error;
  };

  await symlink('/etc/passwd', file);
  assert.equal(await refusal(), 'ralph.config.ts: is a symbolic link to a file outside the repository; it is not loaded');
  execFileSync('rm', [file]);

  await mkdir(file);
  assert.equal(await refusal(), 'ralph.config.ts: is not loaded: it is a folder, not a file');
  execFileSync('rmdir', [file]);

  // Read as a module, a FIFO would wait for a writer forever (and hold one of libuv's threads).
  execFileSync('mkfifo', [file]);
  assert.equal(await refusal(), 'ralph.config.ts: is not loaded: it is not a regular file (a FIFO, socket or device)');
  execFileSync('rm', [file]);

  await writeFile(file, `export default {};\n//${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
  assert.equal(await refusal(), 'ralph.config.ts: is not loaded: it is larger than 1 MiB, the most Ralph reads of it');

  const latin1 = Buffer.from("export default { model: 'caf_' };\n");
  latin1[latin1.indexOf('_')] = 0xe9;
  await writeFile(file, latin1);
  assert.equal(
    await refusal(),
    `ralph.config.ts: is not valid UTF-8 text (the first bad byte is at offset ${latin1.indexOf(0xe9)}); it is not loaded`,
  );
  assert.deepEqual(await readFile(file), latin1, 'left as it is');
});

test('a config nested thousands deep is refused unrun (loading it crashed Node outright); real configs nest far less', async (t) => {
  const repo = await makeTempDir(t);
  const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
  await writeFile(path.join(repo, 'ralph.config.ts'), `export default { model: 'x', extra: ${deep} };\n`);
  assert.deepEqual(await loadConfig(repo), {
    ok: false,
    error: `ralph.config.ts: nests brackets more than ${MAX_CONFIG_NESTING} deep; it is not loaded`,
    file: path.join(repo, 'ralph.config.ts'),
  });
  // Brackets in strings and comments do not count; this repository's own config is far from the cap.
  assert.equal(nestingDepth(`const a = '((((' + "[[[["; // {{{{\n/* (((( */ export default { b: [1] };`), 2);
  const own = await readFile(new URL('../../ralph.config.ts', import.meta.url), 'utf8');
  assert.ok(nestingDepth(own) < MAX_CONFIG_NESTING / 8);
});

test('a config linked to a file inside the repository is loaded', async (t) => {
  const repo = await makeTempDir(t);
  await mkdir(path.join(repo, 'config'));
  await writeFile(path.join(repo, 'config', 'ralph.ts'), "export default { model: 'linked' };\n");
  await symlink(path.join('config', 'ralph.ts'), path.join(repo, 'ralph.config.ts'));
  const result = await loadConfig(repo);
  assert.equal(result.ok && result.config.model, 'linked');
});
