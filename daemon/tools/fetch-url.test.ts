import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { addressRefusal, fetchPage, fetchUrlTool, FetchRefusedError, type FetchUrlOptions } from './fetch-url.ts';
import { runTool } from './tool.ts';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

interface TestServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** `127.0.0.1:PORT`, for allowHosts. */
  host: string;
  /** Paths requested, in order. */
  hits: string[];
}

/** A real HTTP server on 127.0.0.1 serving `routes`, closed after the test. */
async function serve(t: TestContext, routes: Record<string, Handler>): Promise<TestServer> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (route) route(req, res);
    else res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, hits };
}

const html =
  (body: string): Handler =>
  (_req, res) =>
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(body);
const redirect =
  (location: string, status = 302): Handler =>
  (_req, res) =>
    res.writeHead(status, { Location: location }).end();

async function refusal(url: string, options: FetchUrlOptions = {}): Promise<string> {
  try {
    await fetchPage(url, options);
  } catch (error) {
    assert.ok(error instanceof FetchRefusedError, `expected a refusal, got ${String(error)}`);
    return error.message;
  }
  assert.fail(`${url} was fetched`);
}

describe('fetch_url refuses what is not the public internet', () => {
  it('refuses loopback, link-local (metadata) and IPv6 loopback addresses by default', async () => {
    assert.match(await refusal('http://127.0.0.1/'), /127\.0\.0\.1 is a loopback address/);
    assert.match(await refusal('http://169.254.169.254/latest/meta-data/'), /169\.254\.169\.254 is a link-local address/);
    assert.match(await refusal('http://[::1]:8080/'), /::1 is a loopback address/);
    // Other spellings of 127.0.0.1 are normalized by the URL parser and refused the same way.
    assert.match(await refusal('http://2130706433/'), /127\.0\.0\.1 is a loopback address/);
    assert.match(await refusal('http://0x7f.0.0.1/'), /loopback/);
    assert.match(await refusal('http://[::ffff:127.0.0.1]/'), /loopback/);
    assert.match(await refusal('http://10.0.0.5/'), /private/);
  });

  it('refuses a name that resolves to loopback (checked after DNS)', async () => {
    assert.match(await refusal('http://localhost:9/'), /localhost resolves to (127\.0\.0\.1|::1)/);
  });

  it('refuses a running server on 127.0.0.1 unless its exact host:port is allowed', async (t) => {
    const site = await serve(t, { '/': html('<p>hello</p>') });
    assert.match(await refusal(`${site.origin}/`), /loopback/);
    assert.deepEqual(site.hits, [], 'no connection was made');
    const page = await fetchPage(`${site.origin}/`, { allowHosts: [site.host] });
    assert.equal(page.text, 'hello');
  });

  it('refuses a redirect from an allowed server to a refused address, without connecting to it', async (t) => {
    const inner = await serve(t, { '/secret': html('<p>internal</p>') });
    const site = await serve(t, {
      '/to-loopback': redirect(`${inner.origin}/secret`),
      '/to-metadata': redirect('http://169.254.169.254/latest/meta-data/', 301),
      '/to-localhost': redirect(`http://localhost:${inner.host.split(':')[1]}/secret`, 307),
    });
    const allowHosts = [site.host];
    assert.match(await refusal(`${site.origin}/to-loopback`, { allowHosts }), /127\.0\.0\.1 is a loopback address/);
    assert.match(await refusal(`${site.origin}/to-metadata`, { allowHosts }), /169\.254\.169\.254 is a link-local address/);
    assert.match(await refusal(`${site.origin}/to-localhost`, { allowHosts }), /localhost resolves to/);
    assert.deepEqual(inner.hits, [], 'the refused server was never reached');
    assert.deepEqual(site.hits, ['/to-loopback', '/to-metadata', '/to-localhost']);
  });

  it('connects to the address the name was resolved to and checked (an allowed name, here)', async (t) => {
    const site = await serve(t, { '/': html('<p>by name</p>') });
    const port = site.host.split(':')[1]!;
    // Where localhost also resolves to ::1, serve there too (on the same port, if it is free).
    const v6 = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<p>by name</p>'));
    await new Promise<void>((resolve) => v6.once('error', () => resolve()).listen(Number(port), '::1', resolve));
    t.after(() => new Promise<void>((resolve) => (v6.listening ? v6.close(() => resolve()) : resolve())));
    const page = await fetchPage(`http://localhost:${port}/`, { allowHosts: [`localhost:${port}`] });
    assert.equal(page.text, 'by name');
    assert.equal(page.finalUrl, `http://localhost:${port}/`);
  });

  it('refuses other schemes and URLs with credentials', async () => {
    assert.match(await refusal('file:///etc/passwd'), /only http and https URLs are fetched, not file/);
    assert.match(await refusal('ftp://example.com/x'), /not ftp/);
    assert.match(await refusal('javascript:alert(1)'), /not javascript/);
    assert.match(await refusal('not a url'), /not an absolute URL/);
    assert.match(await refusal('http://user:pw@example.com/'), /user name or password/);
  });

  it('judges addresses: public ones pass, special ones are named', () => {
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '93.184.216.34',
      '2606:4700:4700::1111',
      '2a00:1450:4001:80b::200e',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
    ]) {
      assert.equal(addressRefusal(address), null, address);
    }
    const refused: [string, RegExp][] = [
      ['0.0.0.0', /unspecified/],
      ['10.1.2.3', /private/],
      ['172.16.0.1', /private/],
      ['172.31.255.255', /private/],
      ['192.168.1.1', /private/],
      ['100.64.0.1', /carrier-grade/],
      ['127.8.9.10', /loopback/],
      ['169.254.169.254', /link-local/],
      ['224.0.0.1', /multicast/],
      ['255.255.255.255', /broadcast/],
      ['::', /unspecified/],
      ['::1', /loopback/],
      ['fe80::1%eth0', /link-local/],
      ['fc00::1', /unique local/],
      ['fd12:3456::1', /unique local/],
      ['ff02::1', /multicast/],
      ['::ffff:7f00:1', /loopback/],
      ['::ffff:169.254.169.254', /link-local/],
      ['64:ff9b::a9fe:a9fe', /link-local/],
      ['2002:7f00:1::1', /loopback/],
      ['2001:db8::1', /documentation/],
      ['100::1', /not global unicast/],
    ];
    for (const [address, why] of refused) assert.match(addressRefusal(address) ?? 'allowed', why, address);
    assert.equal(addressRefusal('172.32.0.1'), null, 'just outside 172.16/12');
  });
});

describe('fetch_url reads pages', () => {
  it('reduces HTML to readable text with the title, and follows an allowed redirect', async (t) => {
    const page = `<!doctype html><html><head><title>Release &amp; notes</title><style>body{color:red}</style>
      <script>var secret = "do not show";</script></head>
      <body><nav><a href="/home">Home</a> | <a href="/about">About</a></nav>
      <main><h1>What changed</h1><p>The new model is <b>faster</b> and&nbsp;cheaper.</p>
      <ul><li>Context: 400k tokens</li><li>See <a href="/pricing">the pricing page</a></li></ul></main>
      <footer>© 2026</footer></body></html>`;
    const site = await serve(t, { '/old': redirect('/notes', 301), '/notes': html(page) });
    const result = await fetchPage(`${site.origin}/old`, { allowHosts: [site.host] });
    assert.equal(result.finalUrl, `${site.origin}/notes`);
    assert.equal(result.title, 'Release & notes');
    assert.equal(
      result.text,
      [
        '# What changed',
        '',
        'The new model is faster and cheaper.',
        '',
        '- Context: 400k tokens',
        `- See [the pricing page](${site.origin}/pricing)`,
        '',
        '© 2026',
      ].join('\n'),
    );
    assert.doesNotMatch(result.text, /secret|color:red|Home|About/);
  });

  it('as a tool: the page with its URL and title, and the page reported to onFetched', async (t) => {
    const site = await serve(t, { '/doc': html('<title>Doc</title><p>Body text</p>') });
    const fetched: string[] = [];
    const activity: string[] = [];
    const tool = fetchUrlTool({ allowHosts: [site.host], onFetched: (page) => fetched.push(`${page.finalUrl} ${page.title}`) });
    const ctx = { root: '/', signal: new AbortController().signal, onActivity: (what: string) => activity.push(what) };
    const result = await runTool(tool, JSON.stringify({ url: `${site.origin}/doc` }), ctx);
    assert.equal(result.isError, undefined);
    assert.match(result.output, new RegExp(`^URL: ${site.origin}/doc\nTitle: Doc\nContent-Type: text/html\n\nBody text$`));
    assert.deepEqual(fetched, [`${site.origin}/doc Doc`]);
    assert.deepEqual(activity, [`fetching ${site.origin}/doc`]);

    const refused = await runTool(tool, JSON.stringify({ url: 'http://169.254.169.254/' }), ctx);
    assert.equal(refused.isError, true);
    assert.match(refused.output, /link-local/);
    assert.equal(fetched.length, 1, 'a refused fetch is no source');
  });

  it('caps the bytes read and the text returned, and says so', async (t) => {
    const line = 'All work and no play makes Jack a dull boy.\n';
    const big = line.repeat(Math.ceil((3 * 1024 * 1024) / line.length));
    const site = await serve(t, { '/big.txt': (_req, res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end(big) });
    const page = await fetchPage(`${site.origin}/big.txt`, { allowHosts: [site.host] });
    assert.equal(page.bodyTruncated, true);
    assert.equal(page.bytesRead, 2 * 1024 * 1024);
    assert.equal(page.text.length, 40_000);
    assert.equal(page.textChars, 2 * 1024 * 1024);

    const tool = fetchUrlTool({ allowHosts: [site.host] });
    const result = await runTool(tool, JSON.stringify({ url: `${site.origin}/big.txt` }), {
      root: '/',
      signal: new AbortController().signal,
    });
    assert.match(
      result.output,
      /\[truncated: only the first 2 MiB of the page were read; the text was cut to 40000 of its 2097152 characters\]$/,
    );
    assert.ok(result.output.length < 40_500);
  });

  it('reads gzip-compressed JSON, and refuses binary content types', async (t) => {
    const site = await serve(t, {
      '/data.json': (_req, res) =>
        res
          .writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' })
          .end(gzipSync(JSON.stringify({ models: ['a', 'b'] }))),
      '/logo.png': (_req, res) => res.writeHead(200, { 'Content-Type': 'image/png' }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0])),
      '/gone': (_req, res) => res.writeHead(410, { 'Content-Type': 'text/plain' }).end('gone'),
    });
    const allowHosts = [site.host];
    const json = await fetchPage(`${site.origin}/data.json`, { allowHosts });
    assert.deepEqual(JSON.parse(json.text), { models: ['a', 'b'] });
    assert.match(await refusal(`${site.origin}/logo.png`, { allowHosts }), /image\/png: only text, HTML and JSON are read/);
    assert.match(await refusal(`${site.origin}/gone`, { allowHosts }), /HTTP 410/);
  });

  it('gives up on a redirect loop and on a server that never answers', async (t) => {
    const site = await serve(t, {
      '/loop': redirect('/loop'),
      '/silent': () => {}, // never answers
    });
    const allowHosts = [site.host];
    assert.match(await refusal(`${site.origin}/loop`, { allowHosts }), /more than 5 redirects/);
    assert.equal(site.hits.length, 6);
    assert.match(await refusal(`${site.origin}/silent`, { allowHosts, timeoutMs: 200 }), /no complete answer within 0\.2 s/);
  });

  it('stops when the agent is cancelled', async (t) => {
    const site = await serve(t, { '/silent': () => {} });
    const controller = new AbortController();
    const tool = fetchUrlTool({ allowHosts: [site.host] });
    const running = runTool(tool, JSON.stringify({ url: `${site.origin}/silent` }), { root: '/', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const result = await running;
    assert.equal(result.isError, true);
    assert.match(result.output, /cancelled/);
  });
});
