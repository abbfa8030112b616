/**
 * Typed errors of the Pulsar client. `code` is the broker's ServerError name
 * (e.g. 'ConsumerBusy', 'ServiceNotReady', 'TopicNotFound') when the broker
 * refused, or one of the client's own codes:
 *   'Disconnected'   the connection went away before an answer
 *   'Timeout'        no answer within the operation timeout
 *   'Closed'         the client, producer or consumer was closed
 *   'MessageTooLarge' the frame exceeds the broker's max_message_size
 *   'ProtocolError'  a malformed frame or an unexpected answer
 *   'LookupFailed'   topic lookup gave no broker (or redirected too often)
 */
export class PulsarError extends Error {
  readonly code: string;
  /** Numeric ServerError when the broker sent one. */
  readonly serverError: number | undefined;

  constructor(code: string, message: string, options: { serverError?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PulsarError';
    this.code = code;
    this.serverError = options.serverError;
  }

  /** Whether retrying later (after a reconnect or lookup) may succeed. */
  get retriable(): boolean {
    return ['Disconnected', 'Timeout', 'ServiceNotReady', 'TooManyRequests', 'MetadataError', 'PersistenceError', 'LookupFailed', 'ProducerBusy', 'ConsumerBusy'].includes(this.code);
  }
}
