/** Research runs against test/fake-openai: a scripted researcher, a daemon pointed at it, and ways to follow a run. */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { EventEnvelope, ResearchRun } from '../../protocol/index.ts';
import { providerEnv, startFakeServer } from '../chat/helpers.ts';
import type { FakeOpenAIOptions, FakeOpenAIServer, Reply, ScenarioFn, ScenarioRequest } from '../fake-openai/index.ts';
import { defer, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { makeTempRepo } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';

/** The question a research agent's request is about (its first user message is `Question: …`). */
export function questionOf(request: ScenarioRequest): string | undefined {
  for (const item of request.conversation) {
    if (item.kind === 'message' && item.role === 'user' && item.text.startsWith('Question: ')) return item.text.slice('Question: '.length);
  }
  return undefined;
}

/** Whether the request is the consolidation call (its instructions say so). */
export function isConsolidation(request: ScenarioRequest): boolean {
  return request.conversation.some(
    (item) => item.kind === 'message' && (item.role === 'developer' || item.role === 'system') && item.text.startsWith('You consolidate'),
  );
}

export interface ResearcherScript {
  /** Tool calls made before answering, one per model call, in order (default: read README.md). */
  calls?: (question: string) => { name: string; arguments: Record<string, unknown> }[];
  /** Extra usage per call (default: the fake's estimate). */
  usage?: Reply['usage'];
}

/**
 * A researcher and consolidator: each agent makes its tool calls one per step, then answers
 * `Report on "<question>": …`; the consolidation call answers `Consolidated: …` naming each question.
 */
export function researchScenario(script: ResearcherScript = {}): ScenarioFn {
  const callsFor = script.calls ?? (() => [{ name: 'read_file', arguments: { path: 'README.md' } }]);
  return (request) => {
    const usage = script.usage ? { usage: script.usage } : {};
    if (isConsolidation(request)) {
      const questions = [...request.lastUserText.matchAll(/^## Question \d+: (.*)$/gm)].map((match) => match[1]);
      return { text: `Consolidated: ${questions.join(' / ')}`, ...usage };
    }
    const question = questionOf(request) ?? '(no question)';
    const done = request.conversation.filter((item) => item.kind === 'tool-result').length;
    const calls = callsFor(question);
    const offered = request.tools.length > 0;
    if (offered && done < calls.length) return { toolCalls: [calls[done]!], ...usage };
    return { text: `Report on "${question}": the repository's README says it is a test repo.\nNot found: nothing`, ...usage };
  };
}

/** A promise the test opens when it wants: holds scripted replies until then (opened after the test anyway). */
export function gate(t: TestContext): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  t.after(() => open());
  return { wait, open };
}

export interface ResearchSetup {
  server: FakeOpenAIServer;
  daemon: TestDaemon;
}

/** A fake server and a daemon whose research uses it, on a repository with `research` settings in ralph.config.ts. */
export async function startResearchDaemon(
  t: TestContext,
  options: { research?: Record<string, number>; fake?: FakeOpenAIOptions; api?: 'chat' | 'responses'; env?: NodeJS.ProcessEnv } = {},
): Promise<ResearchSetup> {
  const server = await startFakeServer(t, { scenario: researchScenario(), ...options.fake });
  const repoRoot = await makeTempRepo(undefined);
  defer(t, () => rm(repoRoot, { recursive: true, force: true }));
  await writeFile(
    path.join(repoRoot, 'ralph.config.ts'),
    `export default ${JSON.stringify({ research: { concurrency: 8, maxSteps: 6, ...options.research } })};\n`,
  );
  const daemon = await startTestDaemon(t, repoRoot, { env: options.env ?? providerEnv(server, options.api), configWatch: false });
  return { server, daemon };
}

/** The run as its last research.updated says, once that says it is final. */
export function waitForFinalRun(events: readonly EventEnvelope[], runId: string, timeoutMs = 10_000): Promise<ResearchRun> {
  return waitFor(
    () => {
      for (const event of events) {
        if (event.type === 'research.updated' && event.data.run.id === runId && event.data.run.status !== 'running') return event.data.run;
      }
      return undefined;
    },
    { timeoutMs, message: `research run ${runId} to end` },
  );
}

/** The model requests of one agent (by its question). */
export function requestsFor(server: FakeOpenAIServer, question: string) {
  return server.modelRequests().filter((record) => JSON.stringify(record.body).includes(`Question: ${question}`));
}
