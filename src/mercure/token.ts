/**
 * Minting Mercure JWTs (the `quicksilver jwt` command and tests): claims
 * `{"mercure": {"publish": […], "subscribe": […], "payload": …}}`, signed with
 * an HMAC secret or a PEM private key.
 */
import { createPrivateKey, createSecretKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { parseDurationString } from '../host/duration.ts';

export interface MintOptions {
  /** HMAC secret, or a PEM private key for RS*, PS*, ES*, EdDSA. */
  key: string;
  /** Default HS256. */
  alg?: string;
  /** `mercure.publish` selectors. */
  publish?: string[];
  /** `mercure.subscribe` selectors. */
  subscribe?: string[];
  /** `mercure.payload`. */
  payload?: unknown;
  /** Lifetime: milliseconds or a duration string (`1h`); none = no `exp`. */
  ttl?: number | string;
  /** Extra registered claims (sub, iss, aud, …). */
  claims?: Record<string, unknown>;
  /** Clock, for tests. */
  now?: number;
}

function signingKey(key: string, alg: string): KeyObject {
  if (alg.startsWith('HS')) return createSecretKey(Buffer.from(key, 'utf8'));
  return createPrivateKey(key);
}

/** Returns a compact JWS. */
export async function mintToken(o: MintOptions): Promise<string> {
  const alg = o.alg ?? 'HS256';
  const mercure: Record<string, unknown> = {};
  if (o.publish) mercure.publish = o.publish;
  if (o.subscribe) mercure.subscribe = o.subscribe;
  if (o.payload !== undefined) mercure.payload = o.payload;
  const claims: Record<string, unknown> = { ...o.claims };
  if (Object.keys(mercure).length > 0) claims.mercure = mercure;
  const jwt = new SignJWT(claims).setProtectedHeader({ alg });
  if (o.ttl !== undefined) {
    const ms = typeof o.ttl === 'number' ? o.ttl : parseDurationString(o.ttl);
    if (ms === undefined || ms <= 0) throw new Error(`invalid ttl ${JSON.stringify(o.ttl)}`);
    const now = o.now ?? Date.now();
    jwt.setExpirationTime(Math.floor((now + ms) / 1000));
  }
  return jwt.sign(signingKey(o.key, alg));
}
