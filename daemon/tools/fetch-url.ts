/**
 * `fetch_url {url}`: a web page as text, for the research agents (DESIGN.md, "Agent tools").
 *
 * An agent's URL comes from a model, which may have read it on a hostile page, so the daemon's own
 * network is off limits: only http(s), and never to a loopback, private, link-local (the cloud
 * metadata address included), multicast or otherwise special address. The check runs after DNS on
 * every address a name resolves to, and the connection goes to the very address that was checked
 * (a `lookup` that hands the socket that address), so a name that resolves differently a moment
 * later (DNS rebinding) cannot slip past. Redirects are followed by hand, each hop checked again.
 *
 * Caps: time, bytes read, and characters handed to the model. Only text and JSON are read; HTML is
 * reduced to readable text (html-text.ts).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { z } from 'zod';
import { looksBinary } from './text-limits.ts';
import { htmlToText } from './html-text.ts';
import { formatBytes, messageOf } from '../../protocol/index.ts';
import { defineTool, errorResult, type Tool, type ToolResult } from './tool.ts';

export const FETCH_DEFAULTS = {
  /** The whole fetch, redirects included. */
  timeoutMs: 15_000,
  /** Body bytes read at most (after decompression); the rest of a bigger page is not read. */
  maxBytes: 2 * 1024 * 1024,
  /** Characters of text handed to the model. */
  maxTextChars: 40_000,
  maxRedirects: 5,
};

export interface FetchUrlOptions {
  /**
   * Exact `host:port` pairs fetched even though their address is refused (tests serve pages from
   * 127.0.0.1). Only those: a redirect from one of them to any other refused address is still refused.
   */
  allowHosts?: readonly string[];
  timeoutMs?: number;
  maxBytes?: number;
  maxTextChars?: number;
  maxRedirects?: number;
  /** Told of every page fetched (the research agent keeps them as its sources). */
  onFetched?: (page: FetchedPage) => void;
}

export interface FetchedPage {
  /** The URL asked for. */
  url: string;
  /** Where the page was found, after redirects. */
  finalUrl: string;
  status: number;
  contentType: string;
  title?: string;
  /** The page's text: reduced from HTML, or as sent; cut to `maxTextChars`. */
  text: string;
  /** Characters of text before the cut. */
  textChars: number;
  /** Body bytes read (after decompression). */
  bytesRead: number;
  /** The body was bigger than `maxBytes`; only that much was read. */
  bodyTruncated: boolean;
}

/** A URL the tool will not fetch, or a response it will not read: the message says why. */
export class FetchRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FetchRefusedError';
  }
}

export function fetchUrlTool(options: FetchUrlOptions = {}): Tool {
  return defineTool({
    name: 'fetch_url',
    description:
      'Fetch a web page (http or https) and read it as text: HTML is reduced to its readable text with links as [text](url); ' +
      `JSON and plain text come as sent. At most ${(options.maxTextChars ?? FETCH_DEFAULTS.maxTextChars).toLocaleString('en-US')} characters of text. ` +
      'Local and private network addresses are refused.',
    parameters: z.object({ url: z.string().min(1).describe('The absolute http:// or https:// URL to fetch') }),
    async execute({ url }, ctx): Promise<ToolResult> {
      ctx.onActivity?.(`fetching ${url}`);
      try {
        const page = await fetchPage(url, { ...options, signal: ctx.signal });
        options.onFetched?.(page);
        return {
          output: formatPage(page),
          summary: `fetched ${page.finalUrl} (${page.textChars.toLocaleString('en-US')} characters of text)`,
        };
      } catch (error) {
        if (ctx.signal.aborted) return errorResult('fetch_url: cancelled');
        return errorResult(`fetch_url ${url}: ${messageOf(error)}`);
      }
    },
  });
}

function formatPage(page: FetchedPage): string {
  const head = [`URL: ${page.finalUrl}${page.finalUrl !== page.url ? ` (redirected from ${page.url})` : ''}`];
  if (page.title) head.push(`Title: ${page.title}`);
  head.push(`Content-Type: ${page.contentType}`);
  const notes: string[] = [];
  if (page.bodyTruncated) notes.push(`only the first ${formatBytes(page.bytesRead)} of the page were read`);
  if (page.text.length < page.textChars) notes.push(`the text was cut to ${page.text.length} of its ${page.textChars} characters`);
  const tail = notes.length > 0 ? `\n\n[truncated: ${notes.join('; ')}]` : '';
  return `${head.join('\n')}\n\n${page.text || '(no text)'}${tail}`;
}

// ---------------------------------------------------------------------------------------------
// Fetching

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Fetches `url` under the rules above. Throws FetchRefusedError (or a network error) when it cannot. */
export async function fetchPage(url: string, options: FetchUrlOptions & { signal?: AbortSignal } = {}): Promise<FetchedPage> {
  const maxRedirects = options.maxRedirects ?? FETCH_DEFAULTS.maxRedirects;
  const timeoutMs = options.timeoutMs ?? FETCH_DEFAULTS.timeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const allowHosts = new Set(options.allowHosts ?? []);

  let current = parseFetchUrl(url);
  try {
    for (let hop = 0; ; hop++) {
      const target = await resolveTarget(current, allowHosts);
      const response = await send(current, target, signal);
      const status = response.statusCode ?? 0;
      if (REDIRECTS.has(status)) {
        response.destroy();
        const location = response.headers.location;
        if (!location) throw new FetchRefusedError(`HTTP ${status} without a Location to go to`);
        if (hop >= maxRedirects) throw new FetchRefusedError(`more than ${maxRedirects} redirects`);
        current = parseFetchUrl(new URL(location, current).href);
        continue;
      }
      return await readPage(url, current, response, options);
    }
  } catch (error) {
    if (timeout.aborted && !options.signal?.aborted) throw new FetchRefusedError(`no complete answer within ${timeoutMs / 1000} s`);
    throw error;
  }
}

/** An absolute http(s) URL without credentials, or a FetchRefusedError saying what is wrong with it. */
function parseFetchUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new FetchRefusedError(`not an absolute URL: ${text}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchRefusedError(`only http and https URLs are fetched, not ${url.protocol.replace(/:$/, '')}`);
  }
  if (url.username || url.password) throw new FetchRefusedError('URLs with a user name or password are not fetched');
  return url;
}

interface Target {
  address: string;
  family: 4 | 6;
}

/** The address to connect to: the host's (every one it resolves to checked), or a FetchRefusedError. */
async function resolveTarget(url: URL, allowHosts: ReadonlySet<string>): Promise<Target> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const allowed = allowHosts.has(`${url.hostname}:${port}`);
  let addresses: Target[];
  const literal = isIP(host);
  if (literal !== 0) {
    addresses = [{ address: host, family: literal as 4 | 6 }];
  } else {
    try {
      const found = await dnsLookup(host, { all: true, verbatim: true });
      addresses = found.map(({ address, family }) => ({ address, family: family as 4 | 6 }));
    } catch (error) {
      throw new FetchRefusedError(`cannot resolve ${host}: ${(error as NodeJS.ErrnoException).code ?? messageOf(error)}`);
    }
    if (addresses.length === 0) throw new FetchRefusedError(`${host} resolves to no address`);
  }
  if (!allowed) {
    for (const { address } of addresses) {
      const refusal = addressRefusal(address);
      if (refusal) {
        const via = literal !== 0 ? '' : ` (${host} resolves to ${address})`;
        throw new FetchRefusedError(`refused: ${address} is ${refusal}${via}; only public internet addresses are fetched`);
      }
    }
  }
  return addresses[0]!;
}

/** A socket lookup that always answers the address already checked, so the connection goes exactly there. */
function pinnedLookup(target: Target): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
}

function send(url: URL, target: Target, signal: AbortSignal): Promise<http.IncomingMessage> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(url, {
      method: 'GET',
      // A fresh connection per fetch: a pooled socket could belong to another resolution of the name.
      agent: false,
      lookup: pinnedLookup(target),
      signal,
      headers: {
        'User-Agent': 'ralph-research/0.1 (fetch_url)',
        Accept: 'text/html,application/xhtml+xml,text/plain;q=0.9,application/json;q=0.9,text/*;q=0.8,*/*;q=0.1',
        'Accept-Encoding': 'gzip, deflate, br',
      },
    });
    request.once('response', resolve);
    request.once('error', reject);
    request.end();
  });
}

/** Content types read: text of any kind, JSON, and XML (XHTML, feeds). */
function isReadableType(mime: string): boolean {
  return (
    mime.startsWith('text/') || mime === 'application/json' || mime.endsWith('+json') || mime === 'application/xml' || mime.endsWith('+xml')
  );
}

async function readPage(requested: string, url: URL, response: http.IncomingMessage, options: FetchUrlOptions): Promise<FetchedPage> {
  const status = response.statusCode ?? 0;
  const contentType = response.headers['content-type'] ?? '';
  const mime = contentType.split(';')[0]!.trim().toLowerCase();
  if (status < 200 || status >= 300) {
    response.destroy();
    throw new FetchRefusedError(`HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`);
  }
  if (mime !== '' && !isReadableType(mime)) {
    response.destroy();
    throw new FetchRefusedError(`the page is ${mime}: only text, HTML and JSON are read`);
  }
  const maxBytes = options.maxBytes ?? FETCH_DEFAULTS.maxBytes;
  const { bytes, truncated } = await readBody(response, maxBytes);
  if (mime === '' && looksBinary(bytes))
    throw new FetchRefusedError('the page is binary (no content type): only text, HTML and JSON are read');

  const isHtml =
    mime === 'text/html' ||
    mime === 'application/xhtml+xml' ||
    (mime === '' && /^\s*<(!doctype html|html)/i.test(bytes.subarray(0, 200).toString('latin1')));
  const decoded = decode(bytes, charsetOf(contentType) ?? (isHtml ? metaCharset(bytes) : undefined));
  let text = decoded;
  let title: string | undefined;
  if (isHtml) {
    const reduced = htmlToText(decoded, url.href);
    text = reduced.text;
    title = reduced.title;
  }
  const maxTextChars = options.maxTextChars ?? FETCH_DEFAULTS.maxTextChars;
  const page: FetchedPage = {
    url: requested,
    finalUrl: url.href,
    status,
    contentType: mime || 'unknown',
    text: text.length > maxTextChars ? text.slice(0, maxTextChars) : text,
    textChars: text.length,
    bytesRead: bytes.length,
    bodyTruncated: truncated,
  };
  if (title !== undefined) page.title = title;
  return page;
}

/** The body, decompressed, at most `maxBytes` of it (then the connection is closed). */
async function readBody(response: http.IncomingMessage, maxBytes: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const encoding = (response.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decompressor =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? zlib.createGunzip()
      : encoding === 'deflate'
        ? zlib.createInflate()
        : encoding === 'br'
          ? zlib.createBrotliDecompress()
          : undefined;
  if (encoding !== '' && encoding !== 'identity' && !decompressor) {
    response.destroy();
    throw new FetchRefusedError(`the page is sent with an encoding that cannot be read (${encoding})`);
  }
  // The decompressor's output is what is counted, so a small compressed bomb cannot fill memory.
  const body = decompressor ? pipeline(response, decompressor, () => {}) : response;
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      const room = maxBytes - size;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        size += room;
        truncated = true;
        break;
      }
      chunks.push(chunk);
      size += chunk.length;
    }
  } finally {
    response.destroy();
    decompressor?.destroy();
  }
  return { bytes: Buffer.concat(chunks, size), truncated };
}

function charsetOf(contentType: string): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
}

/** `<meta charset="…">` or `<meta http-equiv="content-type" content="…; charset=…">` near the top of an HTML page. */
function metaCharset(bytes: Buffer): string | undefined {
  const head = bytes.subarray(0, 4096).toString('latin1');
  return /<meta[^>]+charset\s*=\s*["']?([^"'\s/>;]+)/i.exec(head)?.[1];
}

function decode(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes); // an unknown charset label
  }
}

// ---------------------------------------------------------------------------------------------
// Addresses

/**
 * IPv4 ranges that are not the public internet (RFC 6890 and friends), each with what it is.
 * IPv6 is checked the other way round: only global unicast (2000::/3) passes, minus its special parts.
 */
const IPV4_SPECIAL: [string, number, string][] = [
  ['0.0.0.0', 8, 'an unspecified ("this network") address'],
  ['10.0.0.0', 8, 'a private address'],
  ['100.64.0.0', 10, 'a shared (carrier-grade NAT) address'],
  ['127.0.0.0', 8, 'a loopback address'],
  ['169.254.0.0', 16, 'a link-local address (the cloud metadata service lives there)'],
  ['172.16.0.0', 12, 'a private address'],
  ['192.0.0.0', 24, 'an IETF protocol address'],
  ['192.0.2.0', 24, 'a documentation address'],
  ['192.88.99.0', 24, 'a 6to4 relay address'],
  ['192.168.0.0', 16, 'a private address'],
  ['198.18.0.0', 15, 'a benchmarking address'],
  ['198.51.100.0', 24, 'a documentation address'],
  ['203.0.113.0', 24, 'a documentation address'],
  ['224.0.0.0', 4, 'a multicast address'],
  ['240.0.0.0', 4, 'a reserved or broadcast address'],
];

const IPV6_SPECIAL: [string, number, string][] = [
  ['2001::', 23, 'an IETF protocol address (Teredo and others)'],
  ['2001:db8::', 32, 'a documentation address'],
  ['3fff::', 20, 'a documentation address'],
];

const ipv4Rules = IPV4_SPECIAL.map(([network, prefix, what]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, 'ipv4');
  return { list, what };
});
const ipv6Rules = IPV6_SPECIAL.map(([network, prefix, what]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, 'ipv6');
  return { list, what };
});

/**
 * Why `address` must not be fetched ("a loopback address"), or null when it is a public internet
 * address. IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4) are judged by that address.
 */
export function addressRefusal(address: string): string | null {
  const plain = address.replace(/%.*$/, ''); // a zone id (fe80::1%eth0)
  const version = isIP(plain);
  if (version === 4) return ipv4Rules.find((rule) => rule.list.check(plain, 'ipv4'))?.what ?? null;
  if (version !== 6) return 'not an IP address';
  const groups = ipv6Groups(plain);
  if (!groups) return 'not an IP address';
  const embedded = embeddedIpv4(groups);
  if (embedded) return addressRefusal(embedded);
  if (groups.every((group) => group === 0)) return 'an unspecified address';
  if (groups.slice(0, 7).every((group) => group === 0) && groups[7] === 1) return 'a loopback address';
  const first = groups[0]!;
  if ((first & 0xfe00) === 0xfc00) return 'a private (unique local) address';
  if ((first & 0xffc0) === 0xfe80) return 'a link-local address';
  if ((first & 0xffc0) === 0xfec0) return 'a site-local address';
  if ((first & 0xff00) === 0xff00) return 'a multicast address';
  if ((first & 0xe000) !== 0x2000) return 'a reserved address (not global unicast)';
  return ipv6Rules.find((rule) => rule.list.check(plain, 'ipv6'))?.what ?? null;
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part included); undefined if malformed. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const octets = dotted[1]!.split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((octets[0]! << 8) | octets[1]!).toString(16)}:${((octets[2]! << 8) | octets[3]!).toString(16)}`;
  }
  const [left, right, ...rest] = text.split('::');
  if (rest.length > 0) return undefined;
  const head = left ? left.split(':') : [];
  const tail = right !== undefined ? (right ? right.split(':') : []) : [];
  const missing = 8 - head.length - tail.length;
  if (right === undefined ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(right === undefined ? 0 : missing).fill('0'), ...tail].map((group) => parseInt(group, 16));
  return groups.length === 8 && groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff) ? groups : undefined;
}

/** The IPv4 address inside an IPv4-mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address. */
function embeddedIpv4(groups: number[]): string | undefined {
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0);
  if (zeros(0, 5) && groups[5] === 0xffff) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4(groups[6]!, groups[7]!);
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!);
  return undefined;
}
