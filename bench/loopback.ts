/**
 * The network rule of the harness: load goes to loopback only.
 *
 * Every URL and every source address goes through here before a socket is
 * opened; anything that is not 127.0.0.0/8 or ::1 is refused. "localhost" is
 * mapped to 127.0.0.1 here, without asking a resolver, so no lookup can send
 * the load elsewhere.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** Thrown when a target or source address is not on loopback. */
export class LoopbackError extends Error {
  override name = 'LoopbackError';
}

/** True for 127.0.0.0/8 and ::1 (in any IPv6 spelling), false for everything else. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(a)) return a.split('.')[0] === '127';
  if (isIPv6(a)) return expandIPv6(a) === '0000:0000:0000:0000:0000:0000:0000:0001';
  return false;
}

function expandIPv6(a: string): string {
  if (a.includes('.')) return ''; // IPv4-mapped or -embedded forms are refused: keep one spelling per address
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((p) => p.padStart(4, '0').toLowerCase()).join(':');
}

/** A hub endpoint after the guard: the numeric loopback host to dial, its port, and the URL. */
export interface LoopbackTarget {
  /** Normalized URL (path kept; `localhost` replaced by 127.0.0.1). */
  url: URL;
  /** Numeric address to connect to: `127.x.y.z` or `::1`. */
  host: string;
  port: number;
  /** `Host` header value as the URL spells it. */
  hostHeader: string;
  family: 4 | 6;
}

/**
 * Parses a hub URL and refuses anything that is not `http://` on a loopback
 * address. The default path is the Mercure hub path.
 */
export function loopbackTarget(raw: string): LoopbackTarget {
  let url: URL;
  try { url = new URL(raw); } catch { throw new LoopbackError(`not a URL: ${JSON.stringify(raw)}`); }
  if (url.protocol !== 'http:') throw new LoopbackError(`only http:// hub URLs are supported, got ${url.protocol}//`);
  if (url.username || url.password) throw new LoopbackError('credentials in the hub URL are not supported');
  const hostname = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname;
  if (!isLoopbackAddress(hostname)) {
    throw new LoopbackError(`refusing target ${JSON.stringify(url.hostname)}: the harness only sends load to loopback (127.0.0.0/8 or [::1])`);
  }
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  const port = Number(url.port || 80);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/.well-known/mercure';
  if (url.hostname === 'localhost') url.hostname = '127.0.0.1';
  return { url, host, port, hostHeader: url.host, family: isIPv6(host) ? 6 : 4 };
}

/** Throws unless every source address is on loopback (and of the target's family). */
export function checkSources(sources: readonly string[], family: 4 | 6): void {
  if (sources.length === 0) throw new LoopbackError('at least one source address is needed');
  for (const s of sources) {
    if (!isLoopbackAddress(s)) throw new LoopbackError(`refusing source address ${JSON.stringify(s)}: not loopback`);
    if ((isIPv6(s) ? 6 : 4) !== family) throw new LoopbackError(`source ${s} does not match the target's IPv${family}`);
  }
}

/**
 * Source addresses to spread connections over, so that each one keeps under
 * the ~28k ephemeral ports Linux hands out per source IP:
 * 127.0.0.1, 127.0.0.2, … (`count` of them). IPv6 loopback has one address.
 */
export function sourceAddresses(count: number, family: 4 | 6): string[] {
  if (family === 6) return ['::1'];
  const n = Math.max(1, Math.min(count, 250));
  return Array.from({ length: n }, (_, i) => `127.0.0.${i + 1}`);
}

/** How many source addresses `connections` needs at `perSource` connections each (at least 1). */
export function sourcesFor(connections: number, perSource = 20_000): number {
  return Math.max(1, Math.ceil(connections / perSource));
}
