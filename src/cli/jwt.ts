/**
 * `quicksilver jwt`: mints a Mercure JWT so a new user can publish with curl
 * right after cloning. The key defaults to MERCURE_PUBLISHER_JWT_KEY, then to
 * the documented development key. `--key` takes the key itself (an HMAC
 * secret, or a PEM private key: `--key "$(cat key.pem)"` works, even though
 * the value starts with dashes) or `@FILE` to read it from a file (`@-` reads
 * standard input).
 */
import { readFileSync } from 'node:fs';
import { QsError } from '../host/errors.ts';
import { mintToken } from '../mercure/token.ts';
import type { Command } from './commands.ts';

export const DEV_KEY = '!ChangeThisMercureHubJWTSecretKey!';

/** `--key` value: the key, or `@file`. */
export function readKeyFlag(v: string): string {
  if (!v.startsWith('@')) return v;
  const file = v.slice(1);
  try { return readFileSync(file === '-' ? 0 : file, 'utf8'); } catch (e) {
    throw new QsError('ERR_CLI_USAGE', `reading --key file ${file}: ${(e as Error).message}`, { cause: e });
  }
}

export const jwtCommand: Command = {
  summary: 'Mints a Mercure JWT',
  usage: '[--key K|@FILE] [--alg A] [--publish T]... [--subscribe T]... [--payload JSON] [--ttl 1h]',
  help: 'Without --publish or --subscribe the token may do both on every topic (*).\n'
    + 'The key defaults to MERCURE_PUBLISHER_JWT_KEY, then to the development key; a PEM private key needs --alg (RS256, ES256, …).',
  flags: {
    key: { type: 'string', short: 'k', value: 'K|@FILE', help: 'the signing key: an HMAC secret or a PEM private key, or @FILE to read it from FILE (@- for standard input)' },
    alg: { type: 'string', value: 'A', help: 'the JWT algorithm (default MERCURE_PUBLISHER_JWT_ALG, else HS256)' },
    publish: { type: 'string', multiple: true, value: 'T', help: 'a topic selector the token may publish to' },
    subscribe: { type: 'string', multiple: true, value: 'T', help: 'a topic selector the token may subscribe to' },
    payload: { type: 'string', value: 'JSON', help: 'the mercure.payload claim' },
    ttl: { type: 'string', value: 'D', help: 'lifetime (1h, 30m, …); without it the token does not expire' },
  },
  async run(f) {
    const key = f.key !== undefined ? readKeyFlag(f.key as string) : process.env.MERCURE_PUBLISHER_JWT_KEY ?? DEV_KEY;
    const publish = f.publish as string[] | undefined;
    const subscribe = f.subscribe as string[] | undefined;
    let payload: unknown;
    if (f.payload !== undefined) {
      try { payload = JSON.parse(f.payload as string); } catch (e) {
        throw new QsError('ERR_CLI_USAGE', `--payload is not JSON: ${(e as Error).message}`, { cause: e });
      }
    }
    let token: string;
    try {
      token = await mintToken({
        key,
        alg: (f.alg as string | undefined) ?? process.env.MERCURE_PUBLISHER_JWT_ALG ?? 'HS256',
        publish: publish ?? (subscribe ? undefined : ['*']),
        subscribe: subscribe ?? (publish ? undefined : ['*']),
        payload,
        ttl: f.ttl as string | undefined,
      });
    } catch (e) {
      throw new QsError('ERR_CLI_USAGE', `minting the token: ${(e as Error).message}`, { cause: e });
    }
    process.stdout.write(token + '\n');
    return 0;
  },
};
