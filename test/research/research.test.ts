/**
 * Research runs end to end: a real daemon, real clients over WebSocket, the real provider (openai
 * SDK) and a real OpenAI-compatible server (test/fake-openai) answering as scripted researchers.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RpcRequestError } from '../../protocol/client.ts';
import { ErrorCode, ResearchRun } from '../../protocol/index.ts';
import type { ScenarioFn } from '../fake-openai/index.ts';
import { startTestDaemon } from '../helpers/daemon.ts';
import { waitFor } from '../helpers/wait.ts';
import { recordEvents } from '../helpers/events.ts';
import { gate, questionOf, requestsFor, researchScenario, startResearchDaemon, waitForFinalRun } from './helpers.ts';

describe('research runs', () => {
  it('runs three agents at the same time: their requests overlap on the server', async (t) => {
    const { server, daemon } = await startResearchDaemon(t, { fake: { latencyMs: 200 } });
    const client = await daemon.connect('cli');
    const events = recordEvents(client);
    const { run: started } = await client.request('research.start', { questions: ['What is A?', 'What is B?', 'What is C?'] });
    const run = await waitForFinalRun(events, started.id);

    assert.equal(run.status, 'done');
    assert.deepEqual(
      run.agents.map((agent) => agent.status),
      ['done', 'done', 'done'],
    );
    const agentRequests = ['What is A?', 'What is B?', 'What is C?'].map((question) => requestsFor(server, question));
    // Each agent's first request (it reads README.md first) was in flight together with the others' first.
    const firsts = agentRequests.map((requests) => requests[0]!);
    assert.equal(server.maxConcurrency(firsts), 3, 'the three agents called the model at the same time');
    assert.ok(server.maxConcurrency() >= 3);
    assert.equal(run.consolidated, 'Consolidated: What is A? / What is B? / What is C?');
  });

  it('one agent failing does not sink the others; the consolidated report says what is missing', async (t) => {
    const { server, daemon } = await startResearchDaemon(t);
    server.injectFaults(
      { kind: 'status', status: 400, message: 'this question breaks the model' },
      { match: (request) => questionOf(request) === 'Broken question?' },
    );
    const client = await daemon.connect('cli');
    const events = recordEvents(client);
    const { run: started } = await client.request('research.start', { questions: ['Good question?', 'Broken question?', 'Another one?'] });
    const run = await waitForFinalRun(events, started.id);

    assert.equal(run.status, 'done');
    const [good, broken, another] = run.agents;
    assert.equal(good?.status, 'done');
    assert.equal(another?.status, 'done');
    assert.equal(broken?.status, 'failed');
    assert.match(broken?.error ?? '', /this question breaks the model/);
    assert.match(run.consolidated ?? '', /^Consolidated: /);
    assert.match(
      run.consolidated ?? '',
      /\*\*Unanswered\*\* \(1 of 3 questions\):\n- Broken question\? — the agent failed: .*this question breaks the model/,
    );
    // The consolidation call was told about the failure too.
    const consolidation = server.modelRequests().at(-1);
    assert.match(JSON.stringify(consolidation?.body), /The agent failed: .*this question breaks the model/);
    // The failed agent's progress ended failed, with the reason.
    const end = events.find((event) => event.type === 'progress.end' && event.data.token === `research:${run.id}:${broken?.id}`);
    assert.equal(end?.type === 'progress.end' && end.data.outcome, 'failed');
    assert.match(end?.type === 'progress.end' ? (end.data.message ?? '') : '', /this question breaks the model/);
  });

  it('cancels one agent: its request is aborted, it ends cancelled, the others finish', async (t) => {
    const held = gate(t);
    const scenario: ScenarioFn = async (request) => {
      if (questionOf(request) === 'Slow question?') await held.wait;
      return researchScenario()(request);
    };
    const { server, daemon } = await startResearchDaemon(t, { fake: { scenario } });
    const client = await daemon.connect('cli');
    const events = recordEvents(client);
    const { run: started } = await client.request('research.start', { questions: ['Quick question?', 'Slow question?'] });
    await waitFor(() => requestsFor(server, 'Slow question?').length === 1, { message: 'the slow agent to call the model' });

    const { run: afterCancel } = await client.request('research.cancel', { runId: started.id, agentId: 'a2' });
    assert.equal(afterCancel.agents[1]?.status, 'cancelled', 'final when the answer comes');
    await waitFor(() => requestsFor(server, 'Slow question?')[0]?.aborted, { message: 'the slow request to be aborted' });

    const run = await waitForFinalRun(events, started.id);
    assert.equal(run.status, 'done');
    assert.deepEqual(
      run.agents.map((agent) => agent.status),
      ['done', 'cancelled'],
    );
    assert.equal(requestsFor(server, 'Slow question?').length, 1, 'no request after the cancel');
    assert.match(run.consolidated ?? '', /Slow question\? — the agent was cancelled/);
    // Nothing left running: no progress unit in a fresh snapshot.
    const late = await daemon.connect('late');
    assert.deepEqual(late.snapshot.progress, []);
  });

  it('cancels a whole run: every request aborted, every agent final, nothing left running', async (t) => {
    const held = gate(t);
    const { server, daemon } = await startResearchDaemon(t, {
      fake: {
        scenario: async () => {
          await held.wait;
          return { text: 'too late' };
        },
      },
    });
    const client = await daemon.connect('cli');
    const events = recordEvents(client);
    const { run: started } = await client.request('research.start', { questions: ['one?', 'two?', 'three?'] });
    await waitFor(() => server.modelRequests().length === 3, { message: 'three agents to call the model' });

    const { run } = await client.request('research.cancel', { runId: started.id });
    assert.equal(run.status, 'cancelled');
    assert.deepEqual(
      run.agents.map((agent) => agent.status),
      ['cancelled', 'cancelled', 'cancelled'],
    );
    await waitFor(() => server.modelRequests().every((record) => record.aborted), { message: 'every request to be aborted' });
    assert.equal(server.modelRequests().length, 3, 'no consolidation call for a cancelled run');
    assert.equal((await waitForFinalRun(events, started.id)).status, 'cancelled');
    const ends = events.flatMap((event) => (event.type === 'progress.end' ? [event.data.outcome] : []));
    assert.deepEqual(ends, ['cancelled', 'cancelled', 'cancelled', 'cancelled'], 'three agents and the run');
    const late = await daemon.connect('late');
    assert.deepEqual(late.snapshot.progress, []);
    const saved = ResearchRun.parse(JSON.parse(await readFile(path.join(daemon.repoRoot, '.ralph', 'research', `${run.id}.json`), 'utf8')));
    assert.equal(saved.status, 'cancelled');
  });

  it('saves the run: questions, reports, sources, consolidated report, usage and cost', async (t) => {
    const { daemon } = await startResearchDaemon(t, {
      fake: { scenario: researchScenario({ usage: { inputTokens: 2000, outputTokens: 300 } }) },
    });
    const client = await daemon.connect('cli');
    const events = recordEvents(client);
    const { run: started } = await client.request('research.start', { questions: ['Where is the README?', 'What does it say?'] });
    const final = await waitForFinalRun(events, started.id);

    const saved = ResearchRun.parse(
      JSON.parse(await readFile(path.join(daemon.repoRoot, '.ralph', 'research', `${started.id}.json`), 'utf8')),
    );
    assert.deepEqual(saved, final);
    assert.deepEqual(saved.questions, ['Where is the README?', 'What does it say?']);
    for (const agent of saved.agents) {
      assert.match(agent.report ?? '', /^Report on /);
      assert.deepEqual(agent.sources, [{ kind: 'file', ref: 'README.md' }]);
      assert.deepEqual(agent.usage, { inputTokens: 4000, cachedInputTokens: 0, outputTokens: 600, reasoningTokens: 0 });
      assert.ok(agent.startedAt && agent.endedAt);
    }
    assert.equal(saved.consolidated, 'Consolidated: Where is the README? / What does it say?');
    // Two calls per agent and one consolidation: 5 calls of 2000 in / 300 out, gpt-5.4-mini prices.
    assert.deepEqual(saved.usage, { inputTokens: 10_000, cachedInputTokens: 0, outputTokens: 1500, reasoningTokens: 0 });
    assert.ok(Math.abs((saved.costUsd ?? 0) - (5 * (2000 * 0.75 + 300 * 4.5)) / 1e6) < 1e-12, `cost ${saved.costUsd}`);
    assert.ok(saved.endedAt);

    assert.deepEqual((await client.request('research.get', { runId: started.id })).run, saved);
    assert.deepEqual(
      (await client.request('research.list', {})).runs.map((run) => run.id),
      [started.id],
    );
    await assert.rejects(
      client.request('research.get', { runId: '../../etc/passwd' }),
      (error: unknown) => error instanceof RpcRequestError && error.code === ErrorCode.NotFound,
    );
  });

  it("shows a late client the agents' progress units while they run", async (t) => {
    const held = gate(t);
    const scenario: ScenarioFn = async (request) => {
      // Each agent reads README.md, then waits before answering.
      if (request.pendingToolResults.length > 0) await held.wait;
      return researchScenario()(request);
    };
    const { server, daemon } = await startResearchDaemon(t, { fake: { scenario } });
    const client = await daemon.connect('cli');
    const events = recordEvents(client);
    const { run } = await client.request('research.start', { questions: ['First?', 'Second?'] });
    await waitFor(() => server.modelRequests().length === 4, { message: 'both agents to be on their second step' });

    const late = await daemon.connect('late');
    const units = late.snapshot.progress;
    assert.deepEqual(
      units.map((unit) => [unit.token, unit.kind, unit.title, unit.parent]),
      [
        [`research:${run.id}`, 'research', 'research: 2 questions', undefined],
        [`research:${run.id}:a1`, 'research-agent', 'First?', `research:${run.id}`],
        [`research:${run.id}:a2`, 'research-agent', 'Second?', `research:${run.id}`],
      ],
    );
    await waitFor(
      async () => {
        const fresh = await daemon.connect('later');
        const agents = fresh.snapshot.progress.filter((unit) => unit.kind === 'research-agent');
        return agents.every((unit) => unit.done === 2 && unit.total === 6 && (unit.tokens ?? 0) > 0);
      },
      { message: 'the snapshot to show both agents on step 2 of 6 with tokens' },
    );
    held.open();
    await waitForFinalRun(events, run.id);
  });

  it('refuses to start without a provider, saying how to configure one', async (t) => {
    const daemon = await startTestDaemon(t, undefined, { env: {}, configWatch: false });
    const client = await daemon.connect('cli');
    await assert.rejects(
      client.request('research.start', { questions: ['anything?'] }),
      (error: unknown) => error instanceof RpcRequestError && error.code === ErrorCode.Unavailable && /OPENAI_API_KEY/.test(error.message),
    );
  });
});
