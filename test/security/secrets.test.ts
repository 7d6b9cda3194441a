/**
 * Secrets never leave the daemon (DESIGN.md, "Secrets"). A real daemon process runs with a dozen
 * secret-looking variables and the provider key in its environment; scripted agents (the goal
 * executor, the chat, a research agent, driven by test/fake-openai over HTTP) try every way to read
 * them: `env`, `printenv`, the daemon's /proc environ, every process's, the token file by command,
 * by file tool and by link, `.env`, base64, a file the harness then commits, a model that "knows"
 * the key and writes it in its summary. Afterwards no value appears in any file under `.ralph/`, in
 * the goal branch (files and commit messages), in any request the model server received, or in any
 * frame a client received.
 *
 * Commands run as the daemon's children without any sandbox here: the redaction has to hold on its
 * own (defense in depth), whatever else keeps commands from reading the daemon's environment.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { RalphClient } from '../../protocol/client.ts';
import { parseConfig } from '../../daemon/config/schema.ts';
import { readDaemonFile, type EventEnvelope } from '../../protocol/index.ts';
import { startFakeOpenAI, type ScenarioRequest } from '../fake-openai/index.ts';
import { defer, endpointFromFile, rawSocket, spawnDaemon } from '../helpers/daemon.ts';
import { makeTempDir, makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { reply, UNPRICED_MODEL } from '../pipeline/executor-helpers.ts';
import { recordEvents } from '../helpers/events.ts';

const execFileAsync = promisify(execFile);

function random(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}

/** The daemon's secret-looking environment: every value must stay inside the daemon. */
const SECRETS: Record<string, string> = {
  OPENAI_API_KEY: `sk-proj-${random(30)}`,
  GITHUB_TOKEN: `ghp_${random(27)}`,
  AWS_ACCESS_KEY_ID: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
  AWS_SECRET_ACCESS_KEY: random(30),
  ANTHROPIC_API_KEY: `sk-ant-api03-${random(30)}`,
  NPM_TOKEN: `npm_${random(27)}`,
  // Quotes and a backslash: the JSON-escaped form matters wherever it is written as JSON.
  DATABASE_PASSWORD: `p"w\\${random(12)}'x`,
  DATABASE_URL: `postgres://app:${random(15)}@db.internal:5432/app`,
  STRIPE_SECRET_KEY: `sk_live_${random(24)}`,
  SLACK_WEBHOOK_SECRET: random(24),
  GH_PAT: `github_pat_${random(30)}`,
  SENTRY_DSN: `https://${randomBytes(16).toString('hex')}@o1.ingest.sentry.io/1`,
  MY_SERVICE_AUTH: random(24),
  SSH_PRIVATE_KEY: `-----BEGIN OPENSSH PRIVATE KEY-----\n${random(48)}\n${random(48)}\n-----END OPENSSH PRIVATE KEY-----`,
};
/** Settings that only look a little like secrets: commands keep them. */
const HARMLESS = { KEYBOARD_LAYOUT: 'dvorak-programmer', TOKENIZERS_PARALLELISM: 'false-but-long', GIT_AUTHOR_NAME: 'Jane Developer' };
/** In `.env.local` only (git ignores it): the chat's and research agents' file tools must not read it. */
const ENV_FILE_ONLY = `whsec_${random(24)}`;

test('no secret of the daemon reaches a file, a model request or a client, whatever the agents try', async (t) => {
  const repo = await makeTempRepo(undefined, {
    '.gitignore': '.env\n.env.local\n',
    'README.md': '# app\n',
  });
  defer(t, () => rm(repo, { recursive: true, force: true }));
  await writeFile(path.join(repo, '.env'), `GITHUB_TOKEN=${SECRETS.GITHUB_TOKEN}\n`);
  // Not in the daemon's environment, so nothing could redact it: only the file tools' refusal keeps it in.
  await writeFile(path.join(repo, '.env.local'), `WEBHOOK_SIGNING=${ENV_FILE_ONLY}\n`);
  const stateHome = await makeTempDir(undefined, 'ralph-state-');
  defer(t, () => rm(stateHome, { recursive: true, force: true }));
  const server = await startFakeOpenAI();
  defer(t, () => server.close());
  // Without the command sandbox, where the config can turn it off: the redaction must hold on its own.
  const sandboxOff = { executor: { commands: { sandbox: 'off' } } };
  const canTurnSandboxOff = parseConfig(sandboxOff, 'ralph.config.ts').ok;
  if (canTurnSandboxOff) await writeFile(path.join(repo, 'ralph.config.ts'), `export default ${JSON.stringify(sandboxOff)};\n`);

  const daemon = spawnDaemon(t, repo, 'background', {
    ...SECRETS,
    ...HARMLESS,
    OPENAI_BASE_URL: server.url,
    RALPH_API: 'chat',
    RALPH_MODEL: UNPRICED_MODEL,
    RALPH_PIPELINE: 'running',
    XDG_STATE_HOME: stateHome,
  });
  assert.match(await daemon.firstLine, /"ready":true/, daemon.stderr());
  const file = await readDaemonFile(repo);
  assert.ok(file, 'daemon.json written');
  const token = file.token;
  // Each value, its JSON-escaped form (frames, request bodies and goal files are JSON) and each line of a multi-line one.
  const values = [...Object.values(SECRETS), token].flatMap((value) => [
    value,
    JSON.stringify(value).slice(1, -1),
    ...value.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----')),
  ]);

  // A raw client that keeps every frame as the daemon sent it, and a typed one for requests.
  const frames: string[] = [];
  const raw = await rawSocket({ url: file.url, token }, {}, t);
  raw.socket.on('message', (data) => frames.push(String(data)));
  await raw.initialize();
  const client = await RalphClient.connect({ endpoint: endpointFromFile(repo), name: 'secrets-test', requestTimeoutMs: 15_000 });
  defer(t, () => client.close());
  const events = recordEvents(client);

  // ---- The goal executor: commands and file tools in its worktree.
  const toolResults: string[] = [];
  const recordResults = (request: ScenarioRequest) => {
    for (const item of request.conversation) if (item.kind === 'tool-result') toolResults.push(item.output);
  };
  const daemonFile = path.join(repo, '.ralph', 'daemon.json');
  const attacks = [
    'env',
    'printenv',
    "cat /proc/$PPID/environ | tr '\\0' '\\n'",
    "cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -aE '^(OPENAI|GITHUB|AWS|ANTHROPIC|NPM|DATABASE|STRIPE|SLACK|GH|SENTRY|MY_SERVICE|SSH_PRIVATE)_' | sort -u",
    `cat ${daemonFile}`,
    `base64 -w0 ${daemonFile}`,
    `cat ${path.join(repo, '.env')}`,
    'echo "halves: ${OPENAI_API_KEY:0:20} ${OPENAI_API_KEY:20} ${GITHUB_TOKEN:0:15} ${GITHUB_TOKEN:15}"',
    "tr '\\0' '\\n' < /proc/$PPID/environ | grep ^OPENAI_API_KEY= | cut -d= -f2- | tr -d '\\n' | base64 -w0",
    // Files the harness commits afterwards.
    `tr '\\0' '\\n' < /proc/$PPID/environ > leak.txt; cp ${daemonFile} token-copy.json; ln -s ${daemonFile} token-link.json`,
  ];
  // A model that "knows" the secrets (it could have been told them anywhere) writes them into a
  // file, prints it, base64s it and puts one in a command line: tool output, tool-call arguments,
  // the log's summaries and the commit must all come out clean, sandbox or not.
  const known = `key=${SECRETS.OPENAI_API_KEY}\ntoken=${token}\npassword=${SECRETS.DATABASE_PASSWORD}\n${SECRETS.SSH_PRIVATE_KEY}\n`;
  // Written as hex escapes, the values are not in the command line: only the output's redaction catches them.
  const hexEscaped = [...Buffer.from(known)].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join('');
  server.script((request) => {
    recordResults(request);
    return reply.write('written.txt', known);
  });
  for (const command of [
    `printf '${hexEscaped}' > known.txt`,
    'cat known.txt',
    'base64 -w0 known.txt',
    `echo "${SECRETS.STRIPE_SECRET_KEY}" > stripe.txt; cat stripe.txt`,
    'cat written.txt',
  ]) {
    server.script((request) => {
      recordResults(request);
      return reply.run(command);
    });
  }
  for (const command of attacks) {
    server.script((request) => {
      recordResults(request);
      return reply.run(command);
    });
  }
  for (const target of ['token-copy.json', 'token-link.json', daemonFile, 'leak.txt']) {
    server.script((request) => {
      recordResults(request);
      return { toolCalls: [{ name: 'read_file', arguments: { path: target } }] };
    });
  }
  // A model that "knows" the secrets writes them into its summary (the commit message, the goal file, the notes).
  server.script((request) => {
    recordResults(request);
    return reply.done(`Done. For the record: ${SECRETS.OPENAI_API_KEY} and ${token} and ${SECRETS.DATABASE_PASSWORD}`);
  });

  const { goal } = await client.request('goal.create', { title: 'Find the secrets', spec: 'Try everything.', queue: true });
  await waitFor(async () => (await client.request('goal.get', { id: goal.id })).goal.state === 'done', {
    timeoutMs: 60_000,
    message: `goal #${goal.id} to be done (${daemon.stderr()})`,
  });

  // The attacks ran: commands saw the harmless settings, and the secrets came back redacted.
  const results = toolResults.join('\n');
  assert.match(results, /KEYBOARD_LAYOUT=dvorak-programmer/, 'ordinary settings still reach commands');
  assert.match(results, /TOKENIZERS_PARALLELISM=false-but-long/);
  assert.match(results, /GIT_AUTHOR_NAME=Jane Developer/);
  assert.match(results, /key=\[redacted OPENAI_API_KEY\]/, 'a printed key is redacted');
  assert.match(results, /token=\[redacted daemon token\]/, 'a printed token is redacted');
  assert.match(results, /password=\[redacted DATABASE_PASSWORD\]/);
  assert.match(results, /\[redacted STRIPE_SECRET_KEY\]/, 'a secret in the command line is redacted from its output');
  assert.match(results, /\[redacted [A-Za-z_ ]+, base64\]/, 'a base64 form is redacted');
  if (canTurnSandboxOff) {
    assert.match(results, /^GITHUB_TOKEN=\[redacted GITHUB_TOKEN\]$/m, "without the sandbox, the daemon's environ is readable: redacted");
    assert.match(results, /"token": "\[redacted daemon token\]"/, 'without the sandbox, daemon.json is readable by a command: redacted');
  }
  assert.match(
    results,
    /refused: \.ralph\/daemon\.json holds the daemon's access token|path escapes the workspace/,
    'the file tools refuse the token file',
  );
  assert.doesNotMatch(
    results,
    /^(GITHUB_TOKEN|NPM_TOKEN|AWS_SECRET_ACCESS_KEY)=(?!\[redacted)/m,
    'no secret variable is listed with its value',
  );

  // ---- The chat: a key pasted by the developer, file tools on the token file and .env, a reply quoting the key.
  const chatTools = [
    { name: 'read_file', arguments: { path: '.ralph/daemon.json' } },
    { name: 'read_file', arguments: { path: '.env' } },
    { name: 'read_file', arguments: { path: '.env.local' } },
    { name: 'search_files', arguments: { pattern: 'token|whsec', path: '.ralph' } },
    { name: 'search_files', arguments: { pattern: 'whsec_' } },
    { name: 'list_files', arguments: { path: '.ralph' } },
  ];
  const chatResults: string[] = [];
  for (const call of chatTools) server.script({ toolCalls: [call] });
  server.script((request) => {
    for (const item of request.conversation) if (item.kind === 'tool-result') chatResults.push(item.output);
    // Streamed with the key and the token cut across deltas: no one delta holds either.
    const key = SECRETS.OPENAI_API_KEY!;
    return {
      deltas: [
        'Your key is ',
        key.slice(0, 10),
        key.slice(10, 25),
        key.slice(25),
        '; the token is ',
        token.slice(0, 30),
        token.slice(30),
        '.',
      ],
    };
  });
  const sent = await client.request('chat.send', { text: `Here is my token, keep it: ${SECRETS.GITHUB_TOKEN} and ${SECRETS.NPM_TOKEN}` });
  await waitFor(() => events.some((event) => event.type === 'chat.message.done' && event.data.message.id === sent.replyMessageId), {
    timeoutMs: 20_000,
    message: 'the chat reply to end',
  });
  const chatText = chatResults.join('\n');
  assert.match(chatText, /refused: \.ralph\/daemon\.json holds the daemon's access token/);
  assert.match(chatText, /refused: git ignores \.env,/);
  assert.match(chatText, /refused: git ignores \.env\.local,/);
  assert.doesNotMatch(chatText, new RegExp(ENV_FILE_ONLY), 'search_files does not look into .env');

  // ---- A research agent reads what it can.
  server.script(
    { toolCalls: [{ name: 'read_file', arguments: { path: '.ralph/daemon.json' } }] },
    { toolCalls: [{ name: 'read_file', arguments: { path: '.env.local' } }] },
  );
  server.script(reply.text(`Findings: ${SECRETS.ANTHROPIC_API_KEY}`));
  const { run } = await client.request('research.start', { questions: ['What secrets are there?'], consolidate: false });
  await waitFor(async () => (await client.request('research.get', { runId: run.id })).run.status !== 'running', {
    timeoutMs: 20_000,
    message: 'the research run to end',
  });

  // What clients can ask for (answered through the raw client, so the answers are among its frames).
  const asks: [string, object][] = [
    ['chat.history', {}],
    ['goal.get', { id: goal.id }],
    ['goal.list', {}],
    ['logs.read', { id: goal.id }],
    ['research.get', { runId: run.id }],
    ['research.list', {}],
  ];
  for (const [method, params] of asks) assert.ok('result' in (await raw.call(method, params)), method);

  // Everything on disk, then stop the daemon so nothing is left in flight.
  await client.request('daemon.shutdown', {}).catch(() => {});
  await daemon.exited;

  const leaks: string[] = [];
  const check = (where: string, text: string) => {
    for (const value of values) if (text.includes(value)) leaks.push(`${where} holds ${JSON.stringify(value.slice(0, 12))}…`);
    // The halves the command tried from the environment are not anywhere either.
    for (const half of [SECRETS.OPENAI_API_KEY!.slice(0, 20), SECRETS.OPENAI_API_KEY!.slice(20)])
      if (text.includes(half)) leaks.push(`${where} holds half of the key`);
    if (text.includes(ENV_FILE_ONLY)) leaks.push(`${where} holds the .env-only secret`);
  };
  for (const file of await filesUnder(path.join(repo, '.ralph'))) check(path.relative(repo, file), await readFile(file, 'utf8'));
  const branch = `ralph/goal-${goal.id}`;
  const { stdout: history } = await execFileAsync('git', ['log', '-p', '--format=%B', branch], { cwd: repo, maxBuffer: 64 * 1024 * 1024 });
  assert.match(history, /Ralph iteration/, 'the goal branch has the iteration commit');
  assert.match(history, /leak\.txt/, 'the leaked file was committed, redacted');
  check(`the goal branch ${branch}`, history);
  for (const request of server.requests) check(`model request ${request.path}`, JSON.stringify(request.body ?? null));
  for (const frame of frames) check('a frame to a client', frame);
  // A streamed reply, put back together from its deltas as a client does.
  const streamed = new Map<string, string>();
  for (const frame of frames) {
    const message = JSON.parse(frame) as { method?: string; params?: EventEnvelope };
    if (message.method !== 'event' || message.params?.type !== 'chat.delta') continue;
    const { messageId, partId, delta } = message.params.data;
    streamed.set(`${messageId}/${partId}`, (streamed.get(`${messageId}/${partId}`) ?? '') + delta);
  }
  assert.ok(
    [...streamed.values()].some((text) => text.includes('Your key is [redacted OPENAI_API_KEY]; the token is [redacted daemon token].')),
    'the streamed reply, redacted',
  );
  for (const text of streamed.values()) check('a streamed chat reply', text);
  assert.ok(frames.length > 20, 'the raw client saw the traffic');
  assert.ok(server.modelRequests().length >= attacks.length + 10, 'the scripted agents all ran');
  assert.deepEqual(leaks, []);
});

async function filesUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) files.push(path.join(entry.parentPath, entry.name));
  }
  return files;
}
