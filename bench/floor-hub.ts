/**
 * The yardstick: the least work a Node process can do per delivered event on
 * this machine. NOT a Mercure hub (no auth, no topics, no history): it
 * answers every `GET ...?topic=` with an SSE head and keeps the socket, and
 * every POST with the update's id, then writes each batch of events, built
 * once as one HTTP/1.1 chunk, to every socket in one loop, with the hub's
 * flush rule (a round at once after an idle spell, then at most one per
 * 20 ms). What a scenario measures here is the cost of the write syscalls
 * themselves; a hub's figure minus this one is the hub's own overhead.
 *
 *   npm run bench -- fanout --spawn --hub-bin bench/floor-hub.ts --subscribers 10000 --rate 10
 *
 * Takes `run --config FILE` like bin/quicksilver and reads the port from the
 * generated Caddyfile's `:PORT {` line. Loopback only.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { frame } from '../src/mercure/sse-framing.ts';

const WINDOW_MS = 20;
const SSE_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n:\n\r\n';

const streams = new Set<Socket>();
let batch: Buffer[] = [];
let batchBytes = 0;
let pending = false;
let last = -Infinity;
let seq = 0;

function flush(): void {
  pending = false;
  last = performance.now();
  if (batchBytes === 0) return;
  const chunk = frame(batch, batchBytes);
  batch = [];
  batchBytes = 0;
  for (const s of streams) s.write(chunk);
}

function broadcast(event: Buffer): void {
  batch.push(event);
  batchBytes += event.length;
  if (pending) return;
  pending = true;
  const wait = last + WINDOW_MS - performance.now();
  if (wait >= 1) setTimeout(flush, wait); else setImmediate(flush);
}

function publish(body: string): string {
  const form = new URLSearchParams(body);
  const id = form.get('id') ?? `urn:uuid:floor-${++seq}`;
  const data = (form.get('data') ?? '').split('\n').map((l) => `data: ${l}\n`).join('');
  broadcast(Buffer.from(`id: ${id}\n${data}\n`));
  return id;
}

function reply(sock: Socket, status: string, body: string): void {
  sock.write(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** One connection: requests in sequence (keep-alive), until it becomes a stream. */
function serve(sock: Socket): void {
  let buf = '';
  sock.setNoDelay(true);
  sock.setEncoding('latin1');
  sock.on('error', () => sock.destroy());
  sock.on('close', () => streams.delete(sock));
  sock.on('data', (d: string) => {
    if (streams.has(sock)) return; // a stream reads nothing more
    buf += d;
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + length) return;
      const body = buf.slice(end + 4, end + 4 + length);
      buf = buf.slice(end + 4 + length);
      const [method = '', target = ''] = head.slice(0, head.indexOf('\r\n') >>> 0).split(' ');
      if (method === 'POST') reply(sock, '200 OK', publish(Buffer.from(body, 'latin1').toString('utf8')));
      else if (method === 'GET' && target.includes('topic=')) {
        sock.write(SSE_HEAD);
        streams.add(sock);
        return;
      } else reply(sock, '400 Bad Request', 'floor hub: GET ?topic= or POST\n');
    }
  });
}

function portFromArgs(argv: string[]): number {
  const i = argv.indexOf('--config');
  if (i >= 0 && argv[i + 1]) {
    const m = /^:(\d+)\s*\{/m.exec(readFileSync(argv[i + 1]!, 'utf8'));
    if (m) return Number(m[1]);
  }
  const p = argv.indexOf('--port');
  return p >= 0 ? Number(argv[p + 1]) : 0;
}

const server = createServer(serve);
server.listen(portFromArgs(process.argv.slice(2)), '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`floor hub on http://127.0.0.1:${typeof a === 'object' && a ? a.port : '?'}/.well-known/mercure\n`);
});
const stop = (): void => { for (const s of streams) s.destroy(); server.close(); process.exit(0); };
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
