/** The research run store against a hostile repository: files it will not read, and never overwrites. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { MAX_RUN_FILE_BYTES, ResearchStore } from './run-store.ts';

test('run files that are links, folders, FIFOs, huge or not UTF-8 are reported without their content, never overwritten', async (t) => {
  const repo = await makeTempDir(t);
  const dir = path.join(repo, '.ralph', 'research');
  await mkdir(dir, { recursive: true });
  const outside = await makeTempDir(t, 'ralph-outside-');
  const running = JSON.stringify({ id: 'r-20260101-100000-0001', status: 'running' });
  await writeFile(path.join(outside, 'run.json'), running);
  await symlink(path.join(outside, 'run.json'), path.join(dir, 'r-20260101-100000-0001.json'));
  await symlink('/etc/passwd', path.join(dir, 'r-20260101-100000-0002.json'));
  await mkdir(path.join(dir, 'r-20260101-100000-0003.json'));
  execFileSync('mkfifo', [path.join(dir, 'r-20260101-100000-0004.json')]);
  await writeFile(path.join(dir, 'r-20260101-100000-0005.json'), Buffer.alloc(MAX_RUN_FILE_BYTES + 1, 0x20));
  const latin1 = Buffer.from('{"id": "r-20260101-100000-0006", "status": "caf_"}');
  latin1[latin1.indexOf('_')] = 0xe9;
  await writeFile(path.join(dir, 'r-20260101-100000-0006.json'), latin1);
  await writeFile(path.join(dir, 'r-20260101-100000-0007.json'), 'root:x:0:0:root:/root:/bin/bash\n');
  const before = await readdir(dir);

  const reports: string[] = [];
  const store = new ResearchStore(dir, (message) => reports.push(message.replace(`${dir}/`, '')));
  // recover() reads every run at start: it must neither hang on the FIFO nor write anything.
  assert.deepEqual(await store.recover(new Date(), () => 'consolidated'), []);
  for (let n = 1; n <= 7; n++) assert.equal(await store.load(`r-20260101-100000-000${n}`), undefined);
  const firstReports = reports.slice(0, 7).sort();
  assert.deepEqual(
    firstReports,
    [
      'r-20260101-100000-0001.json is not read: it is a symbolic link, which Ralph does not follow; it is left as it is',
      'r-20260101-100000-0002.json is not read: it is a symbolic link, which Ralph does not follow; it is left as it is',
      'r-20260101-100000-0003.json is not read: it is a folder, not a file; it is left as it is',
      'r-20260101-100000-0004.json is not read: it is not a regular file (a FIFO, socket or device); it is left as it is',
      'r-20260101-100000-0005.json is not read: it is larger than 16 MiB, the most Ralph reads of it; it is left as it is',
      `r-20260101-100000-0006.json is not valid UTF-8 text (the first bad byte is at offset ${latin1.indexOf(0xe9)}); it is left as it is`,
      'r-20260101-100000-0007.json is not valid JSON: unexpected character at line 1, column 1; it is left as it is',
    ].sort(),
  );
  assert.doesNotMatch(reports.join('\n'), /root:|bin\/bash/);
  assert.equal(await readFile(path.join(outside, 'run.json'), 'utf8'), running, 'the link target is untouched');
  assert.deepEqual(await readFile(path.join(dir, 'r-20260101-100000-0006.json')), latin1);
  assert.deepEqual((await readdir(dir)).sort(), before.sort());
});

test('a research folder that is a symbolic link is not written through', async (t) => {
  const repo = await makeTempDir(t);
  const outside = await makeTempDir(t, 'ralph-outside-');
  await mkdir(path.join(repo, '.ralph'));
  await symlink(outside, path.join(repo, '.ralph', 'research'));
  const store = new ResearchStore(path.join(repo, '.ralph', 'research'), () => {});
  const run = { id: 'r-20260101-100000-00aa' } as Parameters<ResearchStore['save']>[0];
  await assert.rejects(store.save(run), /\.ralph\/research is a symbolic link/);
  assert.deepEqual(await readdir(outside), []);
});
