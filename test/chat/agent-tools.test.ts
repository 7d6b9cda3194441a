/**
 * The chat agent's tools inside a real daemon: what the model is offered, the read-only file tools
 * refusing to leave the repository, and a research call that ends with its turn. Real clients over
 * WebSocket, the real provider against test/fake-openai.
 */
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ToolPart } from '../../protocol/index.ts';
import { makeTempDir } from '../helpers/repo.ts';
import { waitFor } from '../helpers/wait.ts';
import { recordEvents } from '../helpers/events.ts';
import { startChatDaemon, waitForReply } from './helpers.ts';

const SECRET = 'the-secret-outside-the-repository';

function toolParts(parts: readonly { type: string }[]): ToolPart[] {
  return parts.filter((part): part is ToolPart => part.type === 'tool');
}

describe('the chat agent', () => {
  it('is offered exactly the tools of DESIGN.md and knows the repository and its goals', async (t) => {
    const { server, daemon } = await startChatDaemon(t);
    const client = await daemon.connect('alice');
    const events = recordEvents(client);
    await client.request('goal.create', { title: 'Add the new models' });
    const sent = await client.request('chat.send', { text: 'hello' });
    await waitForReply(events, sent.replyMessageId);
    const [request] = server.modelRequests();
    assert.deepEqual(request?.toolNames, ['research', 'create_goal', 'list_goals', 'read_file', 'list_files', 'search_files', 'ask_human']);
    const prompt = JSON.stringify(request?.body);
    assert.match(prompt, new RegExp(path.basename(daemon.repoRoot)), 'the prompt names the repository');
    assert.match(prompt, /#1 draft: Add the new models/, 'the prompt names the current goals');
    assert.match(prompt, /## Objective.*## Reference.*## Outcomes.*## Acceptance/s, 'the prompt teaches the spec format');
  });

  it('cannot read outside the repository: ../, absolute paths and a symlink pointing out are refused by every file tool', async (t) => {
    const outside = await makeTempDir(t, 'ralph-outside-');
    await writeFile(path.join(outside, 'secret.txt'), `${SECRET}\n`);
    const { server, daemon } = await startChatDaemon(t);
    await mkdir(path.join(daemon.repoRoot, 'docs'));
    await symlink(outside, path.join(daemon.repoRoot, 'docs', 'elsewhere'));
    const escapes = [
      { name: 'read_file', arguments: { path: '../secret.txt' } },
      { name: 'read_file', arguments: { path: path.join(outside, 'secret.txt') } },
      { name: 'read_file', arguments: { path: 'docs/elsewhere/secret.txt' } },
      { name: 'list_files', arguments: { path: '..' } },
      { name: 'list_files', arguments: { path: outside } },
      { name: 'list_files', arguments: { path: 'docs/elsewhere' } },
      { name: 'search_files', arguments: { pattern: 'secret', path: '../' } },
      { name: 'search_files', arguments: { pattern: 'secret', path: outside } },
      { name: 'search_files', arguments: { pattern: 'secret', path: 'docs/elsewhere' } },
    ];
    server.script({ toolCalls: escapes }, { text: 'I could not read any of it.' });
    const client = await daemon.connect('alice');
    const events = recordEvents(client);
    const sent = await client.request('chat.send', { text: 'read the secret next door' });
    const reply = await waitForReply(events, sent.replyMessageId);
    assert.equal(reply.status, 'done', reply.error);

    const parts = toolParts(reply.parts);
    assert.deepEqual(
      parts.map((part) => [part.name, part.status]),
      escapes.map((call) => [call.name, 'error']),
    );
    for (const part of parts)
      assert.doesNotMatch(`${part.result} ${part.summary}`, new RegExp(SECRET), `${part.name} ${part.arguments} leaked`);
    // What the model read back says why, and never the secret.
    const results = server.modelRequests()[1]?.body;
    assert.doesNotMatch(JSON.stringify(results), new RegExp(SECRET));
    // The search over the whole repository does not follow the link out either.
    server.script({ toolCalls: [{ name: 'search_files', arguments: { pattern: SECRET } }] }, { text: 'nothing' });
    const again = await client.request('chat.send', { text: 'search everywhere' });
    const searched = await waitForReply(events, again.replyMessageId);
    const [search] = toolParts(searched.parts);
    assert.equal(search?.status, 'done');
    assert.match(search?.result ?? '', /^no matches/);
    assert.doesNotMatch(search?.result ?? '', /secret\.txt/);
  });

  it('interrupting the turn while its research runs cancels the run: its agents stop, nothing is left running', async (t) => {
    // The research agents stream slowly: they are still answering when the turn is interrupted.
    const { server, daemon } = await startChatDaemon(t, {
      fake: {
        scenario: (request) =>
          request.toolNames.includes('research')
            ? { toolCalls: [{ name: 'research', arguments: { questions: ['What is slow?', 'What is slower?'] } }] }
            : { text: 'still thinking '.repeat(1000), deltaDelayMs: 20 },
      },
    });
    const client = await daemon.connect('alice');
    const events = recordEvents(client);
    const sent = await client.request('chat.send', { text: 'research something slow' });

    const runId = await waitFor(
      () => {
        for (const event of events) {
          if (event.type === 'chat.part' && event.data.part.type === 'tool' && event.data.part.researchRun)
            return event.data.part.researchRun;
        }
        return undefined;
      },
      { message: 'the research call to show its run' },
    );
    const researchRequests = () => server.modelRequests().filter((record) => !record.toolNames.includes('research'));
    await waitFor(() => researchRequests().length === 2, { message: 'both research agents to be asking the model' });

    assert.deepEqual(await client.request('chat.interrupt', {}), { interrupted: true });
    const reply = await waitForReply(events, sent.replyMessageId);
    assert.equal(reply.status, 'interrupted');
    const [part] = toolParts(reply.parts);
    assert.equal(part?.name, 'research');
    assert.equal(part?.researchRun, runId, 'the transcript keeps which run the call started');

    const { run } = await client.request('research.get', { runId });
    assert.equal(run.status, 'cancelled');
    assert.deepEqual(
      run.agents.map((agent) => agent.status),
      ['cancelled', 'cancelled'],
    );
    await waitFor(() => researchRequests().every((record) => record.endedAt !== undefined), { message: 'every research request to end' });
    assert.ok(
      researchRequests().every((record) => record.aborted),
      "the agents' requests were aborted, not answered",
    );
    assert.equal(daemon.daemon.chat.snapshot().queued, 0);
  });
});
