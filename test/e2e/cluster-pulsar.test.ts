/**
 * The shared multi-node suite (cluster-suite.ts) on Pulsar: three
 * `quicksilver run` processes on one real standalone broker (started once
 * for this file), each with its own generated subscription_name.
 */
import { clusterSuite } from './cluster-suite.ts';
import { PulsarBroker, pulsarSkipReason } from '../helpers/brokers/pulsar.ts';

clusterSuite('pulsar', async () => {
  const skip = pulsarSkipReason();
  if (skip) return skip;
  const broker = await PulsarBroker.create();
  return {
    transport: `transport pulsar {\n\turl ${broker.url}\n\ttopic mercure-e2e\n}`,
    stop: () => broker.stop(),
    start: () => broker.start(),
    destroy: () => broker.destroy(),
  };
});
