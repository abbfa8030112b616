/**
 * Verification keys: static keys from `publisher_jwt` / `subscriber_jwt`
 * (HMAC secrets or PEM public keys, as golang-jwt parses them) and JWK Sets
 * from `*_jwks_url` (http(s) with refresh, or file://).
 */
import { X509Certificate, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Algorithms a static key may be configured with (PS* and others are refused at start-up, as in Mercure). */
export const STATIC_ALGS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** One usable key. `alg` restricts the key to one algorithm (a JWK's `alg`, or the configured one). */
export interface VerifyKey {
  key: KeyObject;
  alg?: string;
  kid?: string;
}

/** Where a verifier gets candidate keys for a token header. */
export interface KeySource {
  /** Candidate keys for this header; empty when none applies. */
  candidates(alg: string, kid: string | undefined): Promise<VerifyKey[]>;
  /** True when results verified with these keys can be cached until exp. */
  readonly stable: boolean;
  close?(): void;
}

function pemBlocks(pem: string): Buffer | undefined {
  const m = /-----BEGIN ([^-]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  return m ? Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64') : undefined;
}

function tryDer(der: Buffer, kinds: ('spki' | 'cert' | 'pkcs1')[]): KeyObject | undefined {
  for (const kind of kinds) {
    try {
      if (kind === 'cert') return new X509Certificate(der).publicKey;
      return createPublicKey({ key: der, format: 'der', type: kind });
    } catch { /* try the next form */ }
  }
  return undefined;
}

/**
 * Parses a static key for alg the way golang-jwt does: HS* use the string's
 * bytes; RS* accept PKIX, X.509 certificate or PKCS#1 PEM; ES* PKIX or
 * certificate; EdDSA PKIX only. Throws a start-up error otherwise.
 */
export function parseStaticKey(key: string, alg: string): KeyObject {
  if (alg.startsWith('HS') && (STATIC_ALGS as readonly string[]).includes(alg)) return createSecretKey(Buffer.from(key, 'utf8'));
  if (!(STATIC_ALGS as readonly string[]).includes(alg)) throw new Error(`unexpected signing method: ${JSON.stringify(alg)}`);
  const der = pemBlocks(key);
  if (!der) throw new Error('invalid key: key must be a PEM encoded PKCS1 or PKCS8 key');
  const family = alg.slice(0, 2);
  const k = family === 'RS' ? tryDer(der, ['spki', 'cert', 'pkcs1'])
    : family === 'ES' ? tryDer(der, ['spki', 'cert'])
    : tryDer(der, ['spki']);
  const want = family === 'RS' ? 'rsa' : family === 'ES' ? 'ec' : 'ed25519';
  if (!k || k.asymmetricKeyType !== want) throw new Error(`invalid key: not a valid ${family === 'Ed' ? 'Ed25519' : want.toUpperCase()} public key`);
  return k;
}

/** A single configured key. */
export class StaticKeySource implements KeySource {
  readonly stable = true;
  readonly #keys: VerifyKey[];
  constructor(key: string, alg: string) {
    this.#keys = [{ key: parseStaticKey(key, alg), alg }];
  }
  async candidates(alg: string): Promise<VerifyKey[]> {
    return alg === this.#keys[0]!.alg ? this.#keys : [];
  }
}

/** Converts a JWK Set document into keys; unusable members are skipped (as jwkset does). */
export function keysFromJwks(doc: unknown): VerifyKey[] {
  const keys = (doc as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw new Error('invalid JWK Set: missing "keys" array');
  const out: VerifyKey[] = [];
  for (const jwk of keys as Record<string, unknown>[]) {
    if (!jwk || typeof jwk !== 'object') continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    try {
      const key = jwk.kty === 'oct'
        ? createSecretKey(Buffer.from(String(jwk.k ?? ''), 'base64url'))
        : createPublicKey({ key: publicPart(jwk), format: 'jwk' });
      out.push({ key, alg: typeof jwk.alg === 'string' ? jwk.alg : undefined, kid: typeof jwk.kid === 'string' ? jwk.kid : undefined });
    } catch { /* skip keys node:crypto cannot import */ }
  }
  return out;
}

function publicPart(jwk: Record<string, unknown>): import('node:crypto').JsonWebKey {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
  return pub as import('node:crypto').JsonWebKey;
}

function selectKeys(keys: VerifyKey[], alg: string, kid: string | undefined): VerifyKey[] {
  if (kid !== undefined) {
    const k = keys.find((x) => x.kid === kid);
    return k && (k.alg === undefined || k.alg === alg) ? [k] : [];
  }
  return keys.filter((x) => x.alg === undefined || x.alg === alg);
}

/** A JWK Set read once from a file:// URL at provisioning. */
export class FileJwksSource implements KeySource {
  readonly stable = true;
  readonly #keys: VerifyKey[];
  constructor(url: URL) {
    if (url.host !== '' && url.host !== 'localhost') throw new Error(`invalid JWK Set URL "${url.href}": file URLs must have no host or "localhost"`);
    this.#keys = keysFromJwks(JSON.parse(readFileSync(fileURLToPath(new URL('file://' + url.pathname)), 'utf8')));
  }
  async candidates(alg: string, kid: string | undefined): Promise<VerifyKey[]> { return selectKeys(this.#keys, alg, kid); }
}

/**
 * A JWK Set fetched over HTTP(S): refreshed every hour, and on an unknown
 * `kid` at most once every 5 minutes. A failing fetch never aborts start-up;
 * tokens just fail to verify until one succeeds.
 */
export class RemoteJwksSource implements KeySource {
  readonly stable = false;
  readonly #url: string;
  #keys: VerifyKey[] = [];
  #attemptAt = 0;
  #pending: Promise<void> | undefined;
  #timer: NodeJS.Timeout;
  readonly refreshMs: number;
  readonly cooldownMs: number;

  constructor(url: string, opts: { refreshMs?: number; cooldownMs?: number } = {}) {
    this.#url = url;
    this.refreshMs = opts.refreshMs ?? 3600_000;
    this.cooldownMs = opts.cooldownMs ?? 300_000;
    this.#timer = setInterval(() => { void this.refresh(); }, this.refreshMs).unref();
    void this.refresh();
  }

  /** Fetches the set now (concurrent callers share one request). */
  refresh(): Promise<void> {
    this.#pending ??= (async () => {
      this.#attemptAt = Date.now();
      try {
        const res = await fetch(this.#url, { signal: AbortSignal.timeout(10_000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        this.#keys = keysFromJwks(await res.json());
      } catch {
        /* keep the previous keys; tokens fail until a fetch succeeds */
      } finally {
        this.#pending = undefined;
      }
    })();
    return this.#pending;
  }

  async candidates(alg: string, kid: string | undefined): Promise<VerifyKey[]> {
    if (this.#pending) await this.#pending;
    let found = selectKeys(this.#keys, alg, kid);
    const unknownKid = kid !== undefined && !this.#keys.some((k) => k.kid === kid);
    // An unknown kid (or an empty set after a failed fetch) refreshes at most once per cooldown.
    if ((unknownKid || this.#keys.length === 0) && Date.now() - this.#attemptAt >= this.cooldownMs) {
      await this.refresh();
      found = selectKeys(this.#keys, alg, kid);
    }
    return found;
  }

  close(): void { clearInterval(this.#timer); }
}

/** Builds the key source for a `*_jwks_url`. */
export function jwksSource(url: string): KeySource {
  const u = new URL(url);
  if (u.protocol === 'file:') return new FileJwksSource(u);
  if (u.protocol === 'http:' || u.protocol === 'https:') return new RemoteJwksSource(url);
  throw new Error(`unsupported JWK Set URL scheme "${u.protocol}"`);
}
