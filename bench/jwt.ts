/**
 * Tokens for the harness: either given ready-made, or minted with jose from
 * a key and an algorithm (HS* take the key string's bytes, as Mercure does;
 * RS*, ES*, PS* and EdDSA take a PKCS#8 PEM private key).
 */
import { SignJWT, importPKCS8 } from 'jose';

/** The Mercure claim of a token. */
export interface MercureClaim {
  publish?: string[];
  subscribe?: string[];
  payload?: unknown;
}

/** Where tokens come from. */
export interface TokenSource {
  /** Signing key: a secret for HS*, a PKCS#8 PEM for the others. */
  key?: string;
  alg: string;
  /** Ready-made tokens, used as they are when given. */
  publisherJwt?: string;
  subscriberJwt?: string;
}

/** The dev key of the reference hub's docs (and of the spawned hub). */
export const DEV_KEY = '!ChangeThisMercureHubJWTSecretKey!';

/** Signs `{ mercure: claim }` with `source.key`, valid for `ttlSeconds`. */
export async function mint(source: TokenSource, claim: MercureClaim, ttlSeconds = 3600): Promise<string> {
  if (!source.key) throw new Error('minting a token needs --key (or pass --publisher-jwt / --subscriber-jwt)');
  const alg = source.alg;
  const key = alg.startsWith('HS') ? new TextEncoder().encode(source.key) : await importPKCS8(source.key, alg);
  return new SignJWT({ mercure: claim })
    .setProtectedHeader({ alg })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(key);
}

/** The publisher token: the given one, else one minted with `publish: ["*"]`. */
export async function publisherToken(source: TokenSource, ttlSeconds?: number): Promise<string> {
  return source.publisherJwt ?? mint(source, { publish: ['*'] }, ttlSeconds);
}

/**
 * A subscriber token granting `subscribe`. A given `subscriberJwt` stands in
 * for the catch-all grant `["*"]`; any narrower grant is minted.
 */
export async function subscriberToken(source: TokenSource, subscribe: string[], ttlSeconds?: number): Promise<string> {
  if (source.subscriberJwt && subscribe.length === 1 && subscribe[0] === '*') return source.subscriberJwt;
  return mint(source, { subscribe }, ttlSeconds);
}
