/**
 * `quicksilver jwt`: mints a Mercure JWT so a new user can publish with curl
 * right after cloning. The key defaults to MERCURE_PUBLISHER_JWT_KEY, then to
 * the documented development key.
 */
import { mintToken } from '../mercure/token.ts';
import type { Command } from './commands.ts';

export const DEV_KEY = '!ChangeThisMercureHubJWTSecretKey!';

export const jwtCommand: Command = {
  flags: {
    key: { type: 'string' }, alg: { type: 'string' }, publish: { type: 'string', multiple: true },
    subscribe: { type: 'string', multiple: true }, payload: { type: 'string' }, ttl: { type: 'string' },
  },
  async run(f) {
    const key = (f.key as string | undefined) ?? process.env.MERCURE_PUBLISHER_JWT_KEY ?? DEV_KEY;
    const publish = f.publish as string[] | undefined;
    const subscribe = f.subscribe as string[] | undefined;
    const token = await mintToken({
      key,
      alg: (f.alg as string | undefined) ?? process.env.MERCURE_PUBLISHER_JWT_ALG ?? 'HS256',
      publish: publish ?? (subscribe ? undefined : ['*']),
      subscribe: subscribe ?? (publish ? undefined : ['*']),
      payload: f.payload ? JSON.parse(f.payload as string) : undefined,
      ttl: f.ttl as string | undefined,
    });
    process.stdout.write(token + '\n');
    return 0;
  },
};
