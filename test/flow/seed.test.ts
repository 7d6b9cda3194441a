/**
 * The seed flow end to end: a developer asks the chat to research with a team of agents,
 * three research agents run at once, the chat model consolidates their reports (streamed to every
 * client), "make it a goal" writes a draft goal linked to the run and the session, every attached
 * client sees it, and one of them queues it. Real daemon, real clients over WebSocket, the real
 * provider against test/fake-openai answering as scripted below.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Goal, ResearchRun, SPEC_SECTIONS, type ChatMessage, type EventEnvelope } from '../../protocol/index.ts';
import type { ScenarioFn, ScenarioRequest } from '../fake-openai/index.ts';
import { deltasOf, startChatDaemon, textOf, waitForReply } from '../chat/helpers.ts';
import { recordEvents } from '../helpers/events.ts';
import { waitFor } from '../helpers/wait.ts';

const ASK = 'new models shipped, use a team of agents to research what we need to change';
const QUESTIONS = [
  'Which new OpenAI models shipped, with their ids, context windows and prices?',
  'Where does this repository list models and their prices?',
  'Which code paths depend on a model id or its capabilities?',
];
/** What each research agent reports (it reads README.md first, so the file is one of its sources). */
const REPORTS = QUESTIONS.map((_, index) => `Finding ${index + 1}: see README.md, section ${index + 1}.`);
const CONSOLIDATED_DELTAS = [
  'Three agents',
  ' reported: ',
  REPORTS.map((_, i) => `finding ${i + 1}`).join(', '),
  '. Want me to prepare the goal now?',
];
const MAKE_IT = 'make it a goal';
const SPEC = [
  '## Objective',
  'Ralph knows the newly shipped models.',
  '## Reference',
  '- README.md',
  '## Outcomes',
  '- every new model has a row in the model table',
  '## Acceptance',
  '- `ralph models` lists the new models with their prices',
  '',
].join('\n');
const TITLE = 'Support the newly shipped models';

/** The chat model asks for research, consolidates, then writes the goal; each research agent reads a file and reports. */
const seedScenario: ScenarioFn = (request) => (request.toolNames.includes('research') ? chatModel(request) : researchAgent(request));

function chatModel(request: ScenarioRequest) {
  const result = request.pendingToolResults[0];
  if (request.lastUserText === ASK) {
    if (!result) return { toolCalls: [{ name: 'research', arguments: { questions: QUESTIONS } }] };
    // Consolidate only what really came back: every agent's report must be in the tool result.
    for (const report of REPORTS)
      if (!result.output.includes(report)) throw new Error(`the research result lacks "${report}": ${result.output}`);
    return { deltas: CONSOLIDATED_DELTAS, deltaDelayMs: 2 };
  }
  if (request.lastUserText === MAKE_IT) {
    if (!result) return { toolCalls: [{ name: 'create_goal', arguments: { title: TITLE, spec: SPEC } }] };
    const { id, state } = JSON.parse(result.output) as { id: number; state: string };
    return { text: `Goal #${id} is a ${state}: queue it when you are ready.` };
  }
  throw new Error(`unexpected chat message: ${request.lastUserText}`);
}

function researchAgent(request: ScenarioRequest) {
  const index = QUESTIONS.findIndex((question) => request.lastUserText.includes(question));
  if (index < 0) throw new Error(`a research request for no known question: ${request.lastUserText}`);
  if (request.pendingToolResults.length === 0) return { toolCalls: [{ name: 'read_file', arguments: { path: 'README.md' } }] };
  return { text: REPORTS[index] };
}

function goalEvents(events: readonly EventEnvelope[], type: 'goal.created' | 'goal.updated'): Goal[] {
  return events.flatMap((event) => (event.type === type ? [event.data.goal] : []));
}

for (const api of ['chat', 'responses'] as const) {
  describe(`the seed flow (RALPH_API=${api})`, () => {
    it('chat → three research agents at once → consolidated reply → "make it a goal" → a draft on disk every client sees, queued from another', async (t) => {
      // Every model request waits a little before answering, so agents running in parallel overlap visibly.
      const { server, daemon } = await startChatDaemon(t, { api, fake: { scenario: seedScenario, latencyMs: 150 } });
      const alice = await daemon.connect('alice');
      const bob = await daemon.connect('bob');
      const aliceEvents = recordEvents(alice);
      const bobEvents = recordEvents(bob);
      const session = alice.snapshot.chat.session;

      // 1. The ask: the chat model calls research with three questions.
      const asked = await alice.request('chat.send', { text: ASK });
      const [consolidated, bobsCopy] = await Promise.all([
        waitForReply(aliceEvents, asked.replyMessageId, 30_000),
        waitForReply(bobEvents, asked.replyMessageId, 30_000),
      ]);
      assert.equal(consolidated.status, 'done', consolidated.error);
      assert.deepEqual(bobsCopy, consolidated, 'both clients end with the same reply');

      // The reply: the research call (showing its run), then the consolidated answer, streamed to both clients.
      const [toolPart, textPart] = consolidated.parts;
      assert.ok(toolPart?.type === 'tool' && textPart?.type === 'text', JSON.stringify(consolidated.parts));
      assert.equal(toolPart.name, 'research');
      assert.equal(toolPart.status, 'done', toolPart.result);
      assert.equal(toolPart.summary, `research ${toolPart.researchRun}: 3 agents: 3 done`);
      const runId = toolPart.researchRun;
      assert.ok(runId, 'the tool part names its research run');
      assert.equal(textPart.text, CONSOLIDATED_DELTAS.join(''));
      assert.deepEqual(deltasOf(aliceEvents, consolidated.id), CONSOLIDATED_DELTAS);
      assert.deepEqual(deltasOf(bobEvents, consolidated.id), CONSOLIDATED_DELTAS);
      // Bob saw the call start with the run id while it ran, so a client can draw the agents' bars inline.
      const bobsToolParts = bobEvents.flatMap((event) =>
        event.type === 'chat.part' && event.data.part.type === 'tool' ? [event.data.part] : [],
      );
      assert.ok(
        bobsToolParts.some((part) => part.status === 'running' && part.researchRun === runId),
        'a running research part with its run id',
      );
      const agentUnits = bobEvents.filter((event) => event.type === 'progress.begin' && event.data.kind === 'research-agent');
      assert.equal(agentUnits.length, 3, 'one progress unit per research agent');

      // Three research agents ran at the same time: their requests overlap in the server's log.
      const researchRequests = server.modelRequests().filter((record) => !record.toolNames.includes('research'));
      assert.equal(researchRequests.length, 6, 'each agent: one call that read a file, one that reported');
      assert.equal(server.maxConcurrency(researchRequests), 3, 'the three agents were in flight at once');

      // The run on disk: the three reports with their sources, linked to the session, and the chat's consolidated answer.
      const run = await waitFor(
        async () => {
          const saved = ResearchRun.parse(
            JSON.parse(await readFile(path.join(daemon.repoRoot, '.ralph', 'research', `${runId}.json`), 'utf8')),
          );
          return saved.consolidated !== undefined && saved;
        },
        { message: 'the run file to hold the consolidated answer' },
      );
      assert.equal(run.status, 'done');
      assert.equal(run.session, session);
      assert.deepEqual(run.questions, QUESTIONS);
      assert.deepEqual(
        run.agents.map((agent) => [agent.question, agent.status, agent.report]),
        QUESTIONS.map((question, i) => [question, 'done', REPORTS[i]]),
      );
      for (const agent of run.agents)
        assert.ok(
          agent.sources.some((source) => source.ref === 'README.md'),
          `sources of ${agent.id}: ${JSON.stringify(agent.sources)}`,
        );
      assert.equal(run.consolidated, CONSOLIDATED_DELTAS.join(''));

      // 2. "make it a goal": the chat model calls create_goal; the goal is a draft on disk, linked.
      const made = await bob.request('chat.send', { text: MAKE_IT });
      const confirmation = await waitForReply(aliceEvents, made.replyMessageId, 30_000);
      assert.equal(confirmation.status, 'done', confirmation.error);
      const createPart = confirmation.parts.find((part) => part.type === 'tool');
      assert.ok(createPart?.type === 'tool');
      assert.equal(createPart.name, 'create_goal');
      assert.equal(createPart.summary, `created goal #1 (draft): ${TITLE}`);
      assert.equal(textOf(confirmation), 'Goal #1 is a draft: queue it when you are ready.');

      const goal = Goal.parse(JSON.parse(await readFile(path.join(daemon.repoRoot, '.ralph', 'goals', '1.json'), 'utf8')));
      assert.equal(goal.title, TITLE);
      assert.equal(goal.state, 'draft');
      for (const section of SPEC_SECTIONS) assert.match(goal.spec, new RegExp(`^## ${section}$`, 'm'));
      assert.deepEqual(goal.links, { research: runId, chat: session });

      // Both attached clients saw it appear.
      for (const events of [aliceEvents, bobEvents]) {
        const created = await waitFor(() => goalEvents(events, 'goal.created')[0], { message: 'goal.created' });
        assert.equal(created.id, 1);
        assert.deepEqual(created.links, { research: runId, chat: session });
      }

      // 3. Bob queues the draft in one action; Alice sees it queued.
      await bob.request('goal.queue', { id: 1 });
      const queued = await waitFor(
        () => goalEvents(aliceEvents, 'goal.updated').find((updated) => updated.id === 1 && updated.state === 'queued'),
        {
          message: 'Alice to see goal #1 queued',
        },
      );
      assert.equal(queued.title, TITLE);

      // The conversation holds both exchanges, each answered.
      const history = await alice.request('chat.history', {});
      assert.deepEqual(
        history.messages.map((message: ChatMessage) => [message.role, message.status]),
        [
          ['user', 'done'],
          ['assistant', 'done'],
          ['user', 'done'],
          ['assistant', 'done'],
        ],
      );
    });
  });
}
