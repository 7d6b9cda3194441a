import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis } from '../../test/helpers/redis.ts';
import { git, makeTempDir, makeTempRepo } from '../../test/helpers/repo.ts';
import { withoutCredentials } from './queue-executor.ts';
import { connectionOptions, jobIdFor, queueNameFor, queueUrlProblem, redactQueueUrl } from './queue.ts';

test('every clone of a repository names the same queue; another repository another', async (t) => {
  const repo = await makeTempRepo(t, { 'a.txt': 'a\n' });
  const clone = `${await makeTempDir(t)}/clone`;
  git(repo, 'clone', '-q', repo, clone);
  git(clone, 'commit', '-q', '--allow-empty', '-m', 'later');
  const other = await makeTempRepo(t, { 'b.txt': 'b\n' });
  const name = await queueNameFor(repo);
  assert.match(name, /^ralph-[0-9a-f]{12}$/);
  assert.equal(await queueNameFor(clone), name);
  assert.notEqual(await queueNameFor(other), name);
});

test("a job's id is the goal, its attempt and the resume count: publishing again names the same job", () => {
  assert.equal(jobIdFor(7, 2), 'goal-7-a2-r0');
  assert.equal(jobIdFor(7, 2, 1), 'goal-7-a2-r1');
  assert.notEqual(jobIdFor(7, 2), jobIdFor(72, 0));
});

test('a queue URL is shown without its password, and rediss:// asks for TLS', () => {
  assert.equal(redactQueueUrl('redis://:s3cret@host:6380/2'), 'redis://:***@host:6380/2');
  assert.equal(redactQueueUrl('rediss://user:s3cret@host'), 'rediss://user:***@host');
  assert.doesNotMatch(redactQueueUrl('redis//:s3cret@host'), /s3cret/);
  const options = connectionOptions('rediss://user:p%40ss@cache.example:6380/3');
  assert.deepEqual(
    { host: options.host, port: options.port, username: options.username, password: options.password, db: options.db, tls: options.tls },
    { host: 'cache.example', port: 6380, username: 'user', password: 'p@ss', db: 3, tls: { servername: 'cache.example' } },
  );
  assert.equal(connectionOptions('redis://127.0.0.1').port, 6379);
  assert.match(queueUrlProblem('http://:s3cret@host') ?? '', /must start with redis:\/\/ or rediss:\/\//);
  assert.doesNotMatch(queueUrlProblem('http://:s3cret@host') ?? '', /s3cret/);
});

test('a queue URL with a password reaches a Redis that requires it', async (t) => {
  const redis = await startRedis({ password: 'p@ss word' });
  t.after(() => redis.dispose());
  const client = new Redis(connectionOptions(redis.url));
  t.after(() => client.disconnect());
  assert.equal(await client.ping(), 'PONG');
  const refused = new Redis(connectionOptions(`redis://127.0.0.1:${redis.port}`));
  refused.on('error', () => undefined);
  t.after(() => refused.disconnect());
  await assert.rejects(refused.ping(), /NOAUTH|Authentication required/);
});

test("a job carries the remote's URL without the credentials written into it", () => {
  assert.equal(withoutCredentials('https://me:ghp_secret@github.com/o/r.git'), 'https://github.com/o/r.git');
  assert.equal(withoutCredentials('https://ghp_secret@github.com/o/r.git'), 'https://github.com/o/r.git');
  assert.equal(withoutCredentials('ssh://git:pw@host/r.git'), 'ssh://git@host/r.git');
  assert.equal(withoutCredentials('ssh://git@host/r.git'), 'ssh://git@host/r.git');
  assert.equal(withoutCredentials('git@github.com:o/r.git'), 'git@github.com:o/r.git');
  assert.equal(withoutCredentials('/srv/git/r.git'), '/srv/git/r.git');
});
