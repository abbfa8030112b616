/**
 * Issue 18.1: a reload keeps live SSE streams when the site's listener stays,
 * returns without waiting the grace period, and ends streams cleanly (last
 * chunk, no reset) when the listener goes away. Real hub processes, real
 * subscribers and a publisher running across the reloads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, Agent, type IncomingMessage } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mintToken } from '../../src/mercure/token.ts';
import { freePort, startHub } from '../helpers/hub-process.ts';
import { SseClient } from '../helpers/sse.ts';

const KEY = 'reload-streams-test-key-long-enough!!';
const GRACE_S = 30;

function hubConf(admin: number, port: number, extra: string): string {
  return `{\n\tadmin localhost:${admin}\n\tgrace_period ${GRACE_S}s\n}\n:${port} {\n\tmercure {\n\t\tpublisher_jwt ${KEY}\n\t\tanonymous\n\t\ttransport local\n${extra}\t}\n}\n`;
}

/** One request on a new connection (keep-alive reuse across a reload is a client-side race, not what this tests). */
const fresh = new Agent({ keepAlive: false });
function send(url: string, method = 'GET', headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: fresh }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function reload(admin: number, caddyfile: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`http://localhost:${admin}/load`, { method: 'POST', headers: { 'Content-Type': 'text/caddyfile' }, body: caddyfile });
  assert.equal(res.status, 200, await res.text());
  return performance.now() - t0;
}

test('10 reloads (POST /load, quicksilver reload, SIGHUP) with live subscribers and a running publisher: streams stay, nothing is lost, a changed mercure block applies to new subscribers', async (t) => {
  const port = await freePort();
  const admin = await freePort();
  // The two configs differ in their mercure block: `ui` on or off.
  const confs = [hubConf(admin, port, ''), hubConf(admin, port, '\t\tui\n')];
  const hub = await startHub(confs[0]!);
  t.after(() => hub.kill());
  const base = `http://127.0.0.1:${port}`;
  const subs = await Promise.all([1, 2, 3].map(() => SseClient.open(`${base}/.well-known/mercure?topic=reload`)));
  t.after(() => { for (const s of subs) s.close(); });
  const token = await mintToken({ key: KEY, publish: ['*'] });

  let published = 0;
  let stop = false;
  const failures: string[] = [];
  const publisher = (async () => {
    while (!stop) {
      const id = String(published + 1);
      const r = await send(`${base}/.well-known/mercure`, 'POST', {
        Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded',
      }, `topic=reload&id=${id}&data=${id}`);
      if (r.status !== 200 || r.body !== id) failures.push(`publish ${id}: ${r.status} ${r.body}`);
      else published++;
    }
  })();

  const durations: number[] = [];
  const file = join(hub.dir, 'Caddyfile');
  const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
  for (let i = 1; i <= 10; i++) {
    // Each reload happens while updates are flowing, in turn through POST /load, `quicksilver reload` and SIGHUP.
    const before = published;
    await subs[0]!.waitFor((e) => e.length > before);
    const conf = confs[i % 2]!;
    const uiStatus = i % 2 === 1 ? 200 : 404;
    const how = ['POST /load', 'quicksilver reload', 'SIGHUP'][i % 3]!;
    if (how === 'POST /load') durations.push(await reload(admin, conf));
    else if (how === 'quicksilver reload') {
      writeFileSync(file, conf);
      const t0 = performance.now();
      await promisify(execFile)(process.execPath, ['--disable-warning=ExperimentalWarning', main, 'reload', '--config', file, '--address', `localhost:${admin}`]);
      durations.push(performance.now() - t0);
    } else {
      // SIGHUP answers nothing: the reload is done when new requests see the new block.
      writeFileSync(file, conf);
      const t0 = performance.now();
      hub.kill('SIGHUP');
      for (let n = 0; n < 500 && (await send(`${base}/.well-known/mercure/ui/`)).status !== uiStatus; n++) await new Promise((r) => setTimeout(r, 10));
      durations.push(performance.now() - t0);
    }
    const ui = await send(`${base}/.well-known/mercure/ui/`);
    assert.equal(ui.status, uiStatus, `reload ${i} (${how}): the new mercure block serves new requests`);
    for (const s of subs) assert.equal(s.ended, false, `reload ${i} (${how}): a stream ended`);
  }
  // One more update after the last reload, then stop.
  const target = published + 1;
  await subs[0]!.waitFor((e) => e.length >= target);
  stop = true;
  await publisher;
  assert.deepEqual(failures, []);
  const ids = Array.from({ length: published }, (_, i) => String(i + 1));
  for (const s of subs) {
    await s.waitFor((e) => e.length >= published);
    assert.deepEqual(s.events.map((e) => e.id), ids, 'every update, once, in order, on the same connection');
    assert.deepEqual(s.events.map((e) => e.data), ids);
    assert.equal(s.ended, false);
  }
  // A subscriber connecting after the reloads reaches the same transport.
  const late = await SseClient.open(`${base}/.well-known/mercure?topic=reload`);
  t.after(() => late.close());
  const r = await send(`${base}/.well-known/mercure`, 'POST', { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' }, 'topic=reload&id=last&data=last');
  assert.equal(r.status, 200);
  for (const s of [...subs, late]) await s.waitFor((e) => e.at(-1)?.id === 'last');
  // The grace period is 30 s; a reload that waited for the streams would take all of it.
  for (const d of durations) assert.ok(d < (GRACE_S * 1000) / 3, `a reload took ${Math.round(d)} ms: ${durations.map(Math.round).join(', ')}`);
  t.diagnostic(`published ${published} updates across 10 reloads; reload times (ms): ${durations.map(Math.round).join(', ')}`);
});

test('a reload that moves the site to another port ends its streams cleanly (last chunk, no reset), without waiting the grace period', async (t) => {
  const port = await freePort();
  const other = await freePort();
  const admin = await freePort();
  const hub = await startHub(hubConf(admin, port, ''));
  t.after(() => hub.kill());
  const subs = await Promise.all([1, 2].map(() => SseClient.open(`http://127.0.0.1:${port}/.well-known/mercure?topic=x`)));
  let errors = 0;
  for (const s of subs) s.res.on('error', () => { errors++; });
  const took = await reload(admin, hubConf(admin, other, ''));
  await Promise.all(subs.map((s) => s.closed));
  for (const s of subs) assert.equal(s.res.complete, true, 'the chunked stream ended with its last chunk');
  assert.equal(errors, 0, 'no stream was reset');
  assert.ok(took < (GRACE_S * 1000) / 3, `the reload took ${Math.round(took)} ms`);
  // The new listener serves new subscribers; the old port is closed.
  const next = await SseClient.open(`http://127.0.0.1:${other}/.well-known/mercure?topic=x`);
  next.close();
  await assert.rejects(send(`http://127.0.0.1:${port}/`), /ECONNREFUSED/);
});

test('over TLS, HTTP/2 and HTTP/1.1 streams survive reloads too', async (t) => {
  const port = await freePort();
  const admin = await freePort();
  const httpPort = await freePort(); // the automatic HTTP→HTTPS redirects listen there, not on 80
  const conf = (extra: string) => `{\n\tadmin localhost:${admin}\n\thttp_port ${httpPort}\n\tgrace_period ${GRACE_S}s\n\tlocal_certs\n\tskip_install_trust\n}\n`
    + `https://localhost:${port} {\n\ttls internal\n\tmercure {\n\t\tpublisher_jwt ${KEY}\n\t\tanonymous\n\t\ttransport local\n${extra}\t}\n}\n`;
  const hub = await startHub(conf(''));
  t.after(() => hub.kill());
  const ca = readFileSync(join(hub.dir, 'data/quicksilver/pki/authorities/local/root.crt'), 'utf8');
  const client = http2.connect(`https://localhost:${port}`, { ca, servername: 'localhost', host: '127.0.0.1' } as http2.SecureClientSessionOptions);
  t.after(() => client.close());
  const h2 = client.request({ ':path': '/.well-known/mercure?topic=tls' });
  const [head] = (await once(h2, 'response')) as [http2.IncomingHttpHeaders];
  assert.equal(head[':status'], 200);
  let h2text = '';
  h2.setEncoding('utf8');
  const req = https.get({ host: '127.0.0.1', port, servername: 'localhost', ca, agent: false, path: '/.well-known/mercure?topic=tls', headers: { host: `localhost:${port}` } });
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  t.after(() => res.destroy());
  let h1text = '';
  res.setEncoding('utf8');
  const seen = (n: number) => Promise.all([
    new Promise<void>((resolve) => { const f = () => { if (h2text.includes(`id: ${n}\n`)) { h2.off('data', g); resolve(); } }; const g = (c: string) => { h2text += c; f(); }; h2.on('data', g); f(); }),
    new Promise<void>((resolve) => { const f = () => { if (h1text.includes(`id: ${n}\n`)) { res.off('data', g); resolve(); } }; const g = (c: string) => { h1text += c; f(); }; res.on('data', g); f(); }),
  ]);
  const token = await mintToken({ key: KEY, publish: ['*'] });
  for (let i = 1; i <= 3; i++) {
    const r = await fetch(`http://localhost:${admin}/load`, { method: 'POST', headers: { 'Content-Type': 'text/caddyfile' }, body: conf(i % 2 ? '\t\tui\n' : '') });
    assert.equal(r.status, 200, await r.text());
    // A new HTTP/2 session (the old one got a GOAWAY) publishes; both old streams receive.
    const c2 = http2.connect(`https://localhost:${port}`, { ca, servername: 'localhost', host: '127.0.0.1' } as http2.SecureClientSessionOptions);
    const p = c2.request({ ':method': 'POST', ':path': '/.well-known/mercure', 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${token}` });
    p.end(`topic=tls&id=${i}&data=${i}`);
    const [h] = (await once(p, 'response')) as [http2.IncomingHttpHeaders];
    p.resume();
    assert.equal(h[':status'], 200);
    c2.close();
    await seen(i);
  }
  assert.equal(h2text, ':\n' + [1, 2, 3].map((n) => `id: ${n}\ndata: ${n}\n\n`).join(''));
  assert.match(h1text, /id: 3\ndata: 3\n\n$/);
});
