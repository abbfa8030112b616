/**
 * A real Pulsar 4.2.4 standalone broker for tests (brokers.md §0.2): the jars
 * come from Maven Central once (tools/brokers/pulsar/pom.xml, copied into the
 * git-ignored .cache/brokers/pulsar-4.2.4/lib under a lock file, so two test
 * files never fetch at once), and each broker runs as our child on free
 * loopback ports in its own temp dir. Readiness = the admin REST lists
 * `public/default`, polled every 250 ms; never a fixed sleep.
 * stop()/start() keep the ports and the data dir, for outage tests.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, rmSync, renameSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '../redis-server.ts';
import { brokerLib, jvmSkipReason } from './maven.ts';

const run = promisify(execFile);
/** The broker's jars (scripts/brokers.sh), found by the first create(). */
let libDir: string | undefined;

/** undefined when a broker can run here, else why not (stated in the skip). */
export async function pulsarSkipReason(): Promise<string | undefined> {
  return jvmSkipReason();
}

const JVM_FLAGS = [
  '-Xms256m', '-Xmx768m', '-XX:MaxDirectMemorySize=512m', '-XX:+UseG1GC', '-XX:TieredStopAtLevel=1',
  '-Djava.net.preferIPv4Stack=true', '-Dio.netty.tryReflectionSetAccessible=true',
  ...['java.base/java.io', 'java.base/java.util.zip', 'java.base/java.nio', 'java.base/jdk.internal.misc', 'java.base/sun.net', 'java.management/sun.management']
    .map((m) => `--add-opens=${m}=ALL-UNNAMED`),
  '-Dbookkeeper.metadata.bookie.drivers=org.apache.pulsar.metadata.bookkeeper.PulsarMetadataBookieDriver',
  '-Dbookkeeper.metadata.client.drivers=org.apache.pulsar.metadata.bookkeeper.PulsarMetadataClientDriver',
  '-Dlog4j.shutdownHookEnabled=false',
];

const LOG4J = `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="warn">
  <Appenders><Console name="c" target="SYSTEM_OUT"><PatternLayout pattern="%d{HH:mm:ss.SSS} %-5level %c{1} %msg%n"/></Console></Appenders>
  <Loggers><Root level="warn"><AppenderRef ref="c"/></Root></Loggers>
</Configuration>
`;

export interface PulsarBrokerOptions {
  /** Extra standalone.conf lines (key=value). */
  conf?: Record<string, string | number | boolean>;
  /** Also serve TLS (`urlTls`) with this certificate and key (PEM files). */
  tls?: { cert: string; key: string; ca: string };
  /** Require token authentication: JWTs signed HS256 with this secret (≥ 32 bytes); `adminToken` is a superuser's. */
  tokenSecret?: Buffer;
}

/** An HS256 JWT with `sub` (Pulsar's token role). */
export function pulsarToken(secret: Buffer, sub: string): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** One standalone broker. `url` = pulsar://127.0.0.1:<port>, `adminUrl` = http://127.0.0.1:<web port>. */
export class PulsarBroker {
  readonly dir: string;
  readonly port: number;
  readonly webPort: number;
  readonly bookiePort: number;
  /** Set when the broker serves TLS. */
  tlsPort: number | undefined;
  /** A superuser token when the broker requires authentication. */
  adminToken: string | undefined;
  #proc: ChildProcess | undefined;
  #log: string[] = [];

  private constructor(dir: string, port: number, webPort: number, bookiePort: number) {
    this.dir = dir;
    this.port = port;
    this.webPort = webPort;
    this.bookiePort = bookiePort;
  }

  get url(): string { return `pulsar://127.0.0.1:${this.port}`; }
  get urlTls(): string { return `pulsar+ssl://127.0.0.1:${this.tlsPort}`; }
  get adminUrl(): string { return `http://127.0.0.1:${this.webPort}`; }
  get running(): boolean { return this.#proc !== undefined; }

  static async create(opts: PulsarBrokerOptions = {}): Promise<PulsarBroker> {
    libDir = await brokerLib('pulsar');
    const dir = await mkdtemp(join(tmpdir(), 'qs-pulsar-'));
    const [port, webPort, bookiePort] = [await freePort(), await freePort(), await freePort()];
    const b = new PulsarBroker(dir, port, webPort, bookiePort);
    const conf: Record<string, string | number | boolean> = {
      clusterName: 'standalone', bindAddress: '127.0.0.1', advertisedAddress: '127.0.0.1',
      brokerServicePort: port, webServicePort: webPort, metadataStoreUrl: '',
      managedLedgerDefaultEnsembleSize: 1, managedLedgerDefaultWriteQuorum: 1, managedLedgerDefaultAckQuorum: 1,
      loadManagerClassName: 'org.apache.pulsar.broker.loadbalance.NoopLoadManager', loadBalancerEnabled: false,
      webSocketServiceEnabled: false, functionsWorkerEnabled: false, transactionCoordinatorEnabled: false,
      allowAutoTopicCreation: true, allowAutoTopicCreationType: 'non-partitioned',
      brokerDeleteInactiveTopicsEnabled: false, defaultRetentionTimeInMinutes: -1, defaultRetentionSizeInMB: -1,
      ledgerStorageClass: 'org.apache.bookkeeper.bookie.storage.ldb.DbLedgerStorage', journalSyncData: false,
      allowLoopback: true, diskUsageThreshold: 0.99, diskUsageWarnThreshold: 0.99,
      dbStorage_writeCacheMaxSizeMb: 16, dbStorage_readAheadCacheMaxSizeMb: 16, managedLedgerCacheSizeMB: 32,
      numIOThreads: 2, numHttpServerThreads: 4, allowEphemeralPorts: true, listeningInterface: 'lo',
      topicLevelPoliciesEnabled: false,
      ...opts.conf,
    };
    if (opts.tls) {
      b.tlsPort = await freePort();
      Object.assign(conf, { brokerServicePortTls: b.tlsPort, tlsCertificateFilePath: opts.tls.cert, tlsKeyFilePath: opts.tls.key, tlsTrustCertsFilePath: opts.tls.ca });
    }
    if (opts.tokenSecret) {
      b.adminToken = pulsarToken(opts.tokenSecret, 'admin');
      Object.assign(conf, {
        authenticationEnabled: true, authorizationEnabled: false, superUserRoles: 'admin',
        authenticationProviders: 'org.apache.pulsar.broker.authentication.AuthenticationProviderToken',
        tokenSecretKey: `data:;base64,${opts.tokenSecret.toString('base64')}`,
        brokerClientAuthenticationPlugin: 'org.apache.pulsar.client.impl.auth.AuthenticationToken',
        brokerClientAuthenticationParameters: `token:${b.adminToken}`,
      });
    }
    await writeFile(join(dir, 'standalone.conf'), Object.entries(conf).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    await writeFile(join(dir, 'log4j2.xml'), LOG4J);
    await b.start();
    return b;
  }

  /** Starts (or restarts, same ports and data) the broker and waits until it serves public/default. */
  async start(timeoutMs = 120_000): Promise<void> {
    if (this.#proc) return;
    const work = join(this.dir, 'work');
    await mkdir(work, { recursive: true });
    const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin/java') : 'java';
    const proc = spawn(java, [
      '-cp', `${libDir}/*`, ...JVM_FLAGS, `-Djava.io.tmpdir=${work}`, `-Dlog4j2.configurationFile=${join(this.dir, 'log4j2.xml')}`,
      'org.apache.pulsar.PulsarStandaloneStarter', '--config', join(this.dir, 'standalone.conf'), '-nfw', '-nss',
      '--metadata-dir', join(this.dir, 'data/metadata'), '--bookkeeper-dir', join(this.dir, 'data/bookkeeper'),
      '--bookkeeper-port', String(this.bookiePort), '-a', '127.0.0.1',
    ], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = proc;
    this.#log = [];
    const keep = (chunk: Buffer) => { this.#log.push(chunk.toString()); if (this.#log.length > 200) this.#log.shift(); };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    let exited = false;
    proc.once('exit', () => { exited = true; if (this.#proc === proc) this.#proc = undefined; });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exited) throw new Error(`pulsar broker exited during start:\n${this.#log.join('').slice(-4000)}`);
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`pulsar broker not ready after ${timeoutMs} ms:\n${this.#log.join('').slice(-4000)}`);
      }
      try {
        const res = await fetch(`${this.adminUrl}/admin/v2/namespaces/public`, { signal: AbortSignal.timeout(2000), headers: this.#auth() });
        if (res.ok && ((await res.json()) as string[]).includes('public/default')) return;
      } catch { /* not listening yet */ }
      await delay(250); // poll interval
    }
  }

  /** SIGTERM, then SIGKILL after 20 s; resolves when the process is gone. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    const gone = once(proc, 'exit');
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    await gone;
    clearTimeout(t);
    this.#proc = undefined;
  }

  /** Admin REST call (JSON body in, JSON or text out). */
  async admin(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.adminUrl}${path}`, {
      method, headers: { ...this.#auth(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`pulsar admin ${method} ${path}: ${res.status} ${text}`);
    try { return JSON.parse(text); } catch { return text; }
  }

  #auth(): Record<string, string> {
    return this.adminToken ? { authorization: `Bearer ${this.adminToken}` } : {};
  }

  /** Stops the broker and deletes its directory. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  log(): string { return this.#log.join(''); }
}
