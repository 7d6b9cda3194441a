import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanText, jsonForTerminal, oneLine, stripControls, terminalSafe } from './terminal-text.ts';

const ESC = '\u001b';
const BEL = '\u0007';
/** What a hostile goal title, log line or reply carries: retitle, clear, clipboard write, cursor moves, 8-bit CSI. */
const HOSTILE = `a${ESC}]0;pwned${BEL}b${ESC}[2Jc${ESC}]52;c;SGVsbG8=${BEL}d${ESC}[5Ae\u009b2Jf\rg\bh`;

describe('terminal text', () => {
  it('oneLine and cleanText leave no control character', () => {
    assert.doesNotMatch(oneLine(HOSTILE), /[\u0000-\u001f\u007f-\u009f]/);
    assert.doesNotMatch(cleanText(`${HOSTILE}\nnext`), /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    assert.equal(cleanText('x\r\ny'), 'x\ny');
  });

  it('stripControls keeps newlines and tabs, and is safe on text split anywhere', () => {
    assert.equal(stripControls('a\tb\nc\r\n'), 'a\tb\nc\n');
    for (let cut = 0; cut <= HOSTILE.length; cut++) {
      const pieces = stripControls(HOSTILE.slice(0, cut)) + stripControls(HOSTILE.slice(cut));
      assert.doesNotMatch(pieces, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, `cut at ${cut}`);
    }
  });

  it("terminalSafe keeps Ralph's own styles and nothing else", () => {
    const bold = `${ESC}[1mtitle${ESC}[22m`;
    const red = `${ESC}[31mfailed${ESC}[39m`;
    assert.equal(terminalSafe(`${bold} ${red}`), `${bold} ${red}`);
    assert.equal(terminalSafe(`${ESC}[0m${ESC}[m`), `${ESC}[0m${ESC}[m`);
    // Conceal (8), blink (5), backgrounds and 256 colors are not Ralph's: a hostile text could hide lines with them.
    for (const sgr of ['8', '5', '41', '38;5;1', '1;8']) assert.equal(terminalSafe(`x${ESC}[${sgr}my`), 'xy');
    const safe = terminalSafe(HOSTILE);
    assert.doesNotMatch(safe, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    assert.equal(safe, 'a]0;pwnedb[2Jc]52;c;SGVsbG8=d[5Ae2Jfgh');
  });

  it('jsonForTerminal escapes C1 controls and DEL and keeps the value', () => {
    const value = { title: HOSTILE, del: '\u007f' };
    const json = jsonForTerminal(JSON.stringify(value));
    assert.doesNotMatch(json, /[\u0000-\u001f\u007f-\u009f]/);
    assert.deepEqual(JSON.parse(json), value);
  });
});
