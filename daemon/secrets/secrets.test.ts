/** The secret rules on their own: which names and values are secrets, what commands get, what the redactor matches. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { EventBus } from '../events/bus.ts';
import { HeadTailBuffer } from '../tools/text-limits.ts';
import { clip } from '../tools/tool.ts';
import type { ModelRequest, Provider, ProviderEvent } from '../llm/types.ts';
import { DaemonSecrets } from './daemon-secrets.ts';
import { commandEnvironment, looksSecretName, looksSecretValue, secretVariables } from './environment.ts';
import { redactingProvider } from './redacting-provider.ts';
import { MIN_SECRET_LENGTH, Redactor } from './redactor.ts';

test('secret-looking names: credential words as name segments, not as substrings', () => {
  const secret = [
    'GITHUB_TOKEN',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_ACCESS_KEY_ID',
    'ANTHROPIC_API_KEY',
    'NPM_TOKEN',
    'DATABASE_PASSWORD',
    'MYSQL_PASS',
    'PGPASSWORD',
    'DB_PASSWD',
    'GPG_PASSPHRASE',
    'GOOGLE_APPLICATION_CREDENTIALS',
    'STRIPE_SECRET_KEY',
    'SECRETKEY',
    'APIKEY',
    'SSH_PRIVATE_KEY',
    'PRIVATE',
    'BASIC_AUTH',
    'NPM_CONFIG__AUTH',
    'npm_config_//registry.npmjs.org/:_authToken',
    'OAUTH',
    'HTTP_AUTHORIZATION',
    'SESSION_COOKIE',
    'SENTRY_DSN',
    'GH_PAT',
    'RALPH_API_TOKEN',
    'SSH_AUTH_SOCK',
    'GIT_ASKPASS',
    'api-key',
  ];
  const ordinary = [
    'KEYBOARD',
    'XKB_DEFAULT_KEYMAP',
    'TOKENIZERS_PARALLELISM',
    'GIT_AUTHOR_NAME',
    'GIT_AUTHOR_EMAIL',
    'PWD',
    'OLDPWD',
    'PASSTHROUGH_MODE',
    'PATH',
    'HOME',
    'RALPH_MODEL',
    'OPENAI_BASE_URL',
    'DBUS_SESSION_BUS_ADDRESS',
    'AUTHOR',
    'KEYRING_BACKEND',
  ];
  for (const name of secret) assert.equal(looksSecretName(name), true, `${name} looks secret`);
  for (const name of ordinary) assert.equal(looksSecretName(name), false, `${name} is ordinary`);
  assert.equal(looksSecretValue('postgres://app:hunter2hunter2@db/app'), true);
  assert.equal(looksSecretValue('https://example.com/a:b@c'), false, 'no userinfo before the path');
  assert.equal(looksSecretValue('redis://localhost:6379'), false);
});

test('commands get every ordinary variable, no secret one, and what passEnv names', () => {
  const base = {
    PATH: '/bin',
    HOME: '/home/me',
    KEYBOARD: 'us',
    GITHUB_TOKEN: 'ghp_x',
    NPM_TOKEN: 'npm_y',
    OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    DATABASE_URL: 'postgres://a:b@host/db',
    PROVIDER_COPY: 'sk-configured-key',
    ODD_SETTING: 'hidden',
  };
  const env = commandEnvironment(base, ['sk-configured-key'], { passEnv: ['NPM_TOKEN'], hideEnv: ['ODD_SETTING'] });
  assert.deepEqual(Object.keys(env).sort(), ['HOME', 'KEYBOARD', 'NPM_TOKEN', 'PATH']);
  // The secrets the redactor knows: passed ones included (a check may print what it was given).
  const names = secretVariables(base, { hideEnv: ['ODD_SETTING'] }).map((secret) => secret.name);
  assert.deepEqual(names.sort(), ['DATABASE_URL', 'GITHUB_TOKEN', 'NPM_TOKEN', 'ODD_SETTING']);
});

test('the redactor replaces a value, its JSON, URL and base64 forms at any alignment, and the lines of a multi-line one', () => {
  const key = `sk-${randomBytes(24).toString('base64url')}`;
  const quoted = `pa"ss\\${randomBytes(6).toString('hex')} /&`;
  const pem = `-----BEGIN KEY-----\n${randomBytes(30).toString('base64')}\n-----END KEY-----`;
  const redactor = new Redactor({
    env: [
      { name: 'API_KEY', value: key },
      { name: 'DB_PASSWORD', value: quoted },
      { name: 'PEM', value: pem },
    ],
  });
  const { redact } = redactor;

  assert.equal(redact(`the key is ${key}.`), 'the key is [redacted API_KEY].');
  assert.equal(redact(JSON.stringify({ password: quoted })), '{"password":"[redacted DB_PASSWORD]"}');
  assert.equal(redact(`https://x.test/?p=${encodeURIComponent(quoted)}`), 'https://x.test/?p=[redacted DB_PASSWORD]');
  for (const prefix of ['', 'a', 'ab', 'abc', 'token: ']) {
    const encoded = Buffer.from(`${prefix}${key}\n`).toString('base64');
    const redacted = redact(encoded);
    assert.match(redacted, /\[redacted API_KEY, base64\]/, `base64 after ${JSON.stringify(prefix)}`);
    assert.ok(redacted.length < encoded.length / 2 + 30, 'all but a few characters at the edges are gone');
    assert.match(redact(encoded.replaceAll('+', '-').replaceAll('/', '_')), /\[redacted API_KEY, base64\]/, 'URL-safe base64');
  }
  const line = pem.split('\n')[1]!;
  assert.equal(redact(`-> ${line} <-`), '-> [redacted PEM] <-', 'one line of a multi-line value');
  assert.equal(redact('-----BEGIN KEY----- is a header'), '-----BEGIN KEY----- is a header', 'PEM markers are not secrets');

  const text = 'nothing to see here, a long line of ordinary output';
  assert.equal(redact(text), text);
});

test('short values are not redacted; sources are replaced as a whole; deep values are copied only where they change', () => {
  const redactor = new Redactor({
    env: [
      { name: 'FLAG_TOKEN', value: 'true' },
      { name: 'PIN_PASSWORD', value: '1234567' },
      { name: 'AUTH_MODE', value: 'disabled' },
    ],
  });
  assert.equal(redactor.redact('true 1234567 true'), 'true 1234567 true', `values under ${MIN_SECRET_LENGTH} characters stay`);
  assert.equal(redactor.redact('the cache is disabled'), 'the cache is disabled', 'a setting word is no secret');
  assert.deepEqual(redactor.values(), []);

  redactor.set('provider', [{ name: 'provider key', value: 'sk-first-key-0001' }]);
  assert.equal(redactor.redact('sk-first-key-0001'), '[redacted provider key]');
  redactor.set('provider', [{ name: 'provider key', value: 'sk-second-key-0002' }]);
  assert.equal(
    redactor.redact('sk-first-key-0001 sk-second-key-0002'),
    'sk-first-key-0001 [redacted provider key]',
    'a reload replaces the key',
  );

  const clean = { a: 'x', list: [{ b: 'y' }], when: new Date(0) };
  assert.equal(redactor.redactValue(clean), clean, 'nothing to redact: the same object');
  const dirty = { a: 'x', list: [{ b: 'key sk-second-key-0002' }, { c: 'z' }] };
  const redacted = redactor.redactValue(dirty);
  assert.deepEqual(redacted, { a: 'x', list: [{ b: 'key [redacted provider key]' }, { c: 'z' }] });
  assert.equal(redacted.list[1], dirty.list[1], 'unchanged parts are shared');
  assert.equal(dirty.list[0]!.b, 'key sk-second-key-0002', 'the input is not changed');

  // Nested deeper than the walk goes: through JSON, still redacted.
  let deep: unknown = 'sk-second-key-0002';
  for (let depth = 0; depth < 500; depth++) deep = [deep];
  assert.doesNotMatch(JSON.stringify(redactor.redactValue(deep)), /sk-second-key-0002/);
});

test('DaemonSecrets: environment, token and key; the config passes and hides variables', () => {
  const env = { GITHUB_TOKEN: 'ghp_abcdefghijkl', ODD: 'odd-value-12345', PATH: '/usr/bin:/bin' };
  const secrets = DaemonSecrets.from({ envs: [env], token: 'a'.repeat(64), providerKeys: ['sk-provider-12345', null] });
  assert.equal(secrets.redact('ghp_abcdefghijkl aaaa odd-value-12345'), '[redacted GITHUB_TOKEN] aaaa odd-value-12345');
  assert.equal(secrets.redact('a'.repeat(64)), '[redacted daemon token]');
  assert.equal(secrets.redact('sk-provider-12345'), '[redacted provider key]');
  secrets.update({
    envs: [env],
    providerKeys: ['sk-provider-12345'],
    config: { passEnv: ['GITHUB_TOKEN'], hideEnv: ['ODD'], readIgnoredFiles: true },
  });
  assert.equal(
    secrets.redact('ghp_abcdefghijkl odd-value-12345'),
    '[redacted GITHUB_TOKEN] [redacted ODD]',
    'a passed variable is still redacted',
  );
  assert.equal(secrets.redact('a'.repeat(64)), '[redacted daemon token]', 'the token stays known');
  assert.deepEqual(secrets.envRules(), { passEnv: ['GITHUB_TOKEN'], hideEnv: ['ODD'] });
  assert.equal(secrets.readIgnoredFiles(), true);
});

test('the event bus and the model request carry no secret', async () => {
  const secrets = DaemonSecrets.from({ envs: [{ NPM_TOKEN: 'npm_secretsecret1' }] });
  const bus = new EventBus(10, secrets.redactValue);
  const event = bus.publish('daemon.stopping', { reason: 'because npm_secretsecret1' });
  assert.equal(
    (event.envelope.data as { reason: string }).reason,
    'because [redacted NPM_TOKEN]',
    'the envelope (sent on resume) is redacted',
  );
  assert.doesNotMatch(event.frame, /npm_secretsecret1/);

  const seen: ModelRequest[] = [];
  const inner: Provider = {
    api: 'chat',
    // biome-ignore lint/correctness/useYield: it only records what it was asked; the test reads no reply
    async *stream(request: ModelRequest): AsyncIterable<ProviderEvent> {
      seen.push(request);
    },
  };
  const provider = redactingProvider(inner, secrets.redact);
  for await (const _ of provider.stream({
    model: 'm',
    instructions: 'notes: npm_secretsecret1',
    items: [
      { role: 'user', content: 'my token is npm_secretsecret1' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'run_command', arguments: '{"command":"echo npm_secretsecret1"}' }] },
      { role: 'tool', callId: 'c1', name: 'run_command', content: 'npm_secretsecret1' },
    ],
  }));
  assert.equal(seen.length, 1);
  assert.doesNotMatch(JSON.stringify(seen[0]), /npm_secretsecret1/);
  assert.match(seen[0]!.items[0]!.content, /my token is \[redacted NPM_TOKEN\]/);
});

test('a streamed text is redacted piece by piece, a secret split across pieces included; pieces keep their boundaries', () => {
  const key = 'sk-streamed-secret-0123456789';
  const redactor = new Redactor({ env: [{ name: 'API_KEY', value: key }] });
  const text = `Here is the key: ${key}. And some more text after it, with s and k in it: sk, s.`;
  for (const size of [1, 2, 3, 5, 7, 11, 64]) {
    const stream = redactor.stream();
    const shown: string[] = [];
    for (let at = 0; at < text.length; at += size) shown.push(stream.push(text.slice(at, at + size)));
    shown.push(stream.end());
    const joined = shown.join('');
    // At most the first 3 characters of a split secret show before its label.
    assert.match(
      joined,
      /^Here is the key: (s|sk|sk-)?\[redacted API_KEY\]\. And some more text after it, with s and k in it: sk, s\.$/,
      `pieces of ${size}: ${joined}`,
    );
  }
  const stream = redactor.stream();
  assert.equal(stream.push('plain words, nothing like it'), 'plain words, nothing like it', 'text that cannot start a secret goes at once');
  assert.equal(stream.push(' then sk'), ' then sk', 'too short an end to hold');
  assert.equal(stream.push('-stre'), '', 'sk-stre may be the key: held');
  assert.equal(stream.push('am'), '', 'still may be');
  assert.equal(stream.push('s and more'), 'sk-streams and more'.slice(2), 'let go when it cannot be');
  const split = redactor.stream();
  assert.equal(split.push(`key: ${key.slice(0, 12)}`), 'key: ', 'a start of the key of 4 characters or more is held');
  assert.equal(split.push(`${key.slice(12)}!`), '[redacted API_KEY]!');
  assert.equal(split.end(), '');
});

test('a secret cut in two where output was cut (head and tail kept, a clipped line) is redacted on both sides of the cut', () => {
  const key = `sk-${randomBytes(30).toString('hex')}`;
  const redactor = new Redactor({ env: [{ name: 'API_KEY', value: key }] });
  // One long line, the key placed across the middle of a 2 KiB cap: a head ends inside it, a tail begins inside it.
  for (const shift of [0, 5, 20, 40]) {
    const output = new HeadTailBuffer(2048);
    output.push(
      Buffer.from(`${'x'.repeat(1024 - 30 + shift)}${key}${'y'.repeat(3000)}${'z'.repeat(1024 - 30 + shift)}${key}${'w'.repeat(20)}`),
    );
    const kept = output.finish().text;
    const redacted = redactor.redact(kept);
    for (let length = 4; length <= key.length; length++) {
      for (const piece of [key.slice(0, length), key.slice(key.length - length)]) {
        assert.ok(
          !redacted.includes(piece) || /^(x|y|z|w)+$/.test(piece),
          `no ${length}-character end of the key (shift ${shift}): ${redacted.slice(900, 1200)}`,
        );
      }
    }
  }
  const clipped = redactor.redact(clip(`the key is ${key} and more`, 30));
  assert.equal(clipped, 'the key is [redacted API_KEY]…');
  assert.equal(redactor.redact('plain … text … with cuts'), 'plain … text … with cuts');
});
