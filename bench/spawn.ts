/**
 * `--spawn`: runs our own hub for the length of a benchmark.
 *
 * Writes a Caddyfile into a temp dir, starts `bin/quicksilver run --config
 * <file>` on a free port, waits until `/.well-known/mercure` answers over
 * HTTP, and stops it (SIGTERM, then SIGKILL) afterwards. The child's PID is
 * the hub's (bin/quicksilver execs Node), so /proc sampling reads the hub.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { childPids, listensOn, raiseFdLimit, type FdLimit } from './proc.ts';
import { isLoopbackAddress, LoopbackError } from './loopback.ts';

/** Transports the generated Caddyfile knows how to configure. */
export const TRANSPORTS = ['local', 'bolt', 'redis', 'postgres', 'kafka', 'pulsar'] as const;
/** One of TRANSPORTS. */
export type TransportName = (typeof TRANSPORTS)[number];

/** How to start a hub. */
export interface SpawnOptions {
  transport: TransportName;
  /** Broker URL for redis / postgres / pulsar (loopback only): `redis://[user:pass@]127.0.0.1:6379[/stream]`, `postgres://…`, `pulsar://127.0.0.1:6650`. */
  transportUrl?: string;
  /** Redis stream (or Pulsar topic) name when the URL has none (cluster hubs must share it). */
  stream?: string;
  /** HS* secret shared by publishers and subscribers. */
  key: string;
  alg: string;
  /** Extra lines inside the `mercure` block. */
  directives?: string[];
  /** A Caddyfile template used instead of the generated one: `{PORT}` and `{DIR}` are replaced. */
  configTemplate?: string;
  /** The quicksilver executable (default: bin/quicksilver of this repo); a .ts/.js file runs on this Node. */
  bin?: string;
  readyTimeoutMs?: number;
  /** Open-file limit to ask for (needs CAP_SYS_RESOURCE above the hard limit). */
  fdLimit?: number;
  /** The `workers` global option (processes on one port); default 1. */
  workers?: number;
  /** Pins the hub's processes to these CPUs (`taskset -c LIST`). */
  cpus?: string;
}

/** A running spawned hub. */
export interface SpawnedHub {
  url: string;
  pid: number;
  /** The main process and its workers. */
  pids: number[];
  port: number;
  dir: string;
  fdLimit: FdLimit | undefined;
  /** The last lines the hub printed. */
  output(): string;
  /** SIGTERM, SIGKILL after `graceMs`; removes the temp dir. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const ROOT = join(import.meta.dirname, '..');
const live = new Set<ChildProcess>();
process.once('exit', () => { for (const c of live) c.kill('SIGKILL'); });

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function word(s: string): string {
  return /^[^\s"{}`]+$/.test(s) ? s : `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The Caddyfile for a hub on `port` with state under `dir`. */
export function hubCaddyfile(port: number, dir: string, o: SpawnOptions): string {
  if (o.configTemplate) return o.configTemplate.replaceAll('{PORT}', String(port)).replaceAll('{DIR}', dir);
  let transport: string;
  switch (o.transport) {
    case 'local': transport = 'transport local'; break;
    case 'bolt': transport = `transport bolt {\n\t\t\tpath ${word(join(dir, 'hub.db'))}\n\t\t}`; break;
    case 'redis': transport = redisBlock(brokerUrl(o), o.stream ?? 'quicksilver-bench'); break;
    case 'postgres': transport = `transport postgres {\n\t\t\turl ${word(brokerUrl(o).href)}\n\t\t}`; break;
    case 'kafka': transport = kafkaBlock(brokerUrl(o), o.stream ?? 'quicksilver-bench'); break;
    case 'pulsar': transport = pulsarBlock(brokerUrl(o), o.stream ?? 'quicksilver-bench'); break;
  }
  const extra = (o.directives ?? []).map((d) => `\t\t${d}\n`).join('');
  const workers = (o.workers ?? 1) > 1 ? `\tworkers ${o.workers}\n` : '';
  return `{\n\tadmin off\n${workers}}\n:${port} {\n\tmercure {\n\t\tpublisher_jwt ${word(o.key)} ${o.alg}\n\t\tsubscriber_jwt ${word(o.key)} ${o.alg}\n\t\tanonymous\n\t\t${transport}\n${extra}\t}\n}\n`;
}

function brokerUrl(o: SpawnOptions): URL {
  if (!o.transportUrl) throw new Error(`--transport ${o.transport} needs --transport-url`);
  const url = new URL(o.transportUrl);
  const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname;
  if (!isLoopbackAddress(host)) throw new LoopbackError(`refusing --transport-url host ${JSON.stringify(url.hostname)}: loopback only`);
  return url;
}

/** The redis transport block (the HA hub's syntax) for a `redis://` URL. */
function redisBlock(url: URL, defaultStream: string): string {
  if (url.protocol !== 'redis:') throw new Error('--transport-url for redis must be redis://host:port[/stream]');
  const lines = [`address ${url.hostname}:${url.port || 6379}`, `stream ${word(decodeURIComponent(url.pathname.slice(1)) || defaultStream)}`];
  if (url.username) lines.push(`username ${word(decodeURIComponent(url.username))}`);
  if (url.password) lines.push(`password ${word(decodeURIComponent(url.password))}`);
  return `transport redis {\n${lines.map((l) => `\t\t\t${l}\n`).join('')}\t\t}`;
}

/** The kafka transport block for `kafka://host:port[/topic]` (each hub generates its own consumer group). */
function kafkaBlock(url: URL, defaultTopic: string): string {
  if (url.protocol !== 'kafka:' || !url.port) throw new Error('--transport-url for kafka must be kafka://host:port[/topic]');
  const topic = decodeURIComponent(url.pathname.slice(1)) || defaultTopic;
  return `transport kafka {\n\t\t\taddress ${url.hostname}:${url.port}\n\t\t\ttopic ${word(topic)}\n\t\t}`;
}

/** The pulsar transport block for `pulsar://host:port[?topic=…]`; each hub generates its own subscription name. */
function pulsarBlock(url: URL, defaultTopic: string): string {
  if (url.protocol !== 'pulsar:') throw new Error('--transport-url for pulsar must be pulsar://host:port[?topic=name]');
  const topic = url.searchParams.get('topic') ?? defaultTopic;
  return `transport pulsar {\n\t\t\turl pulsar://${url.hostname}:${url.port || 6650}\n\t\t\ttopic ${word(topic)}\n\t\t}`;
}

/** Starts a hub and resolves once it answers HTTP on its hub path. */
export async function spawnHub(o: SpawnOptions): Promise<SpawnedHub> {
  if (!o.alg.startsWith('HS') && !o.configTemplate) throw new Error('--spawn generates HS* keys only; pass --hub-config for other algorithms');
  const dir = mkdtempSync(join(tmpdir(), 'qs-bench-'));
  const port = await freePort();
  const file = join(dir, 'Caddyfile');
  writeFileSync(file, hubCaddyfile(port, dir, o));
  const bin = o.bin ?? join(ROOT, 'bin', 'quicksilver');
  // a .ts/.js "binary" runs on this Node (no shebang needed): handy for stand-ins in tests
  const [exe, exeArgs] = /\.[cm]?[jt]s$/.test(bin) ? [process.execPath, ['--disable-warning=ExperimentalWarning', bin, 'run', '--config', file]] : [bin, ['run', '--config', file]];
  const [cmd, args] = o.cpus ? ['taskset', ['-c', o.cpus, exe, ...exeArgs]] : [exe, exeArgs];
  const child = spawn(cmd, args, {
    cwd: dir,
    env: { ...process.env, XDG_DATA_HOME: join(dir, 'data'), QS_LOG_LEVEL: process.env.QS_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let tail = '';
  const keep = (c: Buffer) => { tail = (tail + c.toString()).slice(-16_384); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => { live.delete(child); r(); }));
  let stopped = false;
  const stop = async (graceMs = 10_000) => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}/.well-known/mercure`;
  try {
    await waitReady(url, o.readyTimeoutMs ?? 30_000, () => child.exitCode !== null || child.signalCode !== null);
  } catch (e) {
    await stop(1000);
    throw new Error(`${(e as Error).message}\n--- Caddyfile ---\n${safeRead(file) ?? hubCaddyfile(port, dir, o)}--- hub output ---\n${tail}`);
  }
  // With workers, every forked process must hold the listening socket before the load starts.
  let pids = [child.pid!];
  for (const deadline = Date.now() + (o.readyTimeoutMs ?? 30_000); (o.workers ?? 1) > 1;) {
    pids = [child.pid!, ...childPids(child.pid!)];
    if (pids.length >= o.workers! && pids.every((p) => listensOn(p, port))) break;
    if (Date.now() > deadline) { await stop(1000); throw new Error(`the hub's ${o.workers} workers did not all listen in time\n${tail}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
  const fdLimit = raiseFdLimit(o.fdLimit ?? 0, child.pid!);
  return { url, pid: child.pid!, pids, port, dir, fdLimit, output: () => tail, stop };
}

function safeRead(file: string): string | undefined {
  try { return readFileSync(file, 'utf8'); } catch { return undefined; }
}

/** Polls `url` until it answers any HTTP status, the process dies, or `timeoutMs` passes. */
export async function waitReady(url: string, timeoutMs: number, dead: () => boolean): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < end) {
    if (dead()) throw new Error('hub exited before it was ready');
    try {
      const res = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 });
      res.body.on('error', () => {}).destroy(); // the head is enough: any status means the hub is serving
      return;
    } catch (e) {
      last = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`hub not ready after ${timeoutMs} ms (${last})`);
}
