/** Shared by the Kafka transport tests: a backend over a broker with test-friendly timings. */
import { Fanout } from '../../../src/transports/core/fanout.ts';
import { newNodeId } from '../../../src/transports/core/pooled.ts';
import { KafkaBackend, type KafkaBackendOptions } from '../../../src/transports/kafka/backend.ts';
import { clientOptions } from '../../../src/transports/kafka/client.ts';
import type { KafkaTransportConfig } from '../../../src/transports/kafka/config.ts';
import { RecordingSink } from '../../helpers/redis-server.ts';

/** Backend options for `topic` on `addresses` (plus any config), presence TTL shortened for tests. */
export function backendOptions(config: Partial<KafkaTransportConfig> & { addresses: string[]; topic: string }, extra: Partial<KafkaBackendOptions> = {}): KafkaBackendOptions {
  const nodeId = newNodeId();
  return {
    client: clientOptions(config as KafkaTransportConfig, `qs-test-${process.pid}`),
    topic: config.topic,
    group: `qs-test-${nodeId}`,
    indexSize: config.index_size ?? 100_000,
    nodeId,
    maxWaitMs: 500,
    ...extra,
  };
}

export async function openFanout(options: KafkaBackendOptions): Promise<Fanout> {
  const t = new Fanout(new KafkaBackend(options));
  await t.start();
  return t;
}

export async function startBackend(options: KafkaBackendOptions): Promise<{ backend: KafkaBackend; sink: RecordingSink }> {
  const backend = new KafkaBackend(options);
  const sink = new RecordingSink();
  await backend.start(sink);
  return { backend, sink };
}
