import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import { Methods, RALPH_VERSION } from '../../../protocol/index.ts';
import { defer } from '../../../test/helpers/defer.ts';
import { makeTempDir } from '../../../test/helpers/repo.ts';
import type { AgentBackend } from '../../agent/external/backend.ts';
import { ConfigService } from '../../config/config-service.ts';
import type { DaemonServices, RequestContext } from '../context.ts';
import { agentHandlers, configAgentSettings } from './agents.ts';

const request: RequestContext = {
  client: { id: 'c1', name: 'test', connectedAt: new Date().toISOString() },
  cause: { client: 'c1', request: 1 },
};

function backend(name: string, executable: string): AgentBackend {
  return {
    name,
    displayName: `The ${name}`,
    executable,
    install: `npm install -g ${name}`,
    auth: `${name} login`,
    authEnv: [],
    versionArgs: ['--version'],
    invocation: () => ({ args: [] }),
    parser: () => () => [],
  };
}

it("agents.list answers Ralph's own agent first, then each CLI as found, and the config's default", async (t) => {
  const repo = await makeTempDir(t);
  const config = await ConfigService.start({ repoRoot: repo, watch: false, env: { OPENAI_API_KEY: 'sk-never-sent-to-a-client' } });
  defer(t, () => config.close());
  const cli = path.join(repo, 'found-cli');
  await writeFile(cli, '#!/bin/sh\necho 2.0.1\n');
  await chmod(cli, 0o755);
  const services = {
    config,
    info: { version: RALPH_VERSION, protocolVersion: 1, pid: process.pid, epoch: 'e', startedAt: new Date().toISOString() },
    repo: () => ({ root: repo, name: 'repo', branch: 'main' }),
  } satisfies Pick<DaemonServices, 'config' | 'info' | 'repo'>;
  const handlers = agentHandlers(
    services,
    {
      backends: () => [backend('found', 'found-cli'), backend('missing', 'missing-cli')],
      configuredPath: (name) => (name === 'found' ? './found-cli' : undefined),
      defaultAgent: () => 'found',
    },
    { env: { PATH: '/usr/bin:/bin' } },
  );

  const result = await handlers['agents.list']({}, request);
  Methods['agents.list'].result.parse(result);
  assert.equal(result.default, 'found');
  assert.deepEqual(
    result.agents.map((agent) => [agent.name, agent.installed, agent.version, agent.path]),
    [
      ['ralph', true, RALPH_VERSION, null],
      ['found', true, '2.0.1', cli],
      ['missing', false, null, null],
    ],
  );
  assert.match(result.agents[0]!.auth, /OPENAI_API_KEY set/);
  assert.equal(result.agents[0]!.problem, null);
  assert.equal(result.agents[2]!.problem, 'missing-cli is not installed (not on PATH): npm install -g missing');
  assert.doesNotMatch(JSON.stringify(result), /sk-never-sent/);
});

it("with the config's settings: a command as executor.agent is the default, listed after the CLIs, and never run to ask its version", async (t) => {
  const repo = await makeTempDir(t);
  const ran = path.join(repo, 'ran');
  const agentScript = path.join(repo, 'my-agent.sh');
  await writeFile(agentScript, `#!/bin/sh\ntouch '${ran}'\n`);
  await chmod(agentScript, 0o755);
  await writeFile(path.join(repo, 'ralph.config.ts'), "export default { executor: { agent: { command: ['./my-agent.sh', '--go'] } } };\n");
  const config = await ConfigService.start({ repoRoot: repo, watch: false, env: {} });
  defer(t, () => config.close());
  assert.equal(config.error, null);
  const services = {
    config,
    info: { version: RALPH_VERSION, protocolVersion: 1, pid: process.pid, epoch: 'e', startedAt: new Date().toISOString() },
    repo: () => ({ root: repo, name: 'repo', branch: 'main' }),
  } satisfies Pick<DaemonServices, 'config' | 'info' | 'repo'>;
  const handlers = agentHandlers(services, configAgentSettings(config), { env: { PATH: '/nowhere' } });

  const result = await handlers['agents.list']({}, request);
  assert.equal(result.default, 'command');
  assert.deepEqual(
    result.agents.map((agent) => [agent.name, agent.installed]),
    [
      ['ralph', true],
      ['claude', false],
      ['codex', false],
      ['opencode', false],
      ['gemini', false],
      ['command', true],
    ],
  );
  const command = result.agents.at(-1);
  assert.deepEqual([command?.displayName, command?.path, command?.version, command?.problem], ['my-agent.sh', agentScript, null, null]);
  assert.equal(existsSync(ran), false, 'the command was not run');
});
