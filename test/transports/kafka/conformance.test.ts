/**
 * The shared transport conformance suite on a real Kafka 4 broker (one per
 * file, single-node KRaft from Maven jars): a fresh topic per test.
 */
import { after } from 'node:test';
import { kafkaSkipReason, lazyKafka, topicName } from '../../helpers/brokers/kafka.ts';
import { transportConformance } from '../conformance.ts';
import { backendOptions, openFanout } from './helpers.ts';

const broker = lazyKafka();
after(() => broker.destroy());

transportConformance('kafka', async () => {
  const b = await broker.get();
  const transport = await openFanout(backendOptions({ addresses: [b.address], topic: topicName('conformance') }));
  return { transport, cleanup: () => transport.close() };
}, { history: true, presence: 'shared', skip: await kafkaSkipReason(), timeoutMs: 20_000 });
