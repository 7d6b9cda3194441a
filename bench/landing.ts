/**
 * Landing throughput on a 10,000-file repository: 20 done goals, each changing its own file, queued
 * at once and landed in sequence (each rebased onto the one before, committed, recorded, its
 * worktree removed); the time per landing with the check excluded (`executor.verify: null`).
 * Then the background cost when the branch moves: 10 done goals, one commit of the developer's, and
 * the time until every goal is rebased onto it and shown landable again.
 */
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConfigService } from '../daemon/config/config-service.ts';
import { EventBus } from '../daemon/events/bus.ts';
import { LandService } from '../daemon/pipeline/land-service.ts';
import { GoalStore } from '../daemon/store/goal-store.ts';
import { GIT_ENV, git } from '../test/helpers/repo.ts';
import { driveGoal } from '../test/pipeline/land-helpers.ts';
import { percentile, printTable, type Row } from './table.ts';

const FOLDERS = 100;
const FILES_PER_FOLDER = 100; // 10,000 files
const LANDED_GOALS = 20;
const RECHECKED_GOALS = 10;

async function buildRepo(): Promise<string> {
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'ralph-bench-land-')));
  git(root, 'init', '-q', '-b', 'main');
  for (let folder = 0; folder < FOLDERS; folder++) {
    const dir = path.join(root, `src${folder}`);
    await mkdir(dir, { recursive: true });
    await Promise.all(
      Array.from({ length: FILES_PER_FOLDER }, (_, file) => writeFile(path.join(dir, `file${file}.ts`), `export const v = ${file};\n`)),
    );
  }
  await writeFile(path.join(root, 'ralph.config.ts'), 'export default { executor: { verify: null } };\n');
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'initial');
  return root;
}

async function open(repo: string, worktreesRoot: string) {
  const bus = new EventBus();
  const store = await GoalStore.open({ repoRoot: repo, bus, watch: false });
  const config = await ConfigService.start({ repoRoot: repo, env: {}, watch: false });
  const service = new LandService({ repoRoot: repo, store, bus, config, log: () => {}, worktreesRoot, targetPollMs: 100 });
  return {
    store,
    service,
    close: async () => {
      await service.close();
      await store.close();
      await config.close();
    },
  };
}

async function doneGoals(store: GoalStore, repo: string, worktreesRoot: string, count: number, prefix: string) {
  const goals = [];
  for (let i = 0; i < count; i++) {
    const file = `src${i % FOLDERS}/${prefix}${i}.ts`;
    goals.push(
      await driveGoal(store, {
        repoRoot: repo,
        worktreesRoot,
        title: `${prefix} ${i}`,
        files: { [file]: `export const ${prefix} = ${i};\n` },
      }),
    );
  }
  return goals;
}

export async function run(): Promise<void> {
  Object.assign(process.env, GIT_ENV);
  const repo = await buildRepo();
  const worktreesRoot = await mkdtemp(path.join(os.tmpdir(), 'ralph-bench-land-worktrees-'));
  const rows: Row[] = [];
  try {
    // 1. Twenty done goals queued at once, landed one after another.
    let { store, service, close } = await open(repo, worktreesRoot);
    const goals = await doneGoals(store, repo, worktreesRoot, LANDED_GOALS, 'landed');
    await service.start();
    await service.settled(); // the background has looked at them once: what follows is the queue alone
    const started = performance.now();
    const ends: number[] = [];
    await Promise.all(goals.map(({ goal }) => service.land(goal.id).then(() => ends.push(performance.now()))));
    const per = ends.map((end, i) => end - (i === 0 ? started : ends[i - 1]!)).sort((a, b) => a - b);
    rows.push({
      what: `land ${LANDED_GOALS} goals in sequence (no check)`,
      'median ms': percentile(per, 50),
      'p90 ms': percentile(per, 90),
      'max ms': per.at(-1)!,
      'total s': (ends.at(-1)! - started) / 1000,
    });
    const count = Number(git(repo, 'rev-list', '--count', 'HEAD'));
    if (count !== LANDED_GOALS + 1) throw new Error(`expected ${LANDED_GOALS} landing commits, found ${count - 1}`);
    await close();

    // 2. The branch moves under ten done goals: each is rebased in the background and shown landable again.
    ({ store, service, close } = await open(repo, worktreesRoot));
    const waiting = await doneGoals(store, repo, worktreesRoot, RECHECKED_GOALS, 'waiting');
    await service.start();
    await service.settled();
    await writeFile(path.join(repo, 'src0', 'developer.ts'), 'export const mine = 1;\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'developer work');
    const head = git(repo, 'rev-parse', 'HEAD');
    const moved = performance.now();
    const allLandable = () =>
      waiting.every(({ goal }) => {
        const entry = service.state().goals.find((known) => known.goalId === goal.id);
        return entry?.status === 'landable' && entry.targetHead === head;
      });
    while (!allLandable()) await new Promise((resolve) => setTimeout(resolve, 10));
    const took = performance.now() - moved;
    rows.push({
      what: `${RECHECKED_GOALS} done goals rebased after the branch moved (no check)`,
      'mean ms': took / RECHECKED_GOALS,
      'total s': took / 1000,
    });
    await close();
  } finally {
    await rm(repo, { recursive: true, force: true });
    await rm(worktreesRoot, { recursive: true, force: true });
  }
  printTable(`Landing on a ${(FOLDERS * FILES_PER_FOLDER).toLocaleString('en-US')}-file repository (per goal, wall clock)`, rows);
}
