/**
 * `mercure.transports.kafka` as a host module against ONE real Kafka broker
 * with PLAINTEXT, SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), TLS and mutual
 * TLS listeners: pooled sharing across a reload, cleanup (also after a failed
 * provision), the one-partition rule, the generated consumer group in the
 * start log, SASL and TLS options against the broker configured for them.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { ModuleContext } from '../../../src/host/module.ts';
import { UsagePool } from '../../../src/host/usage-pool.ts';
import { module as kafkaModule } from '../../../src/transports/kafka/module.ts';
import type { KafkaTransportConfig } from '../../../src/transports/kafka/index.ts';
import { processConsumerGroup } from '../../../src/transports/kafka/module.ts';
import { KafkaBroker, kafkaSkipReason, makeKafkaTlsFiles, startKafka, topicName, type KafkaTlsFiles } from '../../helpers/brokers/kafka.ts';
import { freePort } from '../../helpers/redis-server.ts';
import { testModuleContext } from '../../helpers/module-context.ts';
import { Recorder, update } from '../recorder.ts';
import { moduleConformance } from '../module-conformance.ts';
import { kafkaTransport } from '../../../src/transports/kafka/index.ts';

const skip = await kafkaSkipReason();
let broker: KafkaBroker;
let tls: KafkaTlsFiles;
const ALICE = { name: 'alice', password: 'alice-secret' };
const BOB = { name: 'bob', password: 'bob-secret' };
before(async () => {
  if (skip) return;
  tls = await makeKafkaTlsFiles();
  broker = await startKafka({ sasl: { plain: [ALICE], scram: [BOB] }, tls });
});
after(() => broker?.destroy());

const BOOK = 'https://example.com/books/1';

moduleConformance<KafkaTransportConfig>({
  descriptor: kafkaTransport,
  skip: skip || undefined,
  config: async () => ({ addresses: [broker.address], topic: topicName(), consumer_group: 'conformance' }),
  different: (c) => ({ ...c, topic: topicName() }),
  unreachable: async () => ({ addresses: [`127.0.0.1:${await freePort()}`], topic: topicName() }),
  invalid: { addresses: [], topic: 't' },
  legacy: ['kafka://kafka/?addr=h:9092&topic=ha', { addresses: ['h:9092'], topic: 'ha' }],
});

function context(pool: UsagePool, lines?: unknown[]): ModuleContext {
  const { ctx } = testModuleContext({ pool, registry: new Map(), dataDir: '/nonexistent' });
  if (lines) ctx.log = pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s)); } });
  return ctx;
}

/** Provisions `cfg`, checks an update makes the round trip, cleans up. */
async function roundTrip(cfg: KafkaTransportConfig): Promise<void> {
  const m = kafkaModule.create(cfg);
  try {
    await m.provision(context(new UsagePool()));
    const sub = new Recorder([BOOK]);
    await m.transport.subscribe(sub);
    await m.transport.dispatch(update('over-' + cfg.topic, BOOK));
    await sub.waitFor(1);
    assert.deepEqual(sub.ids(), ['over-' + cfg.topic]);
  } finally {
    await m.cleanup();
  }
}

test('without consumer_group: a generated one, stable for the process, in the start log', { skip }, async () => {
  const lines: { msg?: string; consumer_group?: string; consumer_group_generated?: boolean }[] = [];
  const m = kafkaModule.create({ addresses: [broker.address], topic: topicName() });
  await m.provision(context(new UsagePool(), lines));
  await m.cleanup();
  const started = lines.find((l) => l.msg === 'mercure.transports.kafka started');
  assert.equal(started?.consumer_group, processConsumerGroup());
  assert.equal(started?.consumer_group_generated, true);
});

test('a topic with several partitions is refused at provision, saying why', { skip }, async () => {
  const topic = topicName('three');
  await broker.createTopic(topic, 3);
  const m = kafkaModule.create({ addresses: [broker.address], topic, '@span': 'Caddyfile:4:3' });
  await assert.rejects(m.provision(context(new UsagePool())), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_CFG_VALUE');
    assert.match(err.message, new RegExp(`^Caddyfile:4:3: transport kafka: topic "${topic}" has 3 partitions; the hub needs a topic with exactly one partition, so that every node sees every update in one order`));
    return true;
  });
  await m.cleanup();
});

test('a failed provision (no broker, wrong password) leaves nothing behind and cleanup still works', { skip }, async () => {
  const refused = kafkaModule.create({ addresses: [`127.0.0.1:${await freePort()}`], topic: 't' });
  await assert.rejects(refused.provision(context(new UsagePool())), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
  await refused.cleanup();
  const wrong = kafkaModule.create({ addresses: [broker.saslAddress], topic: topicName(), user: ALICE.name, password: 'nope' });
  await assert.rejects(wrong.provision(context(new UsagePool())), { code: 'ERR_TRANSPORT_UNAVAILABLE', message: /auth|SASL|credentials/i });
  await wrong.cleanup();
  assert.throws(() => kafkaModule.create({ addresses: [], topic: 't' }), { code: 'ERR_CFG_VALUE' });
});

test('SASL PLAIN against the broker', { skip }, () =>
  roundTrip({ addresses: [broker.saslAddress], topic: topicName('plain'), user: ALICE.name, password: ALICE.password }));

for (const mechanism of ['scram-sha-256', 'scram-sha-512'] as const) {
  test(`SASL ${mechanism.toUpperCase()} against the broker`, { skip }, () =>
    roundTrip({ addresses: [broker.saslAddress], topic: topicName(mechanism), user: BOB.name, password: BOB.password, sasl_mechanism: mechanism }));
}

test('TLS with tls_ca_file; without the CA the handshake is refused; tls_insecure_skip_verify accepts it', { skip }, async () => {
  await roundTrip({ addresses: [broker.sslAddress], topic: topicName('tls'), tls: true, tls_ca_file: tls.ca });
  const untrusted = kafkaModule.create({ addresses: [broker.sslAddress], topic: topicName('tls'), tls: true });
  await assert.rejects(untrusted.provision(context(new UsagePool())), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
  await untrusted.cleanup();
  await roundTrip({ addresses: [broker.sslAddress], topic: topicName('tls'), tls_insecure_skip_verify: true });
});

test('mutual TLS: the client certificate is required and accepted', { skip }, async () => {
  await roundTrip({ addresses: [broker.mtlsAddress], topic: topicName('mtls'), tls_ca_file: tls.ca, tls_cert_file: tls.clientCert, tls_key_file: tls.clientKey });
  const noCert = kafkaModule.create({ addresses: [broker.mtlsAddress], topic: topicName('mtls'), tls_ca_file: tls.ca });
  await assert.rejects(noCert.provision(context(new UsagePool())), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
  await noCert.cleanup();
});
