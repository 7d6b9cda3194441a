import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALERT_BODY_MAX,
  ALERT_TITLE_MAX,
  alertField,
  alertSequence,
  alertTerminal,
  tmuxPassthrough,
  type AlertTerminal,
} from './terminal-alert.ts';

const ESC = '\u001b';
const BEL = '\u0007';
const BOTH: AlertTerminal = { tmux: false, desktop: ['osc9', 'osc777'] };
const done = { title: '#3 done: Fix the parser', body: 'the check passes', bell: true, desktop: true };

/** Every control character, C1 included, and DEL. */
const CONTROLS = [...Array(0x20).keys(), ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i)].map((code) => String.fromCharCode(code));

describe('terminal alerts', () => {
  it('rings the bell, then asks for a desktop notification in OSC 9 and OSC 777', () => {
    assert.equal(
      alertSequence(done, BOTH),
      `${BEL}${ESC}]9;#3 done: Fix the parser: the check passes${BEL}${ESC}]777;notify;#3 done: Fix the parser;the check passes${BEL}`,
    );
  });

  it('writes only what the settings ask for', () => {
    assert.equal(alertSequence({ ...done, desktop: false }, BOTH), BEL);
    assert.ok(alertSequence({ ...done, bell: false }, BOTH).startsWith(`${ESC}]9;`), 'no bell first');
    assert.equal(alertSequence({ ...done, bell: false, desktop: false }, BOTH), '');
  });

  it('inside tmux, wraps each notification for its passthrough with every ESC doubled, and leaves the bell to tmux', () => {
    const sequence = alertSequence(done, { tmux: true, desktop: ['osc9', 'osc777'] });
    assert.equal(
      sequence,
      `${BEL}${ESC}Ptmux;${ESC}${ESC}]9;#3 done: Fix the parser: the check passes${BEL}${ESC}\\` +
        `${ESC}Ptmux;${ESC}${ESC}]777;notify;#3 done: Fix the parser;the check passes${BEL}${ESC}\\`,
    );
    assert.equal(tmuxPassthrough(`${ESC}]9;a${ESC}\\`), `${ESC}Ptmux;${ESC}${ESC}]9;a${ESC}${ESC}\\${ESC}\\`);
  });

  it('knows the terminals that would show a notification twice, and tmux from $TMUX', () => {
    assert.deepEqual(alertTerminal({}), { tmux: false, desktop: ['osc9', 'osc777'] });
    assert.deepEqual(alertTerminal({ TERM_PROGRAM: 'iTerm.app' }).desktop, ['osc9']);
    assert.deepEqual(alertTerminal({ TERM_PROGRAM: 'WezTerm' }).desktop, ['osc777']);
    assert.deepEqual(alertTerminal({ TERM_PROGRAM: 'ghostty' }).desktop, ['osc777']);
    // Behind tmux the outer terminal is unknown: both.
    assert.deepEqual(alertTerminal({ TMUX: '/tmp/tmux-1000/default,123,0', TERM_PROGRAM: 'iTerm.app' }), {
      tmux: true,
      desktop: ['osc9', 'osc777'],
    });
    assert.deepEqual(alertTerminal({ TMUX: '' }).tmux, false);
  });

  it('keeps a hostile title from driving the terminal: no control character, ESC, BEL or field separator gets through', () => {
    const hostile = `evil${ESC}]52;c;aGFjaw==${BEL}${ESC}[2J${ESC}P+q${ESC}\\\u009b31m\u009d0;x\u009c;9;4;1${CONTROLS.join('')}end`;
    for (const terminal of [BOTH, { tmux: true, desktop: ['osc9', 'osc777'] } satisfies AlertTerminal]) {
      const sequence = alertSequence({ title: hostile, body: hostile, bell: false, desktop: true }, terminal);
      // Take our own framing away; what is left is the text, which must be inert.
      const unwrapped = terminal.tmux
        ? sequence
            .replaceAll(`${ESC}Ptmux;`, '')
            .replaceAll(`${ESC}\\`, '')
            .replaceAll(ESC + ESC, ESC)
        : sequence;
      const fields = unwrapped.split(BEL).filter(Boolean);
      assert.equal(fields.length, 2, JSON.stringify(unwrapped));
      const [osc9, osc777] = fields as [string, string];
      assert.ok(osc9.startsWith(`${ESC}]9;`) && osc777.startsWith(`${ESC}]777;notify;`));
      const text9 = osc9.slice(`${ESC}]9;`.length);
      const parts777 = osc777.slice(`${ESC}]777;notify;`.length).split(';');
      assert.equal(parts777.length, 2, 'title and body: no extra field');
      for (const text of [text9, ...parts777]) {
        assert.doesNotMatch(text, /[\u0000-\u001f\u007f-\u009f;]/, JSON.stringify(text));
        assert.match(text, /^evil /);
      }
    }
  });

  it('clips long text, never between the halves of a character', () => {
    const long = '😀'.repeat(500);
    const title = alertField(long, ALERT_TITLE_MAX);
    assert.ok(title.length <= ALERT_TITLE_MAX && title.endsWith('…'));
    assert.doesNotMatch(title, /[\ud800-\udbff]…$/, 'no lone high surrogate before the ellipsis');
    const sequence = alertSequence({ title: long, body: long, bell: false, desktop: true }, { tmux: false, desktop: ['osc777'] });
    assert.ok(sequence.length < ALERT_TITLE_MAX + ALERT_BODY_MAX + 20, String(sequence.length));
    assert.equal(alertField(' \n\t ', 10), '');
    assert.ok(alertSequence({ title: '\n', body: '', bell: false, desktop: true }, BOTH).startsWith(`${ESC}]9;Ralph${BEL}`));
  });
});
