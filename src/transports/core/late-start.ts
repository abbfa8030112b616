/**
 * A node that starts while its backend is down. `lateStart(factory)` is a
 * Backend that tries to start a backend from `factory`; when that fails with
 * ERR_TRANSPORT_UNAVAILABLE (refused, unreachable, timed out) it starts
 * anyway, reports the connection down (the transport is live, not ready;
 * publishes and history reads get ERR_TRANSPORT_UNAVAILABLE → 503), and keeps
 * trying in the background with a fresh backend each time (a failed start
 * leaves nothing behind, so each attempt starts from scratch), doubling the
 * pause from minMs to maxMs. Once a backend started, it reports the
 * connection up, replays presence joined meanwhile, and delegates everything.
 * Any other start error (bad config, unreadable file) still fails at once.
 * Used only for configs that will serve; `validate` starts backends directly,
 * so an unreachable backend fails it fast.
 */
import { QsError } from '../../host/errors.ts';
import type { Backend, BackendSink, HistoryResult, PresenceBackend, PublishOutcome, SubscriberInfo, Update } from './contract.ts';

export interface LateStartOptions {
  minMs?: number;
  maxMs?: number;
  /** Where attempts are reported (the module's logger). */
  log?: { warn(o: object, msg: string): void; info(o: object, msg: string): void; debug(o: object, msg: string): void };
}

const isOutage = (err: unknown): boolean => (err as { code?: string } | null)?.code === 'ERR_TRANSPORT_UNAVAILABLE';
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A Backend over `factory` that starts even when the backend is unreachable (see the file comment). */
export function lateStart(factory: () => Backend, options: LateStartOptions = {}): Backend {
  const minMs = options.minMs ?? 200;
  const maxMs = options.maxMs ?? 5_000;
  const log = options.log;
  let current: Backend | undefined = factory();
  let ready = false;
  let closed = false;
  let lastError: unknown;
  let timer: NodeJS.Timeout | undefined;
  let sink: BackendSink | undefined;
  /** Presence joined before the backend started, replayed to it once it does. */
  const joined = new Map<string, SubscriberInfo>();
  const probe = current;

  const usable = (): Backend => {
    if (closed) throw new QsError('ERR_TRANSPORT_CLOSED', 'the Mercure transport is closed');
    if (!ready || !current) throw new QsError('ERR_TRANSPORT_UNAVAILABLE', `the transport's backend is not connected yet: ${message(lastError)}`, { cause: lastError });
    return current;
  };

  const attempt = async (delay: number): Promise<void> => {
    timer = undefined;
    if (closed) return;
    const b = current ?? factory();
    current = b;
    try {
      await b.start(sink!);
    } catch (err) {
      current = undefined;
      await b.close().catch(() => {});
      lastError = err;
      if (closed) return;
      if (!isOutage(err)) log?.warn({ err }, 'transport backend cannot start; retrying');
      else log?.debug({ err }, 'transport backend still unreachable; retrying');
      const next = Math.min(delay * 2, maxMs);
      timer = setTimeout(() => { void attempt(next); }, delay);
      timer.unref();
      return;
    }
    if (closed) { await b.close().catch(() => {}); return; }
    ready = true;
    adopt(b);
    for (const info of joined.values()) b.presence?.join(info);
    joined.clear();
    log?.info({}, 'transport backend connected');
    sink!.connection(true);
  };

  const backend: Backend = {
    dedupe: probe.dedupe,
    async start(s: BackendSink): Promise<void> {
      sink = s;
      const b = current!;
      try {
        await b.start(s);
      } catch (err) {
        if (!isOutage(err)) throw err;
        current = undefined;
        await b.close().catch(() => {});
        lastError = err;
        log?.warn({ err }, 'transport backend unreachable at start; serving without it (not ready) and retrying');
        s.connection(false, err);
        timer = setTimeout(() => { void attempt(Math.min(minMs * 2, maxMs)); }, minMs);
        timer.unref();
        return;
      }
      ready = true;
      adopt(b);
    },
    publish(update: Update): Promise<PublishOutcome | void> {
      try { return usable().publish(update); } catch (err) { return Promise.reject(err); }
    },
    async health(): Promise<void> {
      await usable().health?.();
    },
    async close(): Promise<void> {
      closed = true;
      clearTimeout(timer);
      const b = current;
      current = undefined;
      await b?.close();
    },
  };
  /**
   * Delegates the optional reads the backend offers. A backend may learn what it
   * offers only once started (the workers' channel backend asks its host), so
   * this runs for the probe and again for each backend that starts.
   */
  const adopt = (b: Backend): void => {
    if (b.lastEventId && !backend.lastEventId) backend.lastEventId = async () => usable().lastEventId!();
    if (b.history && !backend.history) {
      backend.history = (afterId: string, visit: (u: Update, seq: bigint) => boolean | void): Promise<HistoryResult> => {
        try { return usable().history!(afterId, visit); } catch (err) { return Promise.reject(err); }
      };
    }
    if (b.tail && !backend.tail) {
      backend.tail = (visit: (u: Update, seq: bigint) => boolean | void): Promise<void> => {
        try { return usable().tail!(visit); } catch (err) { return Promise.reject(err); }
      };
    }
    if (b.dedupe && !backend.dedupe) (backend as { dedupe?: Backend['dedupe'] }).dedupe = b.dedupe;
  };
  adopt(probe);
  if (probe.presence) {
    const presence: PresenceBackend = {
      join(info) { if (ready && current?.presence) current.presence.join(info); else joined.set(info.id, info); },
      leave(id) { if (ready && current?.presence) current.presence.leave(id); else joined.delete(id); },
      async list() { const p = usable().presence; return p ? p.list() : [...joined.values()]; },
    };
    backend.presence = presence;
  }
  return backend;
}
