/**
 * JWT verification with golang-jwt v5's rules, as Mercure v0.24 configures it:
 * compact JWS only; the header's `alg` must be the configured one (static
 * keys) or one the JWK allows (JWK Sets); `none` never verifies; `exp` and
 * `nbf` checked without leeway; claims must decode into Mercure's claim shape
 * (Go's case-insensitive field matching included); the namespaced claim
 * `https://mercure.rocks/` replaces `mercure`; more than 1000 selectors in
 * either list rejects the token. Verified tokens are cached by string until
 * they expire when the keys cannot change (static keys, file JWK Sets).
 */
import { constants, createHmac, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { KeySource } from './keys.ts';

/** The part of a token the hub uses. */
export interface MercureClaims {
  /** `mercure.publish`: null when absent or null. */
  publish: string[] | null;
  /** `mercure.subscribe`: null when absent or null. */
  subscribe: string[] | null;
  /** `mercure.payload`, any JSON; undefined when absent or null. */
  payload: unknown;
  /** `exp` in seconds since the epoch, when present. */
  exp: number | undefined;
}

/** Maximum entries in `mercure.publish` / `mercure.subscribe`. */
export const MAX_CLAIM_SELECTORS = 1000;

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
const CURVE: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };
const B64URL = /^[A-Za-z0-9_-]*$/;

function b64(seg: string): Buffer {
  if (!B64URL.test(seg) || seg.length % 4 === 1) throw new Error('illegal base64 data');
  return Buffer.from(seg, 'base64url');
}

/** Verifies sig over input with key for alg; false on any mismatch of key type and algorithm. */
export function verifySignature(alg: string, key: KeyObject, input: string, sig: Buffer): boolean {
  const hash = HASH[alg.slice(2)];
  const family = alg.slice(0, 2);
  try {
    if (family === 'HS' && hash && key.type === 'secret') {
      const mac = createHmac(hash, key).update(input).digest();
      return mac.length === sig.length && timingSafeEqual(mac, sig);
    }
    if (key.type !== 'public') return false;
    if (family === 'RS' && hash && key.asymmetricKeyType === 'rsa') return cryptoVerify(hash, Buffer.from(input), key, sig);
    if (family === 'PS' && hash && (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss')) {
      return cryptoVerify(hash, Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, sig);
    }
    if (family === 'ES' && hash && key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVE[alg]) {
      return cryptoVerify(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }, sig);
    }
    if (alg === 'EdDSA' && key.asymmetricKeyType === 'ed25519') return cryptoVerify(null, Buffer.from(input), key, sig);
  } catch {
    return false;
  }
  return false;
}

/** Go's encoding/json field lookup: the last key that equals name case-insensitively. */
function field(obj: Record<string, unknown>, name: string): unknown {
  let v: unknown;
  for (const k of Object.keys(obj)) if (k.length === name.length && k.toLowerCase() === name) v = obj[k];
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: unknown): string[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) throw new Error('claim is not an array of strings');
  return v.map((x) => {
    if (x === null) return '';
    if (typeof x !== 'string') throw new Error('claim is not an array of strings');
    return x;
  });
}

/** Seconds a JS Date can hold either side of the epoch (±8.64e15 ms). */
const MAX_DATE_SECONDS = 8.64e12;

/**
 * A NumericDate: a number, or a string holding a JSON number (Go's
 * json.Number); undefined when absent. A value no date can hold (1e309 parses
 * to Infinity, 1e300 overflows every clock) is refused, not compared: an
 * infinite `exp` would never expire, an infinite `nbf` in the past never bite.
 */
function numericDate(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(v)) n = Number(v);
  else throw new Error('invalid type for NumericDate');
  if (!Number.isFinite(n) || Math.abs(n) > MAX_DATE_SECONDS) throw new Error('NumericDate out of range');
  return n;
}

/** Decodes a JWT payload into Mercure's claims, with golang-jwt's registered-claim checks. */
export function decodeClaims(payload: unknown, nowMs: number): MercureClaims {
  if (!isObject(payload)) throw new Error('claims are not a JSON object');
  for (const name of ['iss', 'sub', 'jti']) {
    const v = field(payload, name);
    if (v !== undefined && v !== null && typeof v !== 'string') throw new Error(`invalid ${name}`);
  }
  const aud = field(payload, 'aud');
  if (aud !== undefined && aud !== null && typeof aud !== 'string' && !(Array.isArray(aud) && aud.every((a) => typeof a === 'string'))) {
    throw new Error('invalid aud');
  }
  const exp = numericDate(field(payload, 'exp'));
  const nbf = numericDate(field(payload, 'nbf'));
  numericDate(field(payload, 'iat'));
  if (exp !== undefined && nowMs >= Math.trunc(exp) * 1000) throw new Error('token is expired');
  if (nbf !== undefined && nowMs < Math.trunc(nbf) * 1000) throw new Error('token is not valid yet');

  let claim = field(payload, 'mercure');
  const namespaced = field(payload, 'https://mercure.rocks/');
  if (namespaced !== undefined && namespaced !== null) claim = namespaced;
  if (claim !== undefined && claim !== null && !isObject(claim)) throw new Error('invalid mercure claim');
  const c = (claim ?? {}) as Record<string, unknown>;
  const publish = stringList(field(c, 'publish'));
  const subscribe = stringList(field(c, 'subscribe'));
  if ((publish?.length ?? 0) > MAX_CLAIM_SELECTORS || (subscribe?.length ?? 0) > MAX_CLAIM_SELECTORS) {
    throw new Error('too many selectors in the mercure claim');
  }
  const payloadClaim = field(c, 'payload');
  return { publish, subscribe, payload: payloadClaim === null ? undefined : payloadClaim, exp };
}

interface CacheEntry { claims: MercureClaims; exp: number | undefined; nbf: number | undefined }

/** Verifies tokens against one key source. */
export class TokenVerifier {
  readonly #source: KeySource;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #cacheSize: number;

  constructor(source: KeySource, cacheSize = 10_000) {
    this.#source = source;
    this.#cacheSize = source.stable ? cacheSize : 0;
  }

  /** Resolves the token's claims, or rejects (→ 401). */
  async verify(token: string, nowMs = Date.now()): Promise<MercureClaims> {
    const hit = this.#cache.get(token);
    if (hit) {
      if ((hit.exp === undefined || nowMs < Math.trunc(hit.exp) * 1000) && (hit.nbf === undefined || nowMs >= Math.trunc(hit.nbf) * 1000)) {
        return hit.claims;
      }
      this.#cache.delete(token);
    }
    const parts = token.split('.');
    if (parts.length !== 3) throw new Error('token contains an invalid number of segments');
    const header = JSON.parse(b64(parts[0]!).toString('utf8')) as unknown;
    if (!isObject(header) || typeof header.alg !== 'string') throw new Error('invalid token header');
    const alg = header.alg;
    const kid = typeof header.kid === 'string' ? header.kid : undefined;
    const sig = b64(parts[2]!);
    const input = parts[0] + '.' + parts[1];
    const keys = await this.#source.candidates(alg, kid);
    if (!keys.some((k) => verifySignature(alg, k.key, input, sig))) throw new Error('token signature is invalid');
    const payload = JSON.parse(b64(parts[1]!).toString('utf8')) as unknown;
    const claims = decodeClaims(payload, nowMs);
    if (this.#cacheSize > 0) {
      if (this.#cache.size >= this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value!);
      const p = payload as Record<string, unknown>;
      this.#cache.set(token, { claims, exp: claims.exp, nbf: numericDate(field(p, 'nbf')) });
    }
    return claims;
  }

  close(): void { this.#source.close?.(); }
}
