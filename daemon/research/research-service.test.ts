/**
 * The research service on its own (no daemon): a real bus, real files, the real provider against
 * test/fake-openai, and fetch_url against a local page (allowed through the test option).
 */
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { ResearchRun, type EventEnvelope } from '../../protocol/index.ts';
import { offersWebSearch, startFakeOpenAIForTest } from '../../test/fake-openai/index.ts';
import type { FakeOpenAIServer, ScenarioFn } from '../../test/fake-openai/index.ts';
import { makeTempRepo } from '../../test/helpers/repo.ts';
import { waitFor } from '../../test/helpers/wait.ts';
import { gate, questionOf, researchScenario } from '../../test/research/helpers.ts';
import type { ResolvedProvider } from '../config/config-service.ts';
import { UnavailableError } from '../errors.ts';
import { EventBus } from '../events/bus.ts';
import { ModelTable } from '../llm/models.ts';
import { createProvider } from '../llm/provider.ts';
import { BUDGET_SPENT } from './prompts.ts';
import { ResearchAgentRun } from './research-agent.ts';
import { ResearchService, type ResearchLimits } from './research-service.ts';
import { DAEMON_STOPPED } from './run-store.ts';
import { defer } from '../../test/helpers/defer.ts';

const MODEL = 'gpt-5.4-mini';

interface Setup {
  service: ResearchService;
  events: EventEnvelope[];
  repoRoot: string;
  logs: string[];
  limits: ResearchLimits;
}

async function openService(
  t: TestContext,
  server: FakeOpenAIServer | null,
  options: { limits?: Partial<ResearchLimits>; repoRoot?: string; allowHosts?: string[] } = {},
): Promise<Setup> {
  const repoRoot = options.repoRoot ?? (await makeTempRepo(t, { 'NOTES.md': 'The answer is 42.\n' }));
  const bus = new EventBus();
  const events: EventEnvelope[] = [];
  bus.subscribe(({ envelope }) => events.push(envelope));
  const logs: string[] = [];
  const limits: ResearchLimits = { concurrency: 4, maxSteps: 6, timeoutSeconds: 60, ...options.limits };
  const provider: ResolvedProvider = server
    ? { model: MODEL, api: 'chat', baseURL: server.url, apiKey: 'test-key', configured: true }
    : { model: MODEL, api: 'chat', baseURL: null, apiKey: null, configured: false };
  const service = await ResearchService.open({
    repoRoot,
    bus,
    settings: { provider: () => provider, models: () => new ModelTable(), research: () => limits },
    // No SDK retries: a failing request fails at once.
    createProvider: (settings) => createProvider({ ...settings, maxRetries: 0 }),
    log: (line) => logs.push(line),
    ...(options.allowHosts ? { fetch: { allowHosts: options.allowHosts } } : {}),
  });
  defer(t, () => service.close());
  return { service, events, repoRoot, logs, limits };
}

async function servePage(t: TestContext, body: string): Promise<{ url: string; host: string }> {
  // Slow enough that the throttled progress shows the fetch (reports go out at most every 100 ms).
  const server = http.createServer((_req, res) => setTimeout(() => res.writeHead(200, { 'Content-Type': 'text/html' }).end(body), 300));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(t, () => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/release-notes`, host: `127.0.0.1:${port}` };
}

describe('ResearchService', () => {
  it('runs one agent per question and saves reports with their sources, the consolidated report, usage and cost', async (t) => {
    const page = await servePage(t, '<title>Release notes</title><p>Version 2 is out.</p>');
    const server = await startFakeOpenAIForTest(t, {
      scenario: researchScenario({
        calls: (question) =>
          question.includes('web')
            ? [{ name: 'fetch_url', arguments: { url: page.url } }]
            : [
                { name: 'read_file', arguments: { path: 'NOTES.md' } },
                { name: 'search_files', arguments: { pattern: 'answer' } },
              ],
        usage: { inputTokens: 1000, outputTokens: 100 },
      }),
    });
    const { service, events, repoRoot } = await openService(t, server, { allowHosts: [page.host] });

    const started = await service.start({ questions: ['What do the notes say?', 'What does the web say?'] });
    assert.equal(started.status, 'running');
    assert.match(started.id, /^r-\d{8}-\d{6}-[0-9a-f]{4}$/);
    assert.deepEqual(
      started.agents.map((agent) => [agent.id, agent.status]),
      [
        ['a1', 'running'],
        ['a2', 'running'],
      ],
      'both started: there are free slots',
    );
    const run = await service.wait(started.id);

    assert.equal(run.status, 'done');
    const [notes, web] = run.agents;
    assert.equal(notes?.status, 'done');
    assert.match(notes?.report ?? '', /^Report on "What do the notes say\?"/);
    assert.deepEqual(notes?.sources, [{ kind: 'file', ref: 'NOTES.md' }]);
    assert.equal(notes?.step, 3, 'two tool steps, then the answer');
    assert.deepEqual(web?.sources, [{ kind: 'url', ref: page.url, title: 'Release notes' }]);
    assert.equal(run.consolidated, 'Consolidated: What do the notes say? / What does the web say?');

    // 3 + 2 agent calls and the consolidation, each 1000 in / 100 out at $0.75 / $4.50 per million.
    assert.deepEqual(run.usage, { inputTokens: 6000, cachedInputTokens: 0, outputTokens: 600, reasoningTokens: 0 });
    assert.ok(Math.abs((run.costUsd ?? 0) - (6 * (1000 * 0.75 + 100 * 4.5)) / 1e6) < 1e-12, `cost ${run.costUsd}`);
    assert.deepEqual(notes?.usage, { inputTokens: 3000, cachedInputTokens: 0, outputTokens: 300, reasoningTokens: 0 });

    // On disk: the same run, valid against the protocol's schema.
    const saved = ResearchRun.parse(JSON.parse(await readFile(path.join(repoRoot, '.ralph', 'research', `${run.id}.json`), 'utf8')));
    assert.deepEqual(saved, run);
    assert.deepEqual(await service.get(run.id), run);
    assert.deepEqual(
      (await service.list()).map((each) => each.id),
      [run.id],
    );

    // Progress: the run and each agent began and ended; agents name what they did.
    const begins = events.flatMap((event) => (event.type === 'progress.begin' ? [event.data] : []));
    assert.deepEqual(
      begins.map((begin) => [begin.token, begin.kind, begin.parent]),
      [
        [`research:${run.id}`, 'research', undefined],
        [`research:${run.id}:a1`, 'research-agent', `research:${run.id}`],
        [`research:${run.id}:a2`, 'research-agent', `research:${run.id}`],
      ],
    );
    assert.equal(begins[1]?.title, 'What do the notes say?');
    assert.equal(begins[1]?.total, 6);
    const ends = events.flatMap((event) => (event.type === 'progress.end' ? [[event.data.token, event.data.outcome]] : []));
    assert.deepEqual(
      ends.sort(),
      [
        [`research:${run.id}`, 'done'],
        [`research:${run.id}:a1`, 'done'],
        [`research:${run.id}:a2`, 'done'],
      ].sort(),
    );
    const messages = events.flatMap((event) =>
      event.type === 'progress.report' && event.data.token.endsWith(':a2') && event.data.message ? [event.data.message] : [],
    );
    assert.ok(messages.includes(`fetching ${page.url}`), `a2 said: ${messages.join(', ')}`);
    const reports = events.filter((event) => event.type === 'progress.report' && event.data.token.endsWith(':a1'));
    assert.ok(
      reports.some((event) => event.type === 'progress.report' && event.data.tokens === 3300),
      'tokens so far are reported',
    );
    // research.updated: at the start, as each agent ended, at the end.
    const updates = events.flatMap((event) => (event.type === 'research.updated' ? [event.data.run.status] : []));
    assert.deepEqual(updates, ['running', 'running', 'running', 'done']);
  });

  it('keeps the last step for the report when the step budget runs out', async (t) => {
    const server = await startFakeOpenAIForTest(t, {
      // A researcher that never stops looking.
      scenario: researchScenario({ calls: () => Array.from({ length: 50 }, () => ({ name: 'list_files', arguments: {} })) }),
    });
    const { service } = await openService(t, server, { limits: { maxSteps: 3 } });
    const run = await service.wait((await service.start({ questions: ['Endless?'], consolidate: false })).id);
    assert.equal(run.agents[0]?.status, 'done');
    assert.equal(run.agents[0]?.step, 3);
    assert.match(run.agents[0]?.report ?? '', /^Report on "Endless\?"/);
    const requests = server.modelRequests();
    assert.equal(requests.length, 3);
    assert.deepEqual(
      requests.map((record) => record.toolNames.length > 0),
      [true, true, false],
      'the last call offers no tools',
    );
    assert.ok(JSON.stringify(requests[2]?.body).includes(BUDGET_SPENT.slice(0, 30)));
    assert.equal(run.consolidated, undefined, 'consolidate: false leaves it to the caller');
    const saved = await service.setConsolidated(run.id, 'The chat wrote this.');
    assert.equal(saved.consolidated, 'The chat wrote this.');
    assert.equal((await service.get(run.id))?.consolidated, 'The chat wrote this.');
  });

  it('runs at most `concurrency` agents at once; the others wait queued', async (t) => {
    const server = await startFakeOpenAIForTest(t, { scenario: researchScenario({ calls: () => [] }), latencyMs: 150 });
    const { service, events } = await openService(t, server, { limits: { concurrency: 2 } });
    const run = await service.wait((await service.start({ questions: ['q1', 'q2', 'q3', 'q4'], consolidate: false })).id);
    assert.equal(run.status, 'done');
    assert.equal(server.maxConcurrency(), 2);
    const queued = events.filter((event) => event.type === 'progress.report' && event.data.message === 'queued');
    assert.equal(queued.length, 4, 'every agent is shown queued before it starts');
  });

  it('fails an agent that runs out of time, keeping its partial findings; the others finish', async (t) => {
    const slow = gate(t);
    const scenario: ScenarioFn = async (request) => {
      const question = questionOf(request) ?? '';
      if (question === 'slow' && request.tools.length > 0 && request.pendingToolResults.length === 0) {
        return { text: 'Partial: I looked at the README.', toolCalls: [{ name: 'list_files', arguments: {} }] };
      }
      if (question === 'slow') await slow.wait;
      return researchScenario({ calls: () => [] })(request);
    };
    const server = await startFakeOpenAIForTest(t, { scenario });
    const { service } = await openService(t, server, { limits: { timeoutSeconds: 0.5 } });
    const run = await service.wait((await service.start({ questions: ['slow', 'fast'] })).id);
    const [slowAgent, fastAgent] = run.agents;
    assert.equal(slowAgent?.status, 'failed');
    assert.equal(slowAgent?.error, 'timed out after 0.5 s');
    assert.equal(slowAgent?.report, 'Partial: I looked at the README.');
    assert.equal(fastAgent?.status, 'done');
    assert.equal(run.status, 'done');
    assert.match(run.consolidated ?? '', /\*\*Unanswered\*\* \(1 of 2 questions\):\n- slow — the agent failed: timed out after 0\.5 s/);
    await waitFor(() => server.modelRequests().some((record) => record.aborted), { message: 'the slow request to be aborted' });
  });

  it('writes the consolidated report without a model when every agent failed', async (t) => {
    const server = await startFakeOpenAIForTest(t, { scenario: researchScenario() });
    server.injectFaults({ kind: 'status', status: 400, message: 'this model cannot research' });
    const { service } = await openService(t, server);
    const run = await service.wait((await service.start({ questions: ['a?', 'b?'] })).id);
    assert.equal(run.status, 'failed');
    assert.deepEqual(
      run.agents.map((agent) => agent.status),
      ['failed', 'failed'],
    );
    assert.match(run.agents[0]?.error ?? '', /this model cannot research/);
    assert.equal(server.modelRequests().length, 2, 'no consolidation call');
    assert.match(run.consolidated ?? '', /^_No agent finished its report\._/);
    assert.match(run.consolidated ?? '', /## 1\. a\?\n\nNot answered: the agent failed: .*this model cannot research/);
    assert.match(run.consolidated ?? '', /\*\*Unanswered\*\* \(2 of 2 questions\)/);
  });

  it('refuses to start without a provider, saying how to configure one', async (t) => {
    const { service } = await openService(t, null);
    await assert.rejects(
      service.start({ questions: ['anything'] }),
      (error: unknown) => error instanceof UnavailableError && /OPENAI_API_KEY.*OPENAI_BASE_URL/.test(error.message),
    );
    assert.deepEqual(await service.list(), []);
  });

  it('marks runs a stopped daemon left running as failed, and leaves files that do not parse alone', async (t) => {
    const repoRoot = await makeTempRepo(t);
    const dir = path.join(repoRoot, '.ralph', 'research');
    await mkdir(dir, { recursive: true });
    const usage = { inputTokens: 10, cachedInputTokens: 0, outputTokens: 5, reasoningTokens: 0 };
    const agent = (id: string, status: 'done' | 'running' | 'queued') => ({
      id,
      question: `question ${id}`,
      status,
      step: status === 'done' ? 2 : 1,
      maxSteps: 6,
      sources: [],
      usage,
      costUsd: 0.001,
      ...(status === 'done' ? { report: `report ${id}` } : {}),
    });
    const left: ResearchRun = {
      id: 'r-20260101-120000-abcd',
      questions: ['question a1', 'question a2', 'question a3'],
      status: 'running',
      agents: [agent('a1', 'done'), agent('a2', 'running'), agent('a3', 'queued')],
      createdAt: '2026-01-01T12:00:00.000Z',
      usage,
      costUsd: 0.001,
    };
    await writeFile(path.join(dir, `${left.id}.json`), JSON.stringify(left));
    const broken = '{ "id": "r-20260101-110000-0000", "status": "running", ';
    await writeFile(path.join(dir, 'r-20260101-110000-0000.json'), broken);

    const { service, logs } = await openService(t, null, { repoRoot });
    const recovered = await service.get(left.id);
    assert.equal(recovered?.status, 'failed');
    assert.deepEqual(
      recovered?.agents.map((each) => [each.status, each.error]),
      [
        ['done', undefined],
        ['failed', DAEMON_STOPPED],
        ['failed', DAEMON_STOPPED],
      ],
    );
    assert.ok(recovered?.endedAt);
    assert.match(recovered?.consolidated ?? '', /report a1/);
    assert.equal(await readFile(path.join(dir, 'r-20260101-110000-0000.json'), 'utf8'), broken, 'never overwritten');
    assert.ok(
      logs.some((line) => /r-20260101-110000-0000\.json is not valid JSON/.test(line)),
      logs.join('\n'),
    );
    assert.deepEqual(
      (await service.list()).map((run) => run.id),
      [left.id],
    );
  });

  it('close() cancels what runs and saves it', async (t) => {
    const held = gate(t);
    const server = await startFakeOpenAIForTest(t, {
      scenario: async () => {
        await held.wait;
        return { text: 'late' };
      },
    });
    const { service, repoRoot } = await openService(t, server);
    const started = await service.start({ questions: ['q'] });
    await waitFor(() => server.modelRequests().length === 1, { message: 'the agent to call the model' });
    await service.close();
    const saved = ResearchRun.parse(JSON.parse(await readFile(path.join(repoRoot, '.ralph', 'research', `${started.id}.json`), 'utf8')));
    assert.equal(saved.status, 'cancelled');
    assert.equal(saved.agents[0]?.status, 'cancelled');
    assert.equal(saved.agents[0]?.error, DAEMON_STOPPED);
    await waitFor(() => server.modelRequests()[0]?.aborted, { message: 'the request to be aborted' });
    await assert.rejects(service.start({ questions: ['more'] }), /stopping/);
  });

  it('reports provider waits scoped to the agent', async (t) => {
    const server = await startFakeOpenAIForTest(t, { scenario: researchScenario({ calls: () => [] }) });
    server.injectFaults({ kind: '429', retryAfterMs: 10 }, { times: 1, match: (request) => questionOf(request) === 'limited?' });
    const repoRoot = await makeTempRepo(t);
    const bus = new EventBus();
    const events: EventEnvelope[] = [];
    bus.subscribe(({ envelope }) => events.push(envelope));
    const service = await ResearchService.open({
      repoRoot,
      bus,
      settings: {
        provider: () => ({ model: MODEL, api: 'chat', baseURL: server.url, apiKey: 'test-key', configured: true }),
        models: () => new ModelTable(),
        research: () => ({ concurrency: 2, maxSteps: 3, timeoutSeconds: 60 }),
      },
      createProvider: (settings) => createProvider({ ...settings, maxRetries: 1 }),
      log: () => {},
    });
    defer(t, () => service.close());
    const run = await service.wait((await service.start({ questions: ['fine?', 'limited?'], consolidate: false })).id);
    assert.deepEqual(
      run.agents.map((agent) => agent.status),
      ['done', 'done'],
      'the retry succeeded',
    );
    const waits = events.flatMap((event) => (event.type === 'provider.wait' ? [event.data] : []));
    assert.deepEqual(
      waits.map((wait) => [wait.scope, wait.reason, wait.attempt]),
      [[{ agent: `${run.id}:a2` }, 'rate-limit', 2]],
    );
  });
});

describe('ResearchAgentRun', () => {
  it('searches the web on the Responses API and keeps the citations as sources', async (t) => {
    const server = await startFakeOpenAIForTest(t, { scenario: 'web-search' });
    const repoRoot = await makeTempRepo(t);
    const activities: string[] = [];
    const steps: number[] = [];
    const agent = new ResearchAgentRun({
      question: 'what changed in the API?',
      provider: createProvider({ api: 'responses', apiKey: 'test-key', baseURL: server.url, maxRetries: 0 }),
      model: MODEL,
      models: new ModelTable(),
      repoRoot,
      maxSteps: 4,
      webSearch: true,
      signal: new AbortController().signal,
      listener: { step: (step) => steps.push(step), activity: (what) => activities.push(what), usage: () => {}, wait: () => {} },
    });
    const report = await agent.run();
    assert.match(report, /^I searched the web for "Question: what changed in the API\?"/);
    assert.deepEqual(agent.sources, [
      { kind: 'url', ref: 'https://example.com/guide', title: 'Example Guide' },
      { kind: 'url', ref: 'https://example.org/reference', title: 'Example Reference' },
    ]);
    assert.deepEqual(steps, [1]);
    assert.ok(activities.includes('searching the web for Question: what changed in the API?'), activities.join(', '));
    const request = server.modelRequests()[0]!;
    assert.ok(request.toolNames.includes('web_search') && request.toolNames.includes('fetch_url'), request.toolNames.join(', '));
  });

  it('offers no web search on Chat Completions', async (t) => {
    const server = await startFakeOpenAIForTest(t, {
      scenario: (request) => ({ text: offersWebSearch(request) ? 'searched' : 'no search offered' }),
    });
    const agent = new ResearchAgentRun({
      question: 'q',
      provider: createProvider({ api: 'chat', apiKey: 'test-key', baseURL: server.url, maxRetries: 0 }),
      model: MODEL,
      models: new ModelTable(),
      repoRoot: await makeTempRepo(t),
      maxSteps: 4,
      webSearch: false,
      signal: new AbortController().signal,
      listener: { step: () => {}, activity: () => {}, usage: () => {}, wait: () => {} },
    });
    assert.equal(await agent.run(), 'no search offered');
    assert.deepEqual(server.modelRequests()[0]?.toolNames, ['read_file', 'list_files', 'search_files', 'fetch_url']);
  });
});
