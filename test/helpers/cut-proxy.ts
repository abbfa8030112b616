/**
 * A TCP proxy in front of a real service that can lose answers: in `cut`
 * mode, the first bytes the service sends back on a connection are dropped
 * and both sides of that connection are closed. The request was executed
 * (its answer exists), but the client never learns it: the "stored, then
 * refused" case a publisher's retry must not turn into a second copy.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

export interface CutProxy {
  port: number;
  /** Answers to lose from now on (each cuts its connection); 0 = forward everything. */
  cut(answers: number): void;
  /** Resolves once `n` answers in total have been cut. */
  cutCount(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startCutProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<CutProxy> {
  let toCut = 0;
  let cutTotal = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    for (const s of [client, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}); }
    client.on('data', (b) => upstream.write(b));
    upstream.on('data', (b) => {
      if (toCut > 0) {
        toCut--;
        cutTotal++;
        client.destroy();
        upstream.destroy();
        for (const w of waiters.splice(0)) { if (cutTotal >= w.n) w.resolve(); else waiters.push(w); }
        return;
      }
      client.write(b);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    cut(answers) { toCut = answers; },
    cutCount(n) { return cutTotal >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })); },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
