import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { makeTempDir } from '../../test/helpers/repo.ts';
import { editorCommand, terminalEditor } from './editor.ts';
import { appendingEditor } from '../../test/helpers/tui/editor-script.ts';

test('the spec goes to a temporary file, the editor changes it, the new text comes back and the file goes', async (t) => {
  const dir = await makeTempDir(t);
  const { command, seen } = await appendingEditor(dir, '- the new outcome');
  const calls: string[] = [];
  const editor = terminalEditor({
    env: { EDITOR: command },
    stdio: 'ignore',
    suspend: () => calls.push('suspend'),
    resume: () => calls.push('resume'),
  });
  const outcome = editor.edit({ text: '## Outcomes\n', fileName: 'goal-3-spec.md' });
  assert.deepEqual(outcome, { kind: 'edited', text: '## Outcomes\n- the new outcome\n' });
  assert.deepEqual(calls, ['suspend', 'resume'], 'the terminal is given up and taken back');
  const file = readFileSync(seen, 'utf8');
  assert.match(file, /goal-3-spec\.md$/);
  assert.equal(existsSync(file), false, 'the temporary file is removed');
});

test('an editor that changes nothing, or fails, leaves the spec as it was and says why', async (t) => {
  const unchanged = terminalEditor({ env: { EDITOR: 'true' }, stdio: 'ignore' }).edit({ text: 'spec', fileName: 'g.md' });
  assert.deepEqual(unchanged, { kind: 'unchanged' });
  const failing = terminalEditor({ env: { EDITOR: 'false' }, stdio: 'ignore' }).edit({ text: 'spec', fileName: 'g.md' });
  assert.deepEqual(failing, { kind: 'failed', message: 'the editor (false) exited with code 1; the spec was not changed' });
  const dir = await makeTempDir(t);
  const missing = terminalEditor({ env: { EDITOR: `${dir}/no-such-editor` }, stdio: 'ignore' }).edit({ text: 'spec', fileName: 'g.md' });
  assert.equal(missing.kind, 'failed');
});

test('$VISUAL wins over $EDITOR; vi when neither is set', () => {
  assert.equal(editorCommand({ VISUAL: 'code --wait', EDITOR: 'nano' }), 'code --wait');
  assert.equal(editorCommand({ EDITOR: 'nano' }), 'nano');
  assert.equal(editorCommand({ EDITOR: '  ' }), 'vi');
});
