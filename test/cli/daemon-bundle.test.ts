/**
 * The daemon a command starts runs from the bundle (about half the start-up of the sources through
 * tsx), and from the sources when they are asked for. Its config, a TypeScript file, still loads.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { RalphClient } from '../../protocol/client.ts';
import { readDaemonFile } from '../../protocol/index.ts';
import { endpointFromFile } from '../helpers/daemon.ts';
import { cliEnv, killDaemon, ralph, succeeded } from '../helpers/cli.ts';
import { makeTempRepo } from '../helpers/repo.ts';

function commandLineOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

for (const [label, extra, expected] of [
  ['from the bundle', {}, /[\\/]tui[\\/]\.build[\\/]daemon-[A-Z0-9]+\.js$/],
  ['from source with RALPH_FROM_SOURCE=1', { RALPH_FROM_SOURCE: '1' }, /[\\/]daemon[\\/]main\.ts$/],
] as const) {
  test(`the daemon a command starts runs ${label}, and loads the repository's ralph.config.ts`, {
    skip: process.platform !== 'linux' && 'reads /proc',
  }, async (t) => {
    const repo = await makeTempRepo(undefined, {
      'ralph.config.ts': 'export default { executor: { maxIterations: 7 } } satisfies object;\n',
    });
    t.after(async () => {
      await killDaemon(repo);
      await rm(repo, { recursive: true, force: true });
    });
    const env = cliEnv({ RALPH_PIPELINE: 'paused', ...extra });
    assert.equal(succeeded(await ralph(['goal', 'add', '--title', 'Started', '--repo', repo], { cwd: repo, env })), '1\n');
    const file = await readDaemonFile(repo);
    assert.ok(file);
    const args = commandLineOf(file.pid);
    const entry = args[args.indexOf('--repo') - 1] ?? '';
    assert.match(entry, expected);
    // From the bundle, with V8's compile cache on before the bundle loads (tui/bin/compile-cache.js).
    if (!('RALPH_FROM_SOURCE' in extra))
      assert.match(args[args.indexOf('--import') + 1] ?? '', /^file:.*[\\/]tui[\\/]bin[\\/]compile-cache\.js$/);
    // The config (TypeScript, loaded through tsx, which stays outside the bundle) is in force.
    const client = await RalphClient.connect({ endpoint: endpointFromFile(repo), name: 'test', reconnect: false });
    t.after(() => client.close());
    assert.equal(client.snapshot.settings.maxIterations, 7);
    assert.match(succeeded(await ralph(['goal', 'list', '--repo', repo], { cwd: repo, env })), /#1\s+draft\s+Started/);
  });
}
