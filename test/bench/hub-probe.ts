/**
 * Is our hub ready to be benchmarked? Spawns it the way `--spawn` does,
 * subscribes once, publishes once, and says why not when the update does
 * not arrive. quick.test.ts skips (with this reason) rather than fails while
 * the hub is still being written; QS_BENCH_REQUIRE_HUB=1 makes it fail instead.
 */
import http from 'node:http';
import { request } from 'undici';
import { spawnHub, type SpawnOptions } from '../../bench/spawn.ts';
import { DEV_KEY, mint } from '../../bench/jwt.ts';

/** undefined when the hub starts and delivers one update, else the reason. */
export async function hubNotReadyReason(extra: Partial<SpawnOptions> = {}): Promise<string | undefined> {
  let hub;
  try {
    hub = await spawnHub({ transport: 'bolt', key: DEV_KEY, alg: 'HS256', readyTimeoutMs: 30_000, ...extra });
  } catch (e) {
    return `the hub cannot start: ${(e as Error).message.split('\n')[0]}`;
  }
  try {
    const topic = 'https://example.com/probe';
    const got = new Promise<string>((resolve) => {
      const req = http.get(`${hub.url}?topic=${encodeURIComponent(topic)}`, (res) => {
        if (res.statusCode !== 200) { resolve(`subscribe answered ${res.statusCode}`); res.resume(); return; }
        const t0 = Date.now();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { body += c; if (body.includes('data: probe')) { resolve(''); req.destroy(); } });
        res.on('end', () => resolve(`the hub closed the SSE stream after ${Date.now() - t0} ms without delivering`));
      });
      req.on('error', (e) => resolve(`subscribe failed: ${e.message}`));
      setTimeout(() => { resolve('no update within 5 s'); req.destroy(); }, 5000).unref();
    });
    await new Promise((r) => setTimeout(r, 300));
    const token = await mint({ key: DEV_KEY, alg: 'HS256' }, { publish: ['*'] });
    const res = await request(hub.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: `topic=${encodeURIComponent(topic)}&data=probe`,
    });
    await res.body.dump();
    if (res.statusCode !== 200) return `publish answered ${res.statusCode}`;
    const why = await got;
    return why ? `the hub starts but is not ready: ${why}` : undefined;
  } finally {
    await hub.stop();
  }
}

/** True when a not-ready hub must fail the tests instead of skipping them. */
export const requireHub = process.env.QS_BENCH_REQUIRE_HUB === '1';
