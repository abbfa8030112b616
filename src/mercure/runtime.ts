/**
 * The state the request handlers share: built once at provision by the hub
 * module, read on every request. Nothing here is per request.
 */
import type { Logger } from 'pino';
import type { Transport } from '../transports/core/contract.ts';
import type { TopicSelectorStore } from '../topics/topic-selector.ts';
import type { TokenVerifier } from './jwt.ts';
import type { HubMetrics } from './metrics.ts';
import type { OriginList } from './origins.ts';
import type { SseSubscriber, StreamOptions } from './subscriber.ts';

export interface HubRuntime {
  transport: Transport;
  selectors: TopicSelectorStore;
  /** Verifies subscriber tokens; undefined on an anonymous-only hub (tokens ignored). */
  subscriberVerifier: TokenVerifier | undefined;
  /** Verifies publisher tokens; undefined when publishing is disabled. */
  publisherVerifier: TokenVerifier | undefined;
  anonymous: boolean;
  subscriptions: boolean;
  /** protocol_version_compatibility 7. */
  compat7: boolean;
  cookieName: string;
  publishOrigins: OriginList | undefined;
  stream: Omit<StreamOptions, 'expSeconds'>;
  metrics: HubMetrics;
  log: Logger;
  /** Open streams of this hub. */
  streams: Set<SseSubscriber>;
}

/** A request as the hub handlers see it: raw (encoded) path and query, and the parsed query. */
export interface HubRequest {
  path: string;
  rawQuery: string;
  query: Map<string, string[]>;
  /** Path + `?query` as received (Go's RequestURI). */
  requestUri: string;
}
