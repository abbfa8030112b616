/**
 * `hold` past one process's open-file limit: a hub with `workers N` holds S idle
 * subscribers opened by K client processes (each from its own loopback source
 * address, so no process and no source address runs out of files or ports),
 * then publishes U liveness updates and checks that every stream got every
 * one. Reports the hub's RSS per subscriber (all processes summed), how the
 * kernel spread the connections, and writes JSON to --out.
 *   node bench/hold-workers.ts [--workers 2] [--subscribers 36000] [--clients 2] [--updates 5] [--out DIR]
 */
import { fork } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEV_KEY, mint } from './jwt.ts';
import { readRss } from './proc.ts';
import { spawnHub } from './spawn.ts';

const TOPIC = 'urn:bench:hold';

/**
 * The kernel's per-CPU input queue on loopback (net.core.netdev_max_backlog)
 * and the packets it dropped so far. At 100,000 streams on 2 cores the
 * default 1,000 overflows; dropped keepalive probes then end streams.
 */
function kernelQueue(): { netdevMaxBacklog: number; softnetDropped: number } {
  const read = (f: string) => { try { return readFileSync(f, 'utf8'); } catch { return ''; } };
  const dropped = read('/proc/net/softnet_stat').trim().split('\n').reduce((a, l) => a + (parseInt(l.split(/\s+/)[1] ?? '0', 16) || 0), 0);
  return { netdevMaxBacklog: Number(read('/proc/sys/net/core/netdev_max_backlog').trim()) || 0, softnetDropped: dropped };
}

function sockets(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).filter((fd) => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:'); } catch { return false; } }).length;
  } catch { return 0; }
}

/** Client role: open n SSE streams from `source`, count events per stream, answer the parent. */
async function client(port: number, n: number, source: string): Promise<void> {
  const counts = new Int32Array(n);
  const socks: Socket[] = [];
  let open = 0, failed = 0;
  const request = `GET /.well-known/mercure?topic=${encodeURIComponent(TOPIC)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`;
  const one = (i: number) => new Promise<void>((resolve) => {
    const s = connect({ port, host: '127.0.0.1', localAddress: source });
    socks.push(s);
    let head = true;
    s.setEncoding('latin1');
    s.on('data', (chunk: string) => {
      if (head && chunk.startsWith('HTTP/1.1 200')) { head = false; open++; resolve(); }
      for (let at = chunk.indexOf('\nid: '); at !== -1; at = chunk.indexOf('\nid: ', at + 1)) counts[i]!++;
    });
    s.on('error', () => { failed++; resolve(); });
    s.on('connect', () => s.write(request));
  });
  for (let i = 0; i < n; i += 500) await Promise.all(Array.from({ length: Math.min(500, n - i) }, (_, j) => one(i + j)));
  process.send!({ open, failed });
  process.on('message', (m: { want?: number; quit?: boolean }) => {
    if (m.quit) { for (const s of socks) s.destroy(); process.exit(0); }
    let complete = 0;
    for (const c of counts) if (c >= m.want!) complete++;
    process.send!({ complete });
  });
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({ options: {
    workers: { type: 'string' }, subscribers: { type: 'string' }, clients: { type: 'string' }, updates: { type: 'string' },
    out: { type: 'string' }, role: { type: 'string' }, port: { type: 'string' }, n: { type: 'string' }, source: { type: 'string' },
  } });
  if (v.role === 'client') return client(Number(v.port), Number(v.n), v.source!);
  const workers = Number(v.workers ?? 2), total = Number(v.subscribers ?? 36_000), k = Number(v.clients ?? 2), updates = Number(v.updates ?? 5);
  const hub = await spawnHub({ transport: 'bolt', key: DEV_KEY, alg: 'HS256', workers, directives: ['heartbeat 0s', 'write_timeout 0s'] });
  try {
    const baseline = hub.pids.map((p) => readRss(p) ?? 0);
    const queue0 = kernelQueue();
    const per = Math.ceil(total / k);
    const kids = Array.from({ length: k }, (_, i) => fork(import.meta.filename, ['--role', 'client', '--port', String(hub.port), '--n', String(Math.min(per, total - i * per)), '--source', `127.0.0.${2 + i}`], { execArgv: ['--disable-warning=ExperimentalWarning'] }));
    const ask = <T>(c: (typeof kids)[number], msg?: object) => new Promise<T>((r) => { c.once('message', (m) => r(m as T)); if (msg) c.send(msg); });
    const t0 = performance.now();
    const opened = await Promise.all(kids.map((c) => ask<{ open: number; failed: number }>(c)));
    const connectSeconds = (performance.now() - t0) / 1000;
    const established = opened.reduce((a, o) => a + o.open, 0);
    await new Promise((r) => setTimeout(r, 2000)); // let the hub settle before reading RSS
    const held = hub.pids.map((p) => readRss(p) ?? 0);
    const spread = hub.pids.map((p) => sockets(p));
    const token = await mint({ key: DEV_KEY, alg: 'HS256' }, { publish: ['*'] });
    for (let i = 0; i < updates; i++) {
      const r = await fetch(hub.url, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ topic: TOPIC, data: `live ${i}` }) });
      if (r.status !== 200) throw new Error(`publish answered ${r.status}`);
    }
    let complete = 0;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
      complete = (await Promise.all(kids.map((c) => ask<{ complete: number }>(c, { want: updates })))).reduce((a, m) => a + m.complete, 0);
      if (complete >= established) break;
    }
    for (const c of kids) c.send({ quit: true });
    const queue1 = kernelQueue();
    const rssDelta = held.reduce((a, b) => a + b, 0) - baseline.reduce((a, b) => a + b, 0);
    const report = {
      scenario: 'hold-workers', date: new Date().toISOString(), workers, subscribers: total, clients: k, updates,
      established, failed: opened.reduce((a, o) => a + o.failed, 0), connectSeconds,
      hub: { pids: hub.pids, rssBaselineBytes: baseline, rssHeldBytes: held, socketsPerProcess: spread },
      rssPerSubscriberBytes: Math.round(rssDelta / Math.max(1, established)),
      streamsWithEveryUpdate: complete,
      kernel: { netdevMaxBacklog: queue1.netdevMaxBacklog, softnetDroppedDuringRun: queue1.softnetDropped - queue0.softnetDropped },
    };
    const out = v.out ?? join(import.meta.dirname, 'out');
    mkdirSync(out, { recursive: true });
    const file = join(out, `hold-workers-${workers}w-${total}-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(`${established}/${total} held over ${workers} processes (sockets ${spread.join(' + ')}), ${(report.rssPerSubscriberBytes / 1024).toFixed(2)} KiB RSS per subscriber, ${complete} streams got all ${updates} updates; kernel input queue ${report.kernel.netdevMaxBacklog}, ${report.kernel.softnetDroppedDuringRun} packets dropped\n${file}\n`);
  } finally {
    await hub.stop();
  }
}

await main();
