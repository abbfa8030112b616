import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsagePool } from '../../src/host/usage-pool.ts';
import { createCertificate } from '../../src/http/tls/x509.ts';
import { request, respond, start } from './helpers.ts';

const site = (body: string) => [{ handle: [respond(body)] }];

test('HTTP/2 over TLS with a certificate from the internal CA', async (t) => {
  const srv = await start(t, {
    tls: { automation: { policies: [{ subjects: ['localhost'], issuers: [{ module: 'internal' }] }] } },
    http: { servers: { srv0: { listen: ['127.0.0.1:0'], tls_connection_policies: [{}], routes: [
      { match: [{ host: ['localhost'] }], handle: [respond('proto={http.request.proto} scheme={http.request.scheme} tls={http.request.tls.version}')] },
    ] } } },
  });
  const ca = readFileSync(join(srv.dataDir, 'pki/authorities/local/root.crt'), 'utf8');
  assert.ok(new X509Certificate(ca).ca, 'the local root is a CA certificate');
  const client = http2.connect(`https://localhost:${srv.port()}`, { ca, servername: 'localhost', host: '127.0.0.1' } as http2.SecureClientSessionOptions);
  t.after(() => client.close());
  const stream = client.request({ ':path': '/' });
  const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
  stream.setEncoding('utf8');
  let body = '';
  for await (const c of stream) body += c;
  assert.equal(headers[':status'], 200);
  assert.equal(body, 'proto=HTTP/2.0 scheme=https tls=tls1.3');
  const peer = (client.socket as unknown as { getPeerX509Certificate(): X509Certificate }).getPeerX509Certificate();
  assert.ok(peer.checkHost('localhost'));
  assert.ok(peer.verify(new X509Certificate(ca).publicKey), 'the leaf is signed by the local CA');
});

test('TLS: a loaded certificate pair (tls cert key) serves HTTP/1.1 too', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qs-tls-'));
  const pair = createCertificate({ commonName: 'example.test', sans: ['example.test'], days: 1 });
  writeFileSync(join(dir, 'cert.pem'), pair.cert);
  writeFileSync(join(dir, 'key.pem'), pair.key);
  const srv = await start(t, {
    tls: { certificates: { load_files: [{ certificate: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }] } },
    http: { servers: { srv0: { listen: ['127.0.0.1:0'], tls_connection_policies: [{}], routes: site('secure') } } },
  });
  const { default: https } = await import('node:https');
  const req = https.get({ host: '127.0.0.1', port: srv.port(), servername: 'example.test', ca: pair.cert, agent: false, path: '/' });
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  let body = '';
  for await (const c of res) body += c;
  assert.equal(res.httpVersion, '1.1');
  assert.equal(body, 'secure');
});

test('reload keeps the listening socket: same address, same port, new routes', async (t) => {
  const pool = new UsagePool();
  const a = await start(undefined, { http: { servers: { srv0: { listen: ['127.0.0.1:0'], routes: site('old') } } } }, { pool });
  const port = a.port();
  assert.equal((await request(a.url('/'))).body, 'old');
  // the new config provisions and starts while the old one still runs (as the runtime does)
  const b = await start(undefined, { http: { servers: { srv0: { listen: ['127.0.0.1:0'], routes: site('new') } } } }, { pool });
  t.after(() => b.stop());
  assert.equal(b.port(), port, 'the same socket is reused');
  await a.stop(1000);
  const r = await request(`http://127.0.0.1:${port}/`);
  assert.equal(r.body, 'new');
});

test('graceful stop: in-flight requests finish, long streams are cut at the deadline', async (t) => {
  let releaseSlow: (() => void) | undefined;
  const slowStarted = Promise.withResolvers<void>();
  const upstreamServer = http.createServer((req, res) => {
    if (req.url === '/slow') { slowStarted.resolve(); releaseSlow = () => res.end('done'); return; }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': open\n\n');
  });
  upstreamServer.listen(0, '127.0.0.1');
  await once(upstreamServer, 'listening');
  t.after(() => { upstreamServer.closeAllConnections(); upstreamServer.close(); });
  const dial = `127.0.0.1:${(upstreamServer.address() as net.AddressInfo).port}`;
  const app = await start(t, { http: { servers: { srv0: { listen: ['127.0.0.1:0'], routes: [
    { handle: [{ handler: 'reverse_proxy', upstreams: [{ dial }] }] },
  ] } } } });
  const base = app.url('/');
  const slow = request(app.url('/slow'));
  await slowStarted.promise;
  const streamReq = http.get(app.url('/stream'), { agent: false });
  const [streamRes] = (await once(streamReq, 'response')) as [http.IncomingMessage];
  const streamError = Promise.withResolvers<Error>();
  streamRes.on('error', streamError.resolve);
  const stopping = app.stop(300);
  releaseSlow!();
  const r = await slow;
  assert.equal(r.body, 'done', 'the in-flight request finished');
  await stopping;
  const err = await streamError.promise;
  assert.equal((err as NodeJS.ErrnoException).code, 'ECONNRESET', 'the long-lived stream was cut at the deadline');
  assert.equal(streamRes.complete, false);
  await assert.rejects(request(base), /ECONNREFUSED/, 'the listener is closed after stop');
});

test('config errors: unknown handler module, repeated listen address, unknown server field', async () => {
  await assert.rejects(start(undefined, { http: { servers: { srv0: { listen: ['127.0.0.1:0'], routes: [{ handle: [{ handler: 'nope' }] }] } } } }),
    /unknown module 'http.handlers.nope'/);
  await assert.rejects(start(undefined, { http: { servers: { a: { listen: ['127.0.0.1:0'] }, b: { listen: ['127.0.0.1:0'] } } } }),
    /listener address repeated/);
  await assert.rejects(start(undefined, { http: { servers: { a: { listen: ['127.0.0.1:0'], rutes: [] } } } }),
    /unknown field 'rutes'/);
});
