/** `npm run bench`: every benchmark in turn, each printing its table. `npm run bench -- NAME` runs one. */
const benchmarks: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  'event-fanout': () => import('./event-fanout.ts'),
  'repo-watcher': () => import('./repo-watcher.ts'),
  provider: () => import('./provider.ts'),
  sse: () => import('./sse.ts'),
  'html-text': () => import('./html-text.ts'),
  'shell-parsers': () => import('./shell-parsers.ts'),
  'chat-latency': () => import('./chat-latency.ts'),
  research: () => import('./research.ts'),
  harness: () => import('./harness.ts'),
  tui: () => import('./tui.ts'),
  agents: () => import('./agents.ts'),
  landing: () => import('./landing.ts'),
  queue: () => import('./queue.ts'),
};

const only = process.argv.slice(2);
for (const [name, load] of Object.entries(benchmarks)) {
  if (only.length && !only.includes(name)) continue;
  const { run } = await load();
  await run();
}
