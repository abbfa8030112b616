/**
 * Hijacking an HTTP/1.1 response's connection (src/http/hijack.ts): what is
 * handed over, what is declined, the close hooks, and that node:http's
 * request objects are released (the memory the hijack exists to save).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { hijack, onHijack, type HijackedStream } from '../../src/http/hijack.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(t: { after(fn: () => void): void }, handler: Handler): Promise<number> {
  const sockets = new Set<Socket>();
  const server = http.createServer(handler);
  server.on('connection', (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => { for (const s of sockets) s.destroy(); server.close(); });
  return (server.address() as AddressInfo).port;
}

/** A raw client: sends `request`, collects everything until the server closes. */
function rawClient(port: number, request: string): { sock: Socket; text: () => string; ended: Promise<void>; waitFor(s: string): Promise<void> } {
  const sock = connect(port, '127.0.0.1');
  let buf = '';
  const waiters: { s: string; resolve: () => void }[] = [];
  sock.setEncoding('latin1');
  sock.on('data', (d: string) => {
    buf += d;
    for (const w of waiters.splice(0)) if (buf.includes(w.s)) w.resolve(); else waiters.push(w);
  });
  sock.write(request);
  const ended = once(sock, 'close').then(() => undefined);
  return {
    sock, ended, text: () => buf,
    waitFor: (s) => buf.includes(s) ? Promise.resolve() : new Promise((resolve) => waiters.push({ s, resolve })),
  };
}

const GET = 'GET /s HTTP/1.1\r\nHost: x\r\n\r\n';

test('hijack: the socket is handed over, node:http lets go, hooks run at close with the bytes written', async (t) => {
  let stream: HijackedStream | null = null;
  let closedWith: number | undefined;
  const closed = Promise.withResolvers<void>();
  let hookRuns = 0;
  let resRef: WeakRef<ServerResponse> | undefined;
  let reqRef: WeakRef<IncomingMessage> | undefined;
  const hijacked = Promise.withResolvers<void>();
  const port = await serve(t, (req, res) => {
    onHijack(res, () => { hookRuns++; return (bytes) => { closedWith = bytes; closed.resolve(); }; });
    onHijack(res, () => undefined); // a hook may decline to watch the close
    res.setHeader('Content-Type', 'text/event-stream');
    res.flushHeaders();
    stream = hijack(res);
    assert.ok(stream, 'an HTTP/1.1 chunked response is hijacked');
    assert.equal((stream.socket as unknown as { parser: unknown }).parser, null, 'the parser is freed');
    assert.equal(res.socket, null, 'the response is detached');
    assert.deepEqual(stream.socket.listeners('data').map((f) => f.name), ['discard']);
    resRef = new WeakRef(res);
    reqRef = new WeakRef(req);
    stream.socket.write('5\r\nhello\r\n');
    stream.bytes += 5;
    hijacked.resolve();
  });
  const c = rawClient(port, GET);
  await hijacked.promise;
  await c.waitFor('hello\r\n');
  assert.match(c.text(), /^HTTP\/1\.1 200 OK\r\n[^]*Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n$/);
  assert.equal(hookRuns, 1);
  // Nothing of the request is kept once the handler's frame is gone.
  await new Promise((r) => setImmediate(r));
  gc();
  assert.equal(resRef!.deref(), undefined, 'the ServerResponse is collected');
  assert.equal(reqRef!.deref(), undefined, 'the IncomingMessage is collected');
  // Bytes the client sends now are ignored; the stream stays up.
  c.sock.write('GET /again HTTP/1.1\r\nHost: x\r\n\r\n');
  stream!.socket.write('3\r\nabc\r\n');
  stream!.bytes += 3;
  await c.waitFor('abc\r\n');
  assert.equal(closedWith, undefined);
  stream!.end();
  await c.ended;
  assert.ok(c.text().endsWith('3\r\nabc\r\n0\r\n\r\n'), 'end() writes the last chunk, then closes');
  await closed.promise;
  assert.equal(closedWith, 8);
});

test('hijack: a client that leaves closes the stream and runs the hooks once', async (t) => {
  const closed = Promise.withResolvers<number>();
  let owner = 0;
  const port = await serve(t, (_req, res) => {
    onHijack(res, () => (bytes) => closed.resolve(bytes));
    res.flushHeaders();
    const s = hijack(res)!;
    s.owner = { streamClosed: () => { owner++; } };
    s.socket.write('1\r\n:\r\n');
    s.bytes += 1;
  });
  const c = rawClient(port, GET);
  await c.waitFor('1\r\n:\r\n');
  c.sock.end();
  assert.equal(await closed.promise, 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(owner, 1);
});

test('hijack declines HTTP/1.0, HEAD and other methods, encoded bodies, an unsent head and bytes buffered in the response', async (t) => {
  const results: Record<string, boolean> = {};
  const port = await serve(t, (req, res) => {
    const kind = req.url!.slice(1);
    if (kind === 'encoded') res.setHeader('Content-Encoding', 'gzip');
    if (kind === 'unsent') {
      results[kind] = hijack(res) !== null;
      res.end();
      return;
    }
    if (kind === 'buffered') res.write('x'); // sits in the response's chunk buffer until the next tick
    else res.flushHeaders();
    results[kind] = hijack(res) !== null;
    res.end();
  });
  for (const [kind, request] of [
    ['http10', 'GET /http10 HTTP/1.0\r\nHost: x\r\n\r\n'],
    ['head', 'HEAD /head HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['post', 'POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'],
    ['encoded', 'GET /encoded HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['unsent', 'GET /unsent HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['buffered', 'GET /buffered HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  ] as const) {
    const c = rawClient(port, request);
    await c.ended;
    assert.match(c.text(), /^HTTP\/1\.1 200 OK/, kind);
  }
  assert.deepEqual(results, { http10: false, head: false, post: false, encoded: false, unsent: false, buffered: false });
});
