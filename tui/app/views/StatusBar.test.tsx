import assert from 'node:assert/strict';
import { test } from 'node:test';
import { render } from 'ink-testing-library';
import type { ConnectionStatus } from '../connection.ts';
import { StatusBar } from './StatusBar.tsx';

const repo = { root: '/src/ralph', name: 'ralph', branch: 'main' };

function statusLine(props: Partial<Parameters<typeof StatusBar>[0]>): string {
  const { lastFrame, unmount } = render(<StatusBar repo={repo} connection="open" clients={1} changedFiles={0} width={80} {...props} />);
  const line = (lastFrame() ?? '').split('\n')[0]?.trimEnd() ?? '';
  unmount();
  return line;
}

test('each connection state has its label', () => {
  const labels: Record<ConnectionStatus, string> = {
    open: '● connected',
    connecting: '◌ connecting…',
    reconnecting: '◌ reconnecting…',
    closed: '✗ disconnected',
  };
  for (const [connection, label] of Object.entries(labels)) {
    assert.equal(statusLine({ connection: connection as ConnectionStatus }), `ralph (main)  ${label}  1 client  no files changed`);
  }
});

test('counts read as words, and a detached head says so', () => {
  assert.equal(statusLine({ clients: 3, changedFiles: 1 }), 'ralph (main)  ● connected  3 clients  1 file changed');
  assert.equal(
    statusLine({ changedFiles: 42, repo: { ...repo, branch: null } }),
    'ralph (detached)  ● connected  1 client  42 files changed',
  );
});

test('a long repository name is cut, the connection stays whole', () => {
  const line = statusLine({ repo: { ...repo, name: 'r'.repeat(120) }, width: 60 });
  assert.ok(line.length <= 60, line);
  assert.match(line, /^r+…\s+● connected {2}1 client {2}no files changed$/);
});

test('escape sequences in a branch name are not passed to the terminal', () => {
  const line = statusLine({ repo: { ...repo, branch: 'evil\u001b[2Jbranch' } });
  assert.ok(!line.includes('\u001b'), JSON.stringify(line));
  assert.match(line, /^ralph \(evil \[2Jbranch\)/);
});
