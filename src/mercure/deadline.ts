/**
 * `dispatch_timeout` for the hub's calls into the transport (publish, history
 * replay at subscribe, the subscriptions API): a backend that hangs (a locked
 * table, a black-holed connection, an exhausted pool) costs a request at most
 * this long, then it is answered 503 like an outage. The call itself may
 * still finish later: a publish answered 503 may then be stored, which is why
 * publishers retry with the same `id` (idempotent publish).
 */
import { QsError } from '../host/errors.ts';

/** Resolves or rejects as `work` does, or rejects with ERR_TRANSPORT_UNAVAILABLE after `ms` (0 = no limit). */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  if (!(ms > 0)) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new QsError('ERR_TRANSPORT_UNAVAILABLE', `${what}: the transport did not answer within dispatch_timeout (${ms} ms)`));
    }, ms);
  });
  // A late rejection of work after the deadline must not become an unhandled rejection.
  work.catch(() => {});
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
