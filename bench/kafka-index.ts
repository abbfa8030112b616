/**
 * The Kafka transport's ID → offset index at scale: writes N retained updates
 * (default 1,000,000) to a fresh topic, then measures for a node starting on
 * that history:
 *   - start-up: start() plus the catch-up read that indexes the retained IDs
 *     (history requests wait for it), with index_size = N;
 *   - the heap the index holds (heapUsed after a GC, minus before), and RSS;
 *   - with the default index_size (100,000): the same start-up, and the time of
 *     the fallback scan for the newest ID the index does not hold (the worst
 *     case: every record older than the index is read before it).
 * Output: one JSON line on stdout, also written to bench/out/kafka-index-<time>.json.
 *
 *   node --expose-gc bench/kafka-index.ts [--events N] [--broker host:port]
 * Without --broker it starts a single-node test broker (test/helpers/brokers/kafka.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Producer } from '@platformatic/kafka';
import { KafkaBackend } from '../src/transports/kafka/backend.ts';
import { clientOptions } from '../src/transports/kafka/client.ts';
import { DEFAULT_INDEX_SIZE } from '../src/transports/kafka/config.ts';
import { encodeValue } from '../src/transports/kafka/record.ts';
import type { BackendSink } from '../src/transports/core/contract.ts';
import { startKafka, type KafkaBroker } from '../test/helpers/brokers/kafka.ts';
import { isLoopbackAddress } from './loopback.ts';

const { values } = parseArgs({ options: { events: { type: 'string' }, broker: { type: 'string' } } });
const events = Number(values.events ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

let broker: KafkaBroker | undefined;
let address = values.broker;
if (address && !isLoopbackAddress(address.replace(/:\d+$/, ''))) throw new Error('--broker must be on loopback');
if (!address) { broker = await startKafka(); address = broker.address; }

const topic = `bench-index-${process.pid}`;
const cfg = { addresses: [address], topic };
const id = (i: number) => `urn:uuid:0190${i.toString(16).padStart(4, '0').slice(-4)}-0000-7000-8000-${i.toString(16).padStart(12, '0')}`;
const sink: BackendSink = { deliver() {}, connection() {} };

async function open(indexSize: number): Promise<KafkaBackend> {
  return new KafkaBackend({ client: clientOptions(cfg, 'bench'), topic, group: `bench-${indexSize}-${Date.now()}`, indexSize, nodeId: `bench-${indexSize}` });
}

try {
  // The topic (1 partition) is created by a first backend, then filled in batches.
  const creator = await open(0);
  await creator.start(sink);
  await creator.close();
  const producer = new Producer({ clientId: 'bench-writer', bootstrapBrokers: [address], acks: 1 } as ConstructorParameters<typeof Producer>[0]);
  const wrote0 = Date.now();
  const data = 'x'.repeat(100);
  for (let i = 0; i < events; i += 2000) {
    const messages = [];
    for (let j = i; j < Math.min(i + 2000, events); j++) {
      const u = { id: id(j), topics: [`https://example.com/books/${j % 1000}`], data, private: false };
      messages.push({ topic, partition: 0, key: Buffer.from(u.id), value: encodeValue(u) });
    }
    await producer.send({ messages });
  }
  await producer.close();
  const writeMs = Date.now() - wrote0;

  const measure = async (indexSize: number) => {
    gc(); gc();
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = Date.now();
    const b = await open(indexSize);
    await b.start(sink);
    const startMs = Date.now() - t0;
    // history() waits for the catch-up; the newest ID is indexed, so it answers at once after.
    await b.history(id(events - 1), () => {});
    const readyMs = Date.now() - t0;
    gc(); gc();
    const heapMB = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
    const rssMB = process.memoryUsage().rss / 2 ** 20;
    let fallbackScanMs: number | undefined;
    if (indexSize < events) {
      const t1 = Date.now();
      const r = await b.history(id(events - indexSize - 1), () => false);
      if (!r.found) throw new Error('the ID was not found by the fallback scan');
      fallbackScanMs = Date.now() - t1;
    }
    await b.close();
    return { indexSize, startMs, readyMs, heapMB: Math.round(heapMB * 10) / 10, bytesPerId: Math.round((heapMB * 2 ** 20) / Math.min(indexSize, events)), rssMB: Math.round(rssMB), fallbackScanMs, fallbackScannedRecords: indexSize < events ? events - indexSize : 0 };
  };
  const full = await measure(events);
  const dflt = await measure(DEFAULT_INDEX_SIZE);
  const report = { scenario: 'kafka-index', events, recordBytes: encodeValue({ id: id(1), topics: ['https://example.com/books/1'], data, private: false }).length, writeMs, full, default: dflt, node: process.version, at: new Date().toISOString() };
  const line = JSON.stringify(report);
  console.log(line);
  const out = join(import.meta.dirname, 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `kafka-index-${report.at.replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}.json`), line + '\n');
} finally {
  await broker?.destroy();
}
