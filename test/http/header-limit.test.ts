/**
 * The header limit is Go's (1 MiB) on every HTTP/1 listener, TLS included,
 * and a request over it gets a 431 it can read: the connection is closed
 * with a FIN after the answer while what the client still sends is drained,
 * never reset under it (Node's default handler resets a client still sending).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { startCaddyfile } from '../helpers/caddyfile-server.ts';

const BIG = 2 << 20;

/** Sends one request with an Authorization header of `size` bytes on a raw socket; collects the answer and how it ended. */
function rawRequest(open: () => Socket, size: number, host: string): Promise<{ text: string; error?: string }> {
  return new Promise((resolve) => {
    const s = open();
    let text = '';
    let error: string | undefined;
    s.on('data', (d) => { text += d.toString('latin1'); });
    s.on('error', (e: Error & { code?: string }) => { error = e.code ?? e.message; });
    s.on('close', () => resolve({ text, error }));
    s.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${'a'.repeat(size)}\r\nConnection: close\r\n\r\n`);
  });
}

test('plain HTTP/1.1: a 2 MB Authorization header gets a readable 431, never a reset; 900 KB passes', async (t) => {
  const srv = await startCaddyfile(t, ':8080 {\n\trespond "ok"\n}\n');
  const port = srv.port();
  for (let i = 0; i < 5; i++) {
    const r = await rawRequest(() => tcpConnect(port, '127.0.0.1'), BIG, 'localhost');
    assert.equal(r.error, undefined, `attempt ${i}: the connection was not reset`);
    assert.equal(r.text, 'HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n431 Request Header Fields Too Large');
  }
  const viaFetch = await fetch(srv.url('/'), { headers: { Authorization: `Bearer ${'a'.repeat(BIG)}` } });
  assert.equal(viaFetch.status, 431);
  const under = await rawRequest(() => tcpConnect(port, '127.0.0.1'), 900 << 10, 'localhost');
  assert.match(under.text, /^HTTP\/1\.1 200 /);
});

test('HTTP/1.1 over TLS: the same 1 MiB limit (not Node\'s 16 KiB) and a readable 431 above it', async (t) => {
  const srv = await startCaddyfile(t, '{\n\tlocal_certs\n\tskip_install_trust\n}\nhttps://localhost:8443 {\n\ttls internal\n\trespond "ok"\n}\n');
  const port = srv.port();
  const open = () => tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  const medium = await rawRequest(open, 100 << 10, 'localhost');
  assert.match(medium.text, /^HTTP\/1\.1 200 /, 'a 100 KB header (a large Mercure token) is accepted');
  const big = await rawRequest(open, BIG, 'localhost');
  assert.equal(big.error, undefined, 'not reset');
  assert.match(big.text, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
});
