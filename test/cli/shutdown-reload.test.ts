import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, Agent, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';

/** The inode of the socket listening on port in process pid (Linux /proc), or undefined. */
function listenInode(pid: number, port: number): string | undefined {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const f of ['tcp', 'tcp6']) {
    let text = '';
    try { text = readFileSync(`/proc/${pid}/net/${f}`, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1]?.endsWith(':' + hex) && cols[3] === '0A') return cols[9];
    }
  }
  return undefined;
}
import { freePort, startHub } from '../helpers/hub-process.ts';

function get(url: string, agent?: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('kill -TERM lets an in-flight request finish, then exits 0', async (t) => {
  const held: ServerResponse[] = [];
  // Only /slow is held; a probe that reaches the hub before it handles SIGTERM gets an answer.
  const upstream = createServer((req, res) => {
    if (req.url !== '/slow') { res.end('probe'); return; }
    held.push(res);
    upstream.emit('held');
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  t.after(() => upstream.close());
  const upPort = (upstream.address() as { port: number }).port;
  const port = await freePort();
  const hub = await startHub(`{\n\tadmin off\n}\n:${port} {\n\treverse_proxy 127.0.0.1:${upPort}\n}\n`);
  t.after(() => hub.kill());

  const inflight = get(`http://127.0.0.1:${port}/slow`);
  await once(upstream, 'held');
  hub.kill('SIGTERM');
  // The hub must stop accepting new connections while the old request is still open.
  await assert.rejects(async () => {
    for (let i = 0; i < 200; i++) { await get(`http://127.0.0.1:${port}/new`); await new Promise((r) => setTimeout(r, 10)); }
  }, /ECONNREFUSED|ECONNRESET/);
  held[0]!.end('slow answer');
  const res = await inflight;
  assert.equal(res.status, 200);
  assert.equal(res.body, 'slow answer');
  assert.equal(await hub.exited, 0);
});

test('a reload through the admin endpoint keeps an unchanged listener', async (t) => {
  // A new connection per request: keep-alive reuse across a reload is a client-side race, not what this tests.
  const fresh = new Agent({ keepAlive: false });
  const port = await freePort();
  const admin = await freePort();
  const conf = (body: string) => `{\n\tadmin localhost:${admin}\n}\n:${port} {\n\trespond "${body}"\n}\n`;
  const hub = await startHub(conf('one'));
  t.after(() => hub.kill());
  assert.equal((await get(`http://127.0.0.1:${port}/`, fresh)).body, 'one');
  const inode = listenInode(hub.pid, port);
  assert.ok(inode, 'the hub listens on the port');

  const res = await fetch(`http://localhost:${admin}/load`, { method: 'POST', headers: { 'Content-Type': 'text/caddyfile' }, body: conf('two') });
  assert.equal(res.status, 200, await res.text());
  const after = await get(`http://127.0.0.1:${port}/`, fresh);
  assert.equal(after.body, 'two');
  assert.equal(listenInode(hub.pid, port), inode, 'the same listening socket serves the new config');

  const bad = await fetch(`http://localhost:${admin}/load`, { method: 'POST', headers: { 'Content-Type': 'text/caddyfile' }, body: `:${port} {\n\trespnd "x"\n}\n` });
  assert.equal(bad.status, 400);
  assert.match((await bad.json() as { error: string }).error, /Caddyfile:2:2: unrecognized directive: respnd/);
  assert.equal((await get(`http://127.0.0.1:${port}/`, fresh)).body, 'two', 'the old config keeps running');

  const cfg = await (await fetch(`http://localhost:${admin}/config/apps/http/servers/srv0/listen`)).json();
  assert.deepEqual(cfg, [`:${port}`]);
  assert.equal((await fetch(`http://localhost:${admin}/stop`, { method: 'POST' })).status, 200);
  assert.equal(await hub.exited, 0);
});

test('run takes the adapted JSON; `quicksilver reload` and SIGHUP load new configs', async (t) => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { adaptCaddyfile } = await import('../../src/runtime/load-config.ts');
  // A new connection per request: this test is about configs, not keep-alive reuse across a reload.
  const fresh = new Agent({ keepAlive: false });
  const port = await freePort();
  const admin = await freePort();
  const conf = (body: string) => `{\n\tadmin localhost:${admin}\n}\n:${port} {\n\trespond "${body}"\n}\n`;
  const json = (body: string) => JSON.stringify(adaptCaddyfile(conf(body), { file: 'Caddyfile', env: {} }).config);
  const hub = await startHub(json('from json'), { file: 'config.json' });
  t.after(() => hub.kill());
  assert.equal((await get(`http://127.0.0.1:${port}/`, fresh)).body, 'from json');

  const caddyfile = join(hub.dir, 'Caddyfile');
  writeFileSync(caddyfile, conf('from reload'));
  const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
  await promisify(execFile)(process.execPath, ['--disable-warning=ExperimentalWarning', main, 'reload', '--config', caddyfile, '--address', `localhost:${admin}`]);
  assert.equal((await get(`http://127.0.0.1:${port}/`, fresh)).body, 'from reload');

  writeFileSync(join(hub.dir, 'config.json'), json('from sighup'));
  hub.kill('SIGHUP');
  let body = '';
  for (let i = 0; i < 100 && body !== 'from sighup'; i++) {
    body = (await get(`http://127.0.0.1:${port}/`, fresh)).body;
    if (body !== 'from sighup') await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(body, 'from sighup');
  hub.kill('SIGTERM');
  assert.equal(await hub.exited, 0);
});

test('on SIGTERM the hub ends its SSE streams cleanly at once instead of holding the grace period', async (t) => {
  const { SseClient } = await import('../helpers/sse.ts');
  const port = await freePort();
  const hub = await startHub(`{\n\tadmin off\n\tgrace_period 60s\n}\n:${port} {\n\tmercure {\n\t\tpublisher_jwt shutdown-test-key-long-enough-!!\n\t\tanonymous\n\t\ttransport local\n\t}\n}\n`);
  t.after(() => hub.kill());
  const sub = await SseClient.open(`http://127.0.0.1:${port}/.well-known/mercure?topic=x`);
  hub.kill('SIGTERM');
  await sub.closed;
  assert.equal(sub.res.complete, true, 'the chunked stream was terminated cleanly, not cut');
  assert.equal(await hub.exited, 0);
});
