import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { htmlToText } from './html-text.ts';

describe('htmlToText', () => {
  it('keeps headings, paragraphs, nested lists, code blocks and tables', () => {
    const { text } = htmlToText(`
      <h2>Install</h2><p>Run   the
        command:</p>
      <pre><code>npm install  ralph
  --save</code></pre>
      <ol><li>first<ul><li>nested</li></ul></li><li>second</li></ol>
      <table><tr><th>Model</th><th>Price</th></tr><tr><td>mini</td><td>$0.75</td></tr></table>
      <p>Line one<br>Line two</p>`);
    assert.equal(
      text,
      [
        '## Install',
        '',
        'Run the command:',
        '',
        '```',
        'npm install  ralph',
        '  --save',
        '```',
        '',
        '1. first',
        '   - nested',
        '2. second',
        '',
        'Model | Price',
        'mini | $0.75',
        '',
        'Line one',
        'Line two',
      ].join('\n'),
    );
  });

  it('drops scripts, styles, navigation, hidden parts and comments, even when they hold markup', () => {
    const { text, title } = htmlToText(`<html><head><title> A
      title </title><script>document.write("</nav><p>not me</p>")</script></head><body>
      <!-- <p>commented</p> --><nav><ul><li><a href="/">Home</a></li></ul><nav>inner</nav>still nav</nav>
      <div hidden><p>hidden</p><div>deeper</div></div><span aria-hidden="true">icon</span>
      <svg><text>chart</text></svg><p>Visible</p></body></html>`);
    assert.equal(title, 'A title');
    assert.equal(text, 'Visible');
  });

  it('writes links as [text](absolute url), leaving fragments and scripts as text', () => {
    const { text } = htmlToText(
      '<p><a href="../guide?x=1&amp;y=2">the guide</a>, <a href="#top">top</a>, <a href="javascript:void 0">js</a>, <a href="https://a.example/">https://a.example/</a></p>',
      'https://docs.example/v1/page',
    );
    assert.equal(text, '[the guide](https://docs.example/guide?x=1&y=2), top, js, https://a.example/');
    // Spaces at a link's edges stay outside its brackets; markup inside it is read as text.
    assert.equal(
      htmlToText('<h2><a href="/x">Linked</a></h2><p>See<a href="/y"> <b>bold</b> text </a>now.</p>', 'https://e.test/d/').text,
      '## [Linked](https://e.test/x)\n\nSee [bold text](https://e.test/y) now.',
    );
  });

  it('survives broken markup: stray <, unclosed tags and quotes holding >', () => {
    const { text } = htmlToText('<p>1 < 2 and <b>bold<p class="a>b">next <a href="x">unclosed');
    assert.equal(text, '1 < 2 and bold\n\nnext unclosed');
  });
});

describe('entities', () => {
  it('decodes named, decimal and hex references in text, titles and links; leaves unknown ones alone', () => {
    // `&not` is one of the references HTML reads without a semicolon, so `&notanentity` shows as browsers show it.
    const { text, title } = htmlToText(
      '<title>R&amp;D &mdash; notes</title><p>&lt;a&gt; &amp; &quot;q&quot; &#39;s&#x27; &mdash; &hellip; &copy 2026 &bogus; &#0; &notanentity &#x1F600;</p>',
    );
    assert.equal(title, 'R&D — notes');
    assert.equal(text, '<a> & "q" \'s\' — … © 2026 &bogus; \ufffd ¬anentity 😀');
  });
});

describe('hostile pages', () => {
  it('reads a page nested far deeper than any real one without failing', () => {
    const depth = 50_000;
    const { text } = htmlToText(`<p>top</p>${'<div>'.repeat(depth)}deep${'</div>'.repeat(depth)}<p>after</p>`);
    assert.match(text, /^top\n/);
    assert.match(text, /after$/);
  });

  it('keeps a 2 MB page of many small blocks whole (the old scanner was quadratic in the blocks)', () => {
    const blocks = 40_000;
    const html = Array.from({ length: blocks }, (_, index) => `<div><p>para ${index} <a href="/p/${index}">link</a></p></div>`).join('\n');
    assert.ok(html.length > 2_000_000);
    const { text } = htmlToText(html, 'https://example.test/');
    const paragraphs = text.split('\n\n');
    assert.equal(paragraphs.length, blocks);
    assert.equal(paragraphs.at(-1), `para ${blocks - 1} [link](https://example.test/p/${blocks - 1})`);
  });
});
