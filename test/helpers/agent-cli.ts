/**
 * The real agent CLIs (Claude Code, Codex, OpenCode, Gemini CLI) for tests and benchmarks: each is
 * installed from npm on first use into a cache folder shared by every run on this machine
 * (`$XDG_CACHE_HOME/ralph-agents/<package>@<version>`), at a pinned version so a test never changes
 * under our feet. They are not dev dependencies: their native binaries weigh hundreds of MB and
 * only these tests need them.
 *
 * Installs are race-free without a lock: each installs into a folder of its own and renames it into
 * place; a loser of the race drops its copy and uses the winner's.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The CLIs, at the versions the tests were written against. */
export const AGENT_CLIS = {
  claude: { package: '@anthropic-ai/claude-code', version: '2.1.332', bin: 'claude' },
  codex: { package: '@openai/codex', version: '0.171.0', bin: 'codex' },
  opencode: { package: 'opencode-ai', version: '1.18.33', bin: 'opencode' },
  gemini: { package: '@google/gemini-cli', version: '0.61.0', bin: 'gemini' },
} as const;

export type AgentCliName = keyof typeof AGENT_CLIS;

export interface InstalledCli {
  /** The executable to run (a native binary, or a script with a shebang). */
  bin: string;
  /** The folder holding its `bin` (put it first on PATH to run it by name). */
  binDir: string;
  version: string;
}

export function agentCliCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'ralph-agents');
}

/** The CLI installed (once per machine) and where it is; throws with npm's last line when it cannot be installed. */
export async function installAgentCli(name: AgentCliName): Promise<InstalledCli> {
  const spec = AGENT_CLIS[name];
  const dir = path.join(agentCliCacheDir(), `${spec.package.replace('/', '+')}@${spec.version}`);
  const binDir = path.join(dir, 'node_modules', '.bin');
  const bin = path.join(binDir, spec.bin);
  if (!existsSync(bin)) {
    await mkdir(agentCliCacheDir(), { recursive: true });
    const staging = `${dir}.installing-${process.pid}-${Date.now()}`;
    await mkdir(staging, { recursive: true });
    try {
      await execFileAsync(
        'npm',
        ['install', '--prefix', staging, '--no-audit', '--no-fund', '--no-save', '--loglevel=error', `${spec.package}@${spec.version}`],
        { timeout: 10 * 60_000, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      );
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      const { stderr, message } = error as { stderr?: string; message: string };
      throw new Error(`npm install ${spec.package}@${spec.version} failed: ${(stderr || message).trim().split('\n').at(-1)}`);
    }
    try {
      await rename(staging, dir);
    } catch {
      // Another run installed it meanwhile: use theirs.
      await rm(staging, { recursive: true, force: true });
    }
    if (!existsSync(bin)) throw new Error(`${spec.package}@${spec.version} installed no \`${spec.bin}\` executable in ${binDir}`);
  }
  const manifest = path.join(dir, 'node_modules', ...spec.package.split('/'), 'package.json');
  const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
  return { bin, binDir, version };
}
