/**
 * Load-balancing selection policies (Caddy's `lb_policy`): random (default),
 * random_choose N, least_conn, round_robin, weighted_round_robin, first,
 * ip_hash, client_ip_hash, uri_hash, header <field>, query <key>,
 * cookie [<name>]. Hash policies use rendezvous hashing so a key keeps its
 * upstream while that upstream is available. Policies see only available
 * upstreams; header/query/cookie fall back to random when the key is absent.
 */
import { ConfigError } from '../../host/errors.ts';
import type { HttpContext } from '../handler.ts';
import { cookieValue } from '../replacer.ts';
import type { Upstream } from './upstreams.ts';

/** JSON: `{ policy: "round_robin" }`, `{ policy: "header", field }`, `{ policy: "query", key }`, … */
export interface SelectionConfig { policy?: string; field?: string; key?: string; name?: string; choose?: number; weights?: number[] }

export type Selector = (ups: Upstream[], c: HttpContext) => Upstream | undefined;

function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  // murmur3's finaliser, so keys that differ only at the end still spread
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b) >>> 0; h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35) >>> 0; h ^= h >>> 16;
  return h >>> 0;
}

/** Rendezvous (highest random weight) hashing of key over ups. */
export function hashPick(ups: Upstream[], key: string): Upstream | undefined {
  let best: Upstream | undefined;
  let bestW = -1;
  for (const u of ups) { const w = fnv(u.dial + key); if (w > bestW) { bestW = w; best = u; } }
  return best;
}

const random: Selector = (ups) => ups[Math.floor(Math.random() * ups.length)];

function leastConn(ups: Upstream[]): Upstream | undefined {
  let min = Infinity;
  let picks: Upstream[] = [];
  for (const u of ups) {
    if (u.numRequests < min) { min = u.numRequests; picks = [u]; } else if (u.numRequests === min) picks.push(u);
  }
  return picks[Math.floor(Math.random() * picks.length)];
}

/** Builds the selector for a config; `all` is the full upstream list (for round robin positions and weights). */
export function makeSelector(cfg: SelectionConfig | undefined, all: Upstream[]): Selector {
  const policy = cfg?.policy ?? 'random';
  switch (policy) {
    case 'random': return random;
    case 'random_choose': {
      const n = Math.max(1, cfg?.choose ?? 2);
      return (ups) => {
        const pool = [...ups];
        const chosen: Upstream[] = [];
        while (chosen.length < n && pool.length) chosen.push(pool.splice(Math.floor(Math.random() * pool.length), 1)[0]!);
        return leastConn(chosen);
      };
    }
    case 'least_conn': return (ups) => leastConn(ups);
    case 'first': return (ups) => ups[0];
    case 'round_robin': {
      let i = 0;
      return (ups) => {
        for (let n = 0; n < all.length; n++) {
          const u = all[i++ % all.length]!;
          if (ups.includes(u)) return u;
        }
        return undefined;
      };
    }
    case 'weighted_round_robin': {
      const weights = cfg?.weights ?? [];
      const seq: Upstream[] = [];
      all.forEach((u, idx) => { for (let w = 0; w < (weights[idx] ?? 1); w++) seq.push(u); });
      let i = 0;
      return (ups) => {
        for (let n = 0; n < seq.length; n++) { const u = seq[i++ % seq.length]!; if (ups.includes(u)) return u; }
        return undefined;
      };
    }
    case 'ip_hash': return (ups, c) => hashPick(ups, c.remoteAddr);
    case 'client_ip_hash': return (ups, c) => hashPick(ups, String(c.vars.get('client_ip') ?? c.remoteAddr));
    case 'uri_hash': return (ups, c) => hashPick(ups, c.url.pathname + c.url.search);
    case 'header': {
      const field = (cfg?.field ?? '').toLowerCase();
      if (!field) throw new ConfigError('ERR_CFG_VALUE', undefined, 'lb_policy header: missing field name');
      return (ups, c) => {
        const v = c.req.headers[field];
        return v === undefined ? random(ups, c) : hashPick(ups, Array.isArray(v) ? v.join(',') : v);
      };
    }
    case 'query': {
      const key = cfg?.key ?? '';
      return (ups, c) => {
        const v = c.url.searchParams.get(key);
        return v === null ? random(ups, c) : hashPick(ups, v);
      };
    }
    case 'cookie': {
      const name = cfg?.name ?? 'lb';
      return (ups, c) => {
        const v = cookieValue(c.req.headers.cookie, name);
        return v ? hashPick(ups, v) : random(ups, c);
      };
    }
    default:
      throw new ConfigError('ERR_CFG_UNKNOWN', undefined, `unknown load balancing policy '${policy}'`, {
        expected: 'one of random, random_choose, least_conn, round_robin, weighted_round_robin, first, ip_hash, client_ip_hash, uri_hash, header, query, cookie',
      });
  }
}
