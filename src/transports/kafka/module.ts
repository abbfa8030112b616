/**
 * `mercure.transports.kafka`: the Kafka transport as a host module. The
 * transport (Fanout over KafkaBackend) lives in ctx.pool under the module ID
 * plus the resolved config, so hubs with the same config share one set of
 * connections and a reload that keeps the config keeps them.
 *
 * consumer_group: when the config has none, the process generates one
 * (`quicksilver-<host>-<pid>-<random>`), the same for the life of the process,
 * and logs it with the transport's start line.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ModuleInfo } from '../../host/module.ts';
import { newNodeId, PooledTransport } from '../core/pooled.ts';
import { KafkaBackend } from './backend.ts';
import { clientOptions } from './client.ts';
import { checkKafkaConfig, DEFAULT_INDEX_SIZE, spanOf, usesTls, type KafkaTransportConfig } from './config.ts';

export const MODULE_ID = 'mercure.transports.kafka';

let generatedGroup: string | undefined;
/** This process's consumer group when the config names none: unique, and stable for the process. */
export function processConsumerGroup(): string {
  return (generatedGroup ??= `quicksilver-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`);
}

/** One provisioned use of a pooled Kafka transport. */
export class KafkaTransport extends PooledTransport {
  readonly config: KafkaTransportConfig;

  constructor(config: KafkaTransportConfig) {
    checkKafkaConfig(config);
    super(MODULE_ID, (ctx) => {
      const group = config.consumer_group ?? processConsumerGroup();
      const indexSize = config.index_size ?? DEFAULT_INDEX_SIZE;
      // The password is part of the key so that changing it opens new connections; keys stay in memory.
      const key = {
        addresses: config.addresses, topic: config.topic, group, user: config.user, password: config.password,
        sasl: config.sasl_mechanism ?? 'plain', tls: usesTls(config), ca: config.tls_ca_file, cert: config.tls_cert_file,
        key: config.tls_key_file, insecure: config.tls_insecure_skip_verify ?? false, indexSize,
      };
      const nodeId = newNodeId();
      return {
        key,
        backend: () => new KafkaBackend({
          client: clientOptions(config, `quicksilver-${process.pid}`),
          topic: config.topic, group, indexSize, nodeId, span: spanOf(config), log: ctx.log,
        }),
        started: {
          topic: config.topic, brokers: config.addresses, consumer_group: group,
          consumer_group_generated: config.consumer_group === undefined, node: nodeId, index_size: indexSize,
        },
      };
    });
    this.config = config;
  }
}

/** The module info (src/standard.ts registers it through register-legacy.ts). */
export const module: ModuleInfo<KafkaTransportConfig, KafkaTransport> = {
  id: MODULE_ID,
  create: (config) => new KafkaTransport(config),
};
