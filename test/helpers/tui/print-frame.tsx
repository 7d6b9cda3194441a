/**
 * Prints one frame of the App (a pipeline, a chat with a reply) at 80×24 and exits: run in a child
 * process by the NO_COLOR test, because color support is decided when the process starts.
 */
import { render } from 'ink-testing-library';
import { App } from '../../../tui/app/App.tsx';
import { reply, SESSION } from './chat-fixtures.ts';
import { FakeConnection } from './fake-connection.ts';
import { makeGoal, makeSnapshot } from './fixtures.ts';

const connection = new FakeConnection(
  makeSnapshot({
    goals: [makeGoal(1, 'running', 'Add a lock file'), makeGoal(2, 'stuck', 'Watch the repo')],
    chat: {
      session: SESSION,
      messages: [reply('a', [{ id: 'p', type: 'text', text: '# Title\n`code` and **bold**' }], 'done')],
      queued: 0,
      providerConfigured: false,
    },
  }),
);
const instance = render(<App connection={connection} />);
Object.defineProperty(instance.stdout, 'columns', { value: 80, configurable: true });
instance.stdout.emit('resize');
setTimeout(() => {
  instance.stdin.write('\t'); // the chat: replies, the provider hint
  setTimeout(() => {
    process.stdout.write(`${instance.frames.at(1) ?? ''}\n=====\n${instance.lastFrame() ?? ''}\n`);
    instance.unmount();
    process.exit(0);
  }, 100);
}, 100);
