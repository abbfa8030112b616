/**
 * IP ranges (CIDR) for remote_ip/client_ip matchers and trusted proxies.
 * Ranges are parsed once into bigint form; matching is a mask and compare.
 */
import net from 'node:net';
import { ConfigError } from '../host/errors.ts';

/** A parsed CIDR range. */
export interface IpRange { v6: boolean; base: bigint; mask: bigint }

/** The ranges `private_ranges` stands for (Caddy's list). */
export const PRIVATE_RANGES = ['192.168.0.0/16', '172.16.0.0/12', '10.0.0.0/8', '127.0.0.1/8', 'fd00::/8', '::1'];

/** Parses an IP to [isV6, bigint]; undefined when not an IP. IPv4-mapped IPv6 counts as IPv4. */
export function ipToBig(ip: string): [boolean, bigint] | undefined {
  let s = ip.trim();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (s.startsWith('::ffff:') && net.isIPv4(s.slice(7))) s = s.slice(7);
  if (net.isIPv4(s)) {
    return [false, s.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n)];
  }
  if (!net.isIPv6(s)) return undefined;
  let [head, tail] = s.split('::') as [string, string | undefined];
  const parse = (part: string | undefined): number[] => {
    if (!part) return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const o = g.split('.').map(Number);
        out.push((o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return [true, groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n)];
}

/** Parses `1.2.3.0/24`, `::1`, `fd00::/8`; a bare IP is a single-address range. */
export function parseRange(text: string): IpRange {
  const slash = text.indexOf('/');
  const ip = slash < 0 ? text : text.slice(0, slash);
  const parsed = ipToBig(ip);
  if (!parsed) throw new ConfigError('ERR_CFG_VALUE', undefined, `invalid IP address or CIDR range '${text}'`);
  const [v6, value] = parsed;
  const bits = v6 ? 128 : 32;
  const prefix = slash < 0 ? bits : Number(text.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) {
    throw new ConfigError('ERR_CFG_VALUE', undefined, `invalid CIDR prefix in '${text}'`);
  }
  const all = (1n << BigInt(bits)) - 1n;
  const mask = all ^ ((1n << BigInt(bits - prefix)) - 1n);
  return { v6, base: value & mask, mask };
}

/** Expands `private_ranges` and parses every entry. */
export function parseRanges(list: string[]): IpRange[] {
  return list.flatMap((r) => (r === 'private_ranges' ? PRIVATE_RANGES : [r])).map(parseRange);
}

/** True when ip lies in any of the ranges. */
export function inRanges(ip: string, ranges: IpRange[]): boolean {
  const p = ipToBig(ip);
  if (!p) return false;
  for (const r of ranges) if (r.v6 === p[0] && (p[1] & r.mask) === r.base) return true;
  return false;
}
