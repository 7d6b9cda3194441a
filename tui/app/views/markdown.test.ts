import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inline, markdownRows } from './markdown.ts';
import { rowText } from './text.ts';

const render = (markdown: string, width = 40) => markdownRows(markdown, width).map(rowText);

describe('markdown', () => {
  test('headings, paragraphs and blank lines between blocks', () => {
    assert.deepEqual(render('# Title\nsome text\nmore text\n\n## Next'), ['Title', 'some text more text', '', 'Next']);
    const [heading] = markdownRows('# Title', 40);
    assert.deepEqual(heading, [{ text: 'Title', style: { bold: true, color: 'accent' } }]);
  });

  test('inline bold, italics, code spans and links', () => {
    assert.deepEqual(inline('a **bold** and *it* and `code` [docs](https://x.y)'), [
      { text: 'a ' },
      { text: 'bold', style: { bold: true } },
      { text: ' and ' },
      { text: 'it', style: { italic: true } },
      { text: ' and ' },
      { text: 'code', style: { color: 'code' } },
      { text: ' ' },
      { text: 'docs', style: { color: 'accent' } },
      { text: ' (https://x.y)', style: { dim: true } },
    ]);
    assert.deepEqual(inline('snake_case_name stays'), [{ text: 'snake_case_name stays' }]);
  });

  test('unclosed markers (a reply still streaming) are plain text', () => {
    assert.deepEqual(inline('so **far'), [{ text: 'so **far' }]);
    assert.deepEqual(inline('a `partial'), [{ text: 'a `partial' }]);
  });

  test('lists with bullets, numbers, nesting and hanging indents', () => {
    assert.deepEqual(render('- one\n- two is a longer item that wraps\n  - nested\n1. first', 24), [
      '• one',
      '• two is a longer item',
      '  that wraps',
      '  • nested',
      '1. first',
    ]);
  });

  test('fenced code keeps its spaces; an unclosed fence is code so far', () => {
    assert.deepEqual(render('text\n```ts\nconst a = 1;\n  indented\n```\nafter'), [
      'text',
      '╭ ts',
      '│ const a = 1;',
      '│   indented',
      'after',
    ]);
    assert.deepEqual(render('```\nstill streaming'), ['│ still streaming']);
    const code = markdownRows('```\nx\n```', 40)[0];
    assert.deepEqual(code?.[1], { text: 'x', style: { color: 'code' } });
  });

  test('quotes and rules', () => {
    assert.deepEqual(render('> quoted words\n---'), ['│ quoted words', '─'.repeat(40)]);
  });

  test('escape sequences in a reply never reach the terminal', () => {
    assert.ok(!render('evil \u001b[2J text').join('').includes('\u001b'));
  });
});
