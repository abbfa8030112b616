/**
 * Stalled subscribers are let go completely. 16 clients subscribe and never
 * read; large updates overflow them; after the grace their connections are
 * reset, so the kernel frees what it held for them: no server-side socket of
 * the hub's port is left (a plain close leaves each one in FIN-WAIT-1 with a
 * full send buffer for as long as the client lives). Checked per socket in
 * /proc/net/tcp (only this hub's port, so other processes cannot disturb
 * it); /proc/net/sockstat, machine-wide, is measured before and after and reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { HUB, baseConfig, publish, pubToken, startHub, waitSubscribers } from './harness.ts';

const skip = existsSync('/proc/net/tcp') ? false : 'needs Linux /proc/net/tcp';

/**
 * The hub-side sockets (local port `port`) of connections from `peers` (the
 * clients' local ports): TCP state (hex, 04 = FIN-WAIT-1) and send-queue bytes.
 */
function serverSockets(port: number, peers: Set<number>): { state: string; txQueue: number }[] {
  const hex = ':' + port.toString(16).toUpperCase().padStart(4, '0');
  const out: { state: string; txQueue: number }[] = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, 'utf8').split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length < 5 || !c[1]!.endsWith(hex) || !peers.has(parseInt(c[2]!.split(':').pop()!, 16))) continue;
      out.push({ state: c[3]!, txQueue: parseInt(c[4]!.split(':')[0]!, 16) });
    }
  }
  return out;
}

/** The TCP line of /proc/net/sockstat: inuse, orphan, tw, alloc, mem (pages). */
function sockstat(): Record<string, number> {
  const line = readFileSync('/proc/net/sockstat', 'utf8').split('\n').find((l) => l.startsWith('TCP:')) ?? '';
  const out: Record<string, number> = {};
  for (const [, k, v] of line.matchAll(/(\w+) (\d+)/g)) out[k!] = Number(v);
  return out;
}

test('16 stalled subscribers dropped for overflow are reset after the grace; the kernel holds nothing for them', { skip }, async (t) => {
  const h = await startHub(baseConfig({ anonymous: true, heartbeat: '0s', dispatch_timeout: '300ms' }));
  t.after(() => h.close());
  const before = sockstat();
  const clients: Socket[] = [];
  t.after(() => { for (const c of clients) c.destroy(); });
  for (let i = 0; i < 16; i++) {
    const c = connect(h.port, '127.0.0.1');
    c.on('error', () => {}); // the reset
    clients.push(c);
    await once(c, 'connect');
    c.pause(); // never reads: its receive buffer, then the hub's send buffer, fill up
    c.write(`GET ${HUB}?topic=a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  }
  await waitSubscribers(h, 16);
  const peers = new Set(clients.map((c) => c.localPort!));
  assert.equal(serverSockets(h.port, peers).length, 16, 'the hub-side sockets are found');

  const token = await pubToken();
  const data = 'x'.repeat(64 * 1024);
  let held = 0;
  let during = sockstat();
  for (let i = 0; i < 160; i++) { // 10 MiB each: more than both kernel buffers and the hub's 4 MiB bound
    assert.equal((await publish(h.url, token, [['topic', 'a'], ['data', data]])).status, 200);
    const queued = serverSockets(h.port, peers).reduce((n, s) => n + s.txQueue, 0);
    if (queued > held) { held = queued; during = sockstat(); }
  }
  // Every stream ends (overflow) and, after the grace, its connection is reset.
  await waitSubscribers(h, 0);
  const deadline = Date.now() + 20_000;
  while (h.hub.runtime.streams.size > 0 || serverSockets(h.port, peers).length > 0) {
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const left = serverSockets(h.port, peers);
  const after = sockstat();
  t.diagnostic(`sockstat TCP before ${JSON.stringify(before)}, with stalled clients ${JSON.stringify(during)}, after ${JSON.stringify(after)}`);
  t.diagnostic(`hub-side sockets left: ${left.length} (${left.filter((s) => s.state === '04').length} in FIN-WAIT-1, ${left.reduce((n, s) => n + s.txQueue, 0)} bytes unsent)`);
  assert.equal(h.hub.runtime.streams.size, 0);
  assert.deepEqual(left, [], 'no hub-side socket left for the stalled clients (a plain close leaves them in FIN-WAIT-1)');
  t.diagnostic(`most bytes the kernel held unsent for the stalled clients: ${held}`);
  assert.ok(held > 1 << 20, 'the stalled clients did hold kernel send buffers (the test exercised it)');
});

test('over TLS a stalled subscriber is ended by a close (no safe reset exists there), and the server keeps running', { skip }, async (t) => {
  const { connect: tlsConnect } = await import('node:tls');
  const { request } = await import('node:https');
  const { startCaddyfile, tlsHubCaddyfile } = await import('../helpers/caddyfile-server.ts');
  const { P } = await import('./harness.ts');
  const srv = await startCaddyfile(t, tlsHubCaddyfile([`publisher_jwt ${P}`, 'dispatch_timeout 300ms', 'heartbeat 0s']));
  const port = srv.port();
  const stalled = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  stalled.on('error', () => {});
  t.after(() => stalled.destroy());
  await once(stalled, 'secureConnect');
  stalled.write(`GET ${HUB}?topic=a HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  await once(stalled, 'data'); // the stream's head: it is registered
  stalled.pause();
  const peers = new Set([stalled.localPort!]);
  const token = await pubToken();
  const post = (data: string) => new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, servername: 'localhost', path: HUB, method: 'POST', rejectUnauthorized: false, agent: false,
      headers: { Host: 'localhost', Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); });
    req.on('error', reject);
    req.end(`topic=a&data=${data}`);
  });
  const data = 'x'.repeat(64 * 1024);
  for (let i = 0; i < 160; i++) assert.equal(await post(data), 200);
  // The hub ends the stalled stream: its side of the connection leaves ESTABLISHED (01).
  const deadline = Date.now() + 20_000;
  while (serverSockets(port, peers).some((s) => s.state === '01') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(serverSockets(port, peers).some((s) => s.state === '01'), false, 'the stalled TLS stream was ended');
  assert.equal(await post('still-alive'), 200, 'the server survived ending it');
});
