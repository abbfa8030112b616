/**
 * `mercure.transports.pulsar`: the Pulsar transport as a host module (Fanout
 * over PulsarBackend, pooled by resolved config like the other transports).
 * A missing subscription_name is generated per process
 * (`quicksilver-<host>-<pid>-<random>`) and logged.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '../../host/errors.ts';
import type { ModuleContext, ModuleInfo } from '../../host/module.ts';
import { newNodeId, PooledTransport } from '../core/pooled.ts';
import { PulsarBackend, fullTopicName } from './backend.ts';
import { checkConfig, spanOf, type PulsarTransportConfig } from './config.ts';

export const MODULE_ID = 'mercure.transports.pulsar';

function tlsOptions(cfg: PulsarTransportConfig, ctx: ModuleContext): ConnectionOptions | undefined {
  if (!cfg.tls && !cfg.url.startsWith('pulsar+ssl:')) return undefined;
  const tls: ConnectionOptions = {};
  if (cfg.tls_ca) {
    try { tls.ca = readFileSync(cfg.tls_ca, 'utf8'); } catch (err) {
      throw new ConfigError('ERR_CFG_VALUE', spanOf(cfg), `transport pulsar: cannot read tls_ca ${cfg.tls_ca}: ${(err as Error).message}`, { expected: 'a readable PEM file' });
    }
  }
  if (cfg.tls_insecure_skip_verify) {
    tls.rejectUnauthorized = false;
    ctx.log.warn('transport pulsar: tls_insecure_skip_verify is set; the broker certificate is not verified');
  }
  return tls;
}

/** One provisioned use of a pooled Pulsar transport. */
export class PulsarTransport extends PooledTransport {
  readonly config: PulsarTransportConfig;

  constructor(config: PulsarTransportConfig) {
    checkConfig(config);
    super(MODULE_ID, (ctx) => {
      const tls = tlsOptions(config, ctx);
      // pulsar:// + tls: the client picks TLS from the URL scheme.
      const url = tls && config.url.startsWith('pulsar://') ? config.url.replace('pulsar://', 'pulsar+ssl://') : config.url;
      const nodeId = newNodeId();
      const generated = config.subscription_name === undefined;
      const subscriptionName = config.subscription_name ?? `quicksilver-${nodeId.replace(/[^A-Za-z0-9_.-]/g, '-')}`;
      const key = { url, topic: fullTopicName(config.topic), subscription_name: config.subscription_name, token: config.token, tls: config.tls, tls_ca: config.tls_ca, index_size: config.index_size };
      return {
        key,
        backend: () => new PulsarBackend({ url, topic: config.topic, subscriptionName, token: config.token, tls, indexSize: config.index_size, nodeId, log: ctx.log }),
        started: { url, topic: fullTopicName(config.topic), subscription_name: subscriptionName, subscription_name_generated: generated, node: nodeId },
      };
    });
    this.config = config;
  }
}

export const module: ModuleInfo<PulsarTransportConfig, PulsarTransport> = {
  id: MODULE_ID,
  create: (config) => new PulsarTransport(config),
};
