/**
 * A real hub process: the admin endpoint serves the reference metric names
 * with the right values, and the Mercure health routes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mintToken } from '../../src/mercure/token.ts';
import { freePort, startHub } from '../helpers/hub-process.ts';
import { SseClient } from '../helpers/sse.ts';

const KEY = 'admin-metrics-test-key-long-enough-!!';

function metric(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

test('admin /metrics counts subscribers and updates; /mercure/health answers per hub', async (t) => {
  const port = await freePort();
  const admin = await freePort();
  const hub = await startHub(`{\n\tadmin localhost:${admin}\n}\n:${port} {\n\tmercure {\n\t\tname main\n\t\tpublisher_jwt ${KEY}\n\t\tanonymous\n\t\ttransport local\n\t}\n}\n`);
  t.after(() => hub.kill());
  const url = `http://127.0.0.1:${port}/.well-known/mercure`;
  const a = await SseClient.open(`${url}?topic=t`);
  const b = await SseClient.open(`${url}?topic=t`);
  b.close();
  await b.closed;
  const token = await mintToken({ key: KEY, alg: 'HS256', publish: ['*'] });
  for (let i = 0; i < 2; i++) {
    const r = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: new URLSearchParams({ topic: 't', data: String(i) }) });
    assert.equal(r.status, 200);
  }
  await a.count(2);
  // The gauge drops once the hub has seen the disconnect; poll the endpoint, bounded.
  let text = '';
  for (let i = 0; i < 100; i++) {
    text = await (await fetch(`http://localhost:${admin}/metrics`)).text();
    if (metric(text, 'mercure_subscribers_connected') === 1) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(metric(text, 'mercure_subscribers_total'), 2);
  assert.equal(metric(text, 'mercure_subscribers_connected'), 1);
  assert.equal(metric(text, 'mercure_updates_total'), 2);

  const get = async (path: string, method = 'GET') => {
    const r = await fetch(`http://localhost:${admin}${path}`, { method });
    return { status: r.status, body: await r.text() };
  };
  assert.deepEqual(await get('/mercure/health/ready'), { status: 200, body: '{"status":"ok"}\n' });
  assert.deepEqual(await get('/mercure/health/main/live/'), { status: 200, body: '{"status":"ok"}\n' });
  assert.equal((await get('/mercure/health/other/ready')).status, 404);
  assert.equal((await get('/mercure/health/nope')).status, 404);
  assert.equal((await get('/mercure/health/ready', 'POST')).status, 405);
  a.close();
});
