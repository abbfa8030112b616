/**
 * Real redis-server (or valkey-server) processes for tests: standalone, with a
 * password or ACL users, with TLS on loopback (certificates made here with
 * openssl), and a 3-master Redis Cluster. Each server runs in the foreground
 * as our child, on a free port, in its own temp dir; readiness is its own
 * "Ready to accept connections" log line, never a sleep.
 * Also: a recording BackendSink that tests await (RecordingSink).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BackendSink, Update } from '../../src/transports/core/contract.ts';
import { RedisBackend, type RedisBackendOptions } from '../../src/transports/redis/backend.ts';

const run = promisify(execFile);

/** Which server binary. Debian's valkey-tools ships valkey-check-rdb, which is the server when argv[0] says so. */
export type Flavor = 'redis' | 'valkey';

const BINARIES: Record<Flavor, { server: string[]; cli: string }> = {
  redis: { server: ['/usr/bin/redis-server', '/usr/bin/redis-check-rdb'], cli: 'redis-cli' },
  valkey: { server: ['/usr/bin/valkey-server', '/usr/bin/valkey-check-rdb'], cli: 'valkey-cli' },
};

function serverBinary(flavor: Flavor): string | undefined {
  return BINARIES[flavor].server.find((p) => existsSync(p));
}

/** undefined when the flavor can run here, else the reason to skip. */
export function redisSkipReason(flavor: Flavor = 'redis'): string | undefined {
  return serverBinary(flavor) ? undefined : `${flavor} server not installed (apt-get install ${flavor === 'redis' ? 'redis-server' : 'valkey-tools'})`;
}

export interface TlsFiles { dir: string; ca: string; cert: string; key: string; caPem: string }

export interface RedisServerOptions {
  flavor?: Flavor;
  /** requirepass for the default user. */
  password?: string;
  /** ACL users: `name` with `password`, full access. */
  users?: { name: string; password: string }[];
  /** Serve TLS only (no plain port). */
  tls?: TlsFiles;
  /** Keep data across restart() (AOF, fsync always). */
  persistent?: boolean;
  /** Extra config lines as argv pairs, e.g. ['--cluster-enabled', 'yes']. */
  extra?: string[];
  /** Port to use (restart keeps it); a free one by default. */
  port?: number;
  dir?: string;
}

/**
 * Runs the server (argv[0] = $0, which selects server mode for the
 * *-check-rdb binaries) and SIGTERMs it when our stdin pipe closes: on stop(),
 * and also when the test process dies without cleaning up (even SIGKILL), so
 * no server outlives its test run. Exits with the server's status.
 */
const WATCHDOG = `exec 3<&0
(exec -a "$0" "$@") &
pid=$!
(read -r -u 3 _; kill "$pid" 2>/dev/null) &
wait "$pid"`;

/** A free TCP port on loopback; with `bus`, port + 10000 must be free too (cluster bus). */
export async function freePort(bus = false): Promise<number> {
  for (;;) {
    const port = await listenOnce(0);
    if (!bus) return port;
    if (port + 10000 < 65536 && await listenOnce(port + 10000).then(() => true, () => false)) return port;
  }
}

async function listenOnce(port: number): Promise<number> {
  const srv = createServer();
  srv.listen(port, '127.0.0.1');
  await once(srv, 'listening');
  const p = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return p;
}

/** One server process. */
export class RedisServer {
  readonly host = '127.0.0.1';
  port = 0;
  dir = '';
  readonly options: RedisServerOptions;
  #child: ChildProcess | undefined;
  #ownDir = false;

  constructor(options: RedisServerOptions = {}) {
    this.options = options;
  }

  get address(): string { return `${this.host}:${this.port}`; }
  get flavor(): Flavor { return this.options.flavor ?? 'redis'; }

  async start(): Promise<this> {
    const o = this.options;
    const bin = serverBinary(this.flavor);
    if (!bin) throw new Error(redisSkipReason(this.flavor));
    if (!this.dir) {
      this.dir = o.dir ?? await mkdtemp(join(tmpdir(), `qs-${this.flavor}-`));
      this.#ownDir = !o.dir;
    }
    if (!this.port) this.port = o.port ?? await freePort(o.extra?.includes('--cluster-enabled'));
    const args = ['--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--logfile', '', '--daemonize', 'no'];
    args.push('--appendonly', o.persistent ? 'yes' : 'no');
    if (o.persistent) args.push('--appendfsync', 'always');
    if (o.tls) {
      args.push('--port', '0', '--tls-port', String(this.port), '--tls-cert-file', o.tls.cert,
        '--tls-key-file', o.tls.key, '--tls-ca-cert-file', o.tls.ca, '--tls-auth-clients', 'no');
      if (o.extra?.includes('--cluster-enabled')) args.push('--tls-cluster', 'yes');
    } else {
      args.push('--port', String(this.port));
    }
    if (o.password) args.push('--requirepass', o.password);
    for (const u of o.users ?? []) args.push('--user', u.name, 'on', `>${u.password}`, '~*', '&*', '+@all');
    args.push(...(o.extra ?? []));
    const child = spawn('/bin/bash', ['-c', WATCHDOG, `${this.flavor}-server`, bin, ...args], { cwd: this.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child = child;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (b: Buffer) => {
        log += b.toString();
        if (log.includes('Ready to accept connections')) { child.stdout!.off('data', onData); resolve(); }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (b: Buffer) => { log += b.toString(); });
      child.once('exit', (code) => reject(new Error(`${this.flavor}-server exited (${code}) before ready:\n${log}`)));
    });
    child.stdout!.resume();
    return this;
  }

  /** Stops the server (SIGTERM via the watchdog) and waits for its exit. Keeps the dir (see destroy). */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.stdin!.end();
    await exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** stop() and remove the temp dir. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.#ownDir) await rm(this.dir, { recursive: true, force: true });
  }

  /** Runs redis-cli against this server (auth and TLS included). */
  async cli(...cmd: string[]): Promise<string> {
    const o = this.options;
    const args = ['-h', this.host, '-p', String(this.port)];
    if (o.tls) args.push('--tls', '--cacert', o.tls.ca);
    if (o.password) args.push('--no-auth-warning', '-a', o.password);
    const { stdout } = await run(BINARIES[this.flavor].cli, [...args, ...cmd]);
    return stdout.trim();
  }
}

/** Starts a standalone server. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  return new RedisServer(options).start();
}

/** A CA and a server certificate for localhost/127.0.0.1, made with openssl in a temp dir. */
export async function makeTlsFiles(): Promise<TlsFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'qs-redis-tls-'));
  const f = (n: string) => join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', '/CN=quicksilver test CA']);
  await run('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
  await writeFile(f('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'),
    '-CAcreateserial', '-out', f('server.crt'), '-days', '1', '-extfile', f('ext.cnf')]);
  return { dir, ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key'), caPem: readFileSync(f('ca.crt'), 'utf8') };
}

/** A Redis Cluster of `masters` nodes without replicas. */
export class RedisCluster {
  readonly nodes: RedisServer[];
  readonly root: string;
  constructor(nodes: RedisServer[], root: string) { this.nodes = nodes; this.root = root; }
  get addresses(): string[] { return this.nodes.map((n) => n.address); }
  /** Stops every node and removes their directories. */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.destroy()));
    await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * Starts `masters` cluster-enabled servers, joins them with
 * `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`, and waits
 * until every node reports cluster_state:ok.
 */
export async function startRedisCluster(masters = 3, options: RedisServerOptions = {}): Promise<RedisCluster> {
  const root = await mkdtemp(join(tmpdir(), 'qs-redis-cluster-'));
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      const dir = join(root, String(i));
      await mkdir(dir);
      nodes.push(new RedisServer({
        ...options, dir,
        extra: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000', ...(options.extra ?? [])],
      }));
    }
    await Promise.all(nodes.map((n) => n.start()));
    const first = nodes[0]!;
    await first.cli('--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-replicas', '0', '--cluster-yes');
    for (const n of nodes) await waitFor(async () => (await n.cli('cluster', 'info')).includes('cluster_state:ok'), 20_000);
    return new RedisCluster(nodes, root);
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Polls an async condition until it holds (for state only observable by
 * asking, like cluster_state). Throws after timeoutMs.
 */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// --- Backend test helpers ---------------------------------------------------

/** Records what a backend delivers; tests await the n-th delivery or a connection change (no sleeps). */
export class RecordingSink implements BackendSink {
  readonly updates: { update: Update; seq: bigint }[] = [];
  readonly connections: boolean[] = [];
  #waiters: { check: () => boolean; resolve: () => void }[] = [];

  deliver(update: Update, seq: bigint): void {
    this.updates.push({ update, seq });
    this.#wake();
  }

  connection(up: boolean): void {
    this.connections.push(up);
    this.#wake();
  }

  get ids(): string[] { return this.updates.map((u) => u.update.id); }

  /** Resolves once check() holds (checked after every event); rejects after timeoutMs. */
  until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.ids)} / connections ${JSON.stringify(this.connections)}`));
      }, timeoutMs);
      const waiter = { check, resolve: () => { clearTimeout(timer); resolve(); } };
      this.#waiters.push(waiter);
    });
  }

  /** Waits until `n` updates were delivered. */
  count(n: number, timeoutMs?: number): Promise<void> {
    return this.until(() => this.updates.length >= n, timeoutMs, `${n} updates`);
  }

  /** Waits for the next connection change to `up`. */
  connectionChange(up: boolean, timeoutMs?: number): Promise<void> {
    const seen = this.connections.length;
    return this.until(() => this.connections.slice(seen).includes(up), timeoutMs, `connection ${up ? 'up' : 'down'}`);
  }

  #wake(): void {
    for (const w of [...this.#waiters]) {
      if (w.check()) {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        w.resolve();
      }
    }
  }
}

/** A started backend and its sink. */
export async function startBackend(options: RedisBackendOptions): Promise<{ backend: RedisBackend; sink: RecordingSink }> {
  const backend = new RedisBackend(options);
  const sink = new RecordingSink();
  await backend.start(sink);
  return { backend, sink };
}

let n = 0;
/** A fresh update with a unique ID (or the given one). */
export function update(id = `urn:test:${process.pid}:${++n}`, extra: Partial<Update> = {}): Update {
  return { id, topics: ['https://example.com/books/1'], data: `data of ${id}`, private: false, ...extra };
}

/** A stream name no other test uses. */
export function streamName(prefix = 'mercure'): string {
  return `${prefix}-${process.pid}-${++n}`;
}
