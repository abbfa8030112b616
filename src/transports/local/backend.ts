/**
 * Backend `local`: in memory, one process, no history. The stream is the
 * sequence of publish() calls; each update is fanned out synchronously, so
 * every subscriber sees updates in dispatch order. The last event ID is kept by
 * the core (the last update dispatched, `earliest` before the first).
 */
import { QsError } from '../../host/errors.ts';
import type { Backend, BackendSink, Update } from '../core/contract.ts';

/** The in-memory stream: seq is a counter, publish() delivers synchronously. */
export class LocalBackend implements Backend {
  #sink: BackendSink | undefined;
  #seq = 0n;
  #closed = false;

  async start(sink: BackendSink): Promise<void> {
    this.#sink = sink;
  }

  publish(update: Update): Promise<void> {
    if (this.#closed || !this.#sink) {
      return Promise.reject(new QsError('ERR_TRANSPORT_CLOSED', 'the Mercure transport is closed'));
    }
    this.#sink.deliver(update, ++this.#seq);
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
