/**
 * A real single-node Kafka 4 broker (KRaft, broker+controller in one JVM) for
 * tests, from the Maven jars of tools/brokers/kafka/pom.xml (see maven.ts).
 * It runs in a temp dir on free loopback ports; readiness is polled with the
 * real client (Admin metadata), never a sleep. stop()/start() keep the ports
 * and the data (outage tests); destroy() stops it and removes the dir. A
 * watchdog kills the JVM when the test process dies without cleaning up.
 *
 * Listeners (each on its own port):
 *   PLAINTEXT   always; inter-broker traffic and the harness's own client
 *   SASL        with `sasl`: SASL_PLAINTEXT, mechanisms PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
 *   SSL         with `tls`: TLS, client certificate optional
 *   MTLS        with `tls`: TLS, client certificate required
 * PLAIN users live in the listener's JAAS line; SCRAM users are written at
 * format time (`StorageTool format --add-scram`), as KRaft wants.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { freePort, makeTlsFiles, type TlsFiles } from '../redis-server.ts';
import { brokerLib, jvmSkipReason } from './maven.ts';

const run = promisify(execFile);

/** A fixed 22-character base64url cluster ID (each broker has its own dir, so one ID is enough). */
const CLUSTER_ID = 'cXVpY2tzaWx2ZXItdGVzdA';

export interface SaslUser { name: string; password: string }

export interface KafkaBrokerOptions {
  /** Adds the SASL listener; `plain` users for PLAIN, `scram` users for both SCRAM mechanisms. */
  sasl?: { plain?: SaslUser[]; scram?: SaslUser[] };
  /** Adds the SSL and MTLS listeners (makeKafkaTlsFiles()). */
  tls?: KafkaTlsFiles;
}

/** The server's CA/cert/key plus a client certificate signed by the same CA. */
export interface KafkaTlsFiles extends TlsFiles { clientCert: string; clientKey: string; certPem: string; keyPem: string }

/** Like redis-server.ts makeTlsFiles, plus a client certificate (CN=quicksilver-client) for the MTLS listener. */
export async function makeKafkaTlsFiles(): Promise<KafkaTlsFiles> {
  const files = await makeTlsFiles();
  const f = (n: string) => join(files.dir, n);
  await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', f('client.key'), '-out', f('client.csr'), '-subj', '/CN=quicksilver-client']);
  await run('openssl', ['x509', '-req', '-in', f('client.csr'), '-CA', files.ca, '-CAkey', f('ca.key'),
    '-CAcreateserial', '-out', f('client.crt'), '-days', '1']);
  return { ...files, clientCert: f('client.crt'), clientKey: f('client.key'), certPem: await readFile(files.cert, 'utf8'), keyPem: await readFile(files.key, 'utf8') };
}

/** Same watchdog as redis-server.ts: the JVM gets SIGTERM when our stdin pipe closes (also when we die). */
const WATCHDOG = `exec 3<&0
"$@" &
pid=$!
(read -r -u 3 _; kill "$pid" 2>/dev/null) &
wait "$pid"`;

const LOG4J = `appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=warn
rootLogger.appenderRef.stdout.ref=STDOUT
logger.srv.name=kafka.server.KafkaRaftServer
logger.srv.level=info
`;

const JVM = ['-Xms256m', '-Xmx768m', '-XX:+UseG1GC', '-Djava.awt.headless=true'];

/** One broker process; create with startKafka(). */
export class KafkaBroker {
  readonly options: KafkaBrokerOptions;
  dir = '';
  lib = '';
  readonly ports = { plain: 0, controller: 0, sasl: 0, ssl: 0, mtls: 0 };
  #child: ChildProcess | undefined;
  #log = '';

  constructor(options: KafkaBrokerOptions = {}) {
    this.options = options;
  }

  /** The PLAINTEXT listener, host:port. */
  get address(): string { return `127.0.0.1:${this.ports.plain}`; }
  get saslAddress(): string { return `127.0.0.1:${this.ports.sasl}`; }
  get sslAddress(): string { return `127.0.0.1:${this.ports.ssl}`; }
  get mtlsAddress(): string { return `127.0.0.1:${this.ports.mtls}`; }
  /** The broker's output so far (warnings and errors, plus the start line). */
  get log(): string { return this.#log; }

  /** First call: fetches the jars, picks ports, writes the config and formats the storage. Then starts and waits until ready. */
  async start(): Promise<this> {
    if (!this.dir) await this.#prepare();
    const child = spawn('/bin/bash', ['-c', WATCHDOG, 'kafka', 'java', ...this.#javaArgs(), 'kafka.Kafka', join(this.dir, 'server.properties')],
      { cwd: this.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child = child;
    const append = (b: Buffer) => { this.#log = (this.#log + b.toString()).slice(-100_000); };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    const exited = once(child, 'exit').then(([code]) => { throw new Error(`kafka exited (${code}) before ready:\n${this.#tail()}`); });
    await Promise.race([this.#waitReady(child), exited]);
    exited.catch(() => {});
    return this;
  }

  /** SIGTERM (via the watchdog) and wait for the exit; keeps dir and ports for start(). */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.stdin!.end();
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  /** An Admin client on the PLAINTEXT listener; close it after use. */
  admin(): Admin {
    return new Admin({ clientId: 'qs-test-harness', bootstrapBrokers: [this.address], retries: 0, timeout: 5_000, connectTimeout: 2_000 } as ConstructorParameters<typeof Admin>[0]);
  }

  /** Creates a topic (tests of the "refuse several partitions" rule). */
  async createTopic(topic: string, partitions: number): Promise<void> {
    const admin = this.admin();
    try { await admin.createTopics({ topics: [topic], partitions, replicas: 1 }); } finally { await admin.close(); }
  }

  async #prepare(): Promise<void> {
    this.lib = await brokerLib('kafka');
    this.dir = await mkdtemp(join(tmpdir(), 'qs-kafka-'));
    for (const k of Object.keys(this.ports) as (keyof KafkaBroker['ports'])[]) this.ports[k] = await freePort();
    await writeFile(join(this.dir, 'log4j2.properties'), LOG4J);
    await writeFile(join(this.dir, 'server.properties'), this.#properties());
    const format = ['format', '-t', CLUSTER_ID, '-c', join(this.dir, 'server.properties'), '--ignore-formatted'];
    for (const u of this.options.sasl?.scram ?? []) {
      for (const m of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) format.push('--add-scram', `${m}=[name=${u.name},password=${u.password}]`);
    }
    try {
      await run('java', [...this.#javaArgs(), 'kafka.tools.StorageTool', ...format], { cwd: this.dir });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`kafka storage format failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  }

  #javaArgs(): string[] {
    return ['-cp', `${this.lib}/*`, ...JVM, `-Djava.io.tmpdir=${this.dir}`, `-Dlog4j2.configurationFile=${join(this.dir, 'log4j2.properties')}`];
  }

  #properties(): string {
    const o = this.options;
    const p = this.ports;
    const listeners = [`PLAINTEXT://127.0.0.1:${p.plain}`, `CONTROLLER://127.0.0.1:${p.controller}`];
    const protocols = ['CONTROLLER:PLAINTEXT', 'PLAINTEXT:PLAINTEXT'];
    const lines: string[] = [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${p.controller}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${join(this.dir, 'data')}`,
      'num.partitions=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'share.coordinator.state.topic.num.partitions=1',
      'group.initial.rebalance.delay.ms=0',
      'num.network.threads=2',
      'num.io.threads=2',
      'auto.create.topics.enable=false',
      'log.retention.ms=-1',
    ];
    const adv = [`PLAINTEXT://127.0.0.1:${p.plain}`];
    if (o.sasl) {
      listeners.push(`SASL://127.0.0.1:${p.sasl}`);
      adv.push(`SASL://127.0.0.1:${p.sasl}`);
      protocols.push('SASL:SASL_PLAINTEXT');
      const plainUsers = (o.sasl.plain ?? []).map((u) => `user_${u.name}="${u.password}"`).join(' ');
      lines.push(
        'listener.name.sasl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
        `listener.name.sasl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
        'listener.name.sasl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
        'listener.name.sasl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      );
    }
    if (o.tls) {
      listeners.push(`SSL://127.0.0.1:${p.ssl}`, `MTLS://127.0.0.1:${p.mtls}`);
      adv.push(`SSL://127.0.0.1:${p.ssl}`, `MTLS://127.0.0.1:${p.mtls}`);
      protocols.push('SSL:SSL', 'MTLS:SSL');
      for (const [name, auth] of [['ssl', 'none'], ['mtls', 'required']] as const) {
        lines.push(
          `listener.name.${name}.ssl.keystore.type=PEM`,
          `listener.name.${name}.ssl.keystore.certificate.chain=${pemLine(o.tls.certPem)}`,
          `listener.name.${name}.ssl.keystore.key=${pemLine(o.tls.keyPem)}`,
          `listener.name.${name}.ssl.truststore.type=PEM`,
          `listener.name.${name}.ssl.truststore.certificates=${pemLine(o.tls.caPem)}`,
          `listener.name.${name}.ssl.client.auth=${auth}`,
        );
      }
    }
    lines.push(`listeners=${listeners.join(',')}`, `advertised.listeners=${adv.join(',')}`,
      `listener.security.protocol.map=${protocols.join(',')}`);
    return lines.join('\n') + '\n';
  }

  /** Polls the PLAINTEXT listener with the real client until the broker answers metadata (≤ 90 s on a loaded machine). */
  async #waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null) return; // the exit promise reports it
      const admin = this.admin();
      try {
        const md = await admin.metadata({ topics: [] });
        if (md.brokers.size > 0) return;
      } catch { /* not up yet */ } finally {
        await admin.close().catch(() => {});
      }
      if (Date.now() > deadline) throw new Error(`kafka not ready within 90 s:\n${this.#tail()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  #tail(): string {
    return this.#log.split('\n').slice(-50).join('\n');
  }
}

/** A PEM as one properties line (newlines escaped). */
function pemLine(pem: string): string {
  return pem.trim().replace(/\n/g, '\\n');
}

/** Starts a broker (fetching the jars on first use). */
export async function startKafka(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const broker = new KafkaBroker(options);
  try {
    return await broker.start();
  } catch (err) {
    await broker.destroy().catch(() => {});
    throw err;
  }
}

/** undefined when a Kafka broker can run here, else the reason a test states when it skips. */
export function kafkaSkipReason(): Promise<string | undefined> {
  return jvmSkipReason();
}

let topics = 0;
/** A topic name no other test uses. */
export function topicName(prefix = 'mercure'): string {
  return `${prefix}-${process.pid}-${++topics}`;
}

/** One broker per test file: started on first use, destroyed when the file ends (register with after()). */
export function lazyKafka(options: KafkaBrokerOptions = {}): { get(): Promise<KafkaBroker>; destroy(): Promise<void> } {
  let p: Promise<KafkaBroker> | undefined;
  return {
    get: () => (p ??= startKafka(options)),
    destroy: async () => { if (p) await (await p.catch(() => undefined))?.destroy(); },
  };
}
