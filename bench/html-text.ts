/**
 * fetch_url's HTML reduction (daemon/tools/html-text.ts) on generated documentation pages of growing
 * size, up to the 2 MB fetch_url reads: the time must grow with the page, not with its square.
 */
import { performance } from 'node:perf_hooks';
import { htmlToText } from '../daemon/tools/html-text.ts';
import { printTable, type Row } from './table.ts';

const RUNS = 3;

/** A page of `sections` documentation sections: headings, paragraphs, nested lists, tables, code, hidden parts, scripts. */
export function documentationPage(sections: number): string {
  const parts = [
    '<!doctype html><html><head><meta charset="utf-8"><title>Big &amp; real-ish</title>',
    '<style>body{font:14px sans-serif} .x>a{color:red}</style>',
    '<script>window.dataLayer=[];var s="</div><p>x</p>";</script></head><body>',
    `<header><nav><ul>${Array.from({ length: 30 }, (_, i) => `<li><a href="/n/${i}">Nav ${i}</a></li>`).join('')}</ul></nav></header><main>`,
  ];
  for (let s = 0; s < sections; s++) {
    parts.push(`<section id="s${s}"><h2>Section ${s} &mdash; about things</h2>`);
    parts.push(
      `<p>Paragraph ${s} with <b>bold</b>, <i>italic</i>, <code>inline()</code> and a <a href="../ref/${s}?a=1&amp;b=2">relative link</a>. ` +
        'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore &hellip; caf&eacute; &#8212; &#x1F600;.</p>',
    );
    parts.push(
      `<ul>${Array.from({ length: 5 }, (_, i) => `<li>Item ${i} <span class="tag">t</span><ul><li>sub ${i}</li></ul></li>`).join('')}</ul>`,
    );
    parts.push(
      `<table><thead><tr><th>Name</th><th>Value</th><th>Notes</th></tr></thead><tbody>${Array.from(
        { length: 6 },
        (_, i) => `<tr><td>row${i}</td><td>${i * 3.5}</td><td>note &lt;${i}&gt;</td></tr>`,
      ).join('')}</tbody></table>`,
    );
    parts.push(`<pre><code>function f${s}(x: number) {\n  return x &lt; 2 ? x : f${s}(x - 1);\n}</code></pre>`);
    parts.push(`<div hidden><p>hidden ${s}</p></div><button>Copy</button><svg viewBox="0 0 1 1"><path d="M0 0"/></svg>`);
    parts.push(
      `<div class="card"><div><span>Wrapped</span> <span>spans</span> <img src="/i/${s}.png" alt="figure ${s}"></div></div></section>`,
    );
  }
  parts.push('</main><footer><p>&copy; 2026 Example</p></footer></body></html>');
  return parts.join('\n');
}

export async function run(): Promise<void> {
  const rows: Row[] = [];
  for (const sections of [100, 400, 1300]) {
    const html = documentationPage(sections);
    let text = htmlToText(html, 'https://docs.example/a/b').text; // warm-up
    const start = performance.now();
    for (let index = 0; index < RUNS; index++) text = htmlToText(html, 'https://docs.example/a/b').text;
    const ms = (performance.now() - start) / RUNS;
    rows.push({
      'page KB': Math.round(html.length / 1000),
      'text KB': Math.round(text.length / 1000),
      ms,
      'MB/s': html.length / 1e6 / (ms / 1000),
    });
  }
  printTable(`HTML reduction (html-text.ts): generated documentation pages, mean of ${RUNS} runs`, rows);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
