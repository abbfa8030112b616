/**
 * `GET|HEAD /.well-known/mercure`: authorise, read the topics and the
 * Last-Event-ID, announce the subscription, register with the transport
 * (history replay happens there), then stream. Statuses and bodies follow
 * Mercure v0.24.2's SubscribeHandler.
 */
import type { IncomingMessage } from 'node:http';
import type { HttpContext } from '../http/handler.ts';
import { detachStream, isHttp2, shedHeaderState } from '../http/response.ts';
import { extractToken } from './authorize.ts';
import { httpError, statusError } from './http-util.ts';
import type { MercureClaims } from './jwt.ts';
import type { HubRequest, HubRuntime } from './runtime.ts';
import { SseSubscriber } from './subscriber.ts';
import { subscriptionEvents } from './subscriptions.ts';
import { newSubscriberId, newUpdateId } from './uuid.ts';
import { headerValues } from '../http/request-headers.ts';
import { fromHeader, toHeader } from '../transports/core/byte-string.ts';
import { withDeadline } from './deadline.ts';

/** Maximum `topic` query parameters. */
export const MAX_QUERY_TOPICS = 1000;

const STREAM_HEADERS: [string, string][] = [
  ['Connection', 'keep-alive'],
  ['Content-Type', 'text/event-stream'],
  ['Cache-Control', 'private, no-cache, no-store, must-revalidate, max-age=0'],
  ['Pragma', 'no-cache'],
  ['Expire', '0'], // sic: the reference hub sends "Expire", not "Expires"
  ['X-Accel-Buffering', 'no'],
];
/** HTTP/2 forbids connection-specific headers (Node drops them with a warning). */
const STREAM_HEADERS_H2 = STREAM_HEADERS.filter(([k]) => k !== 'Connection');

/**
 * The requested last event ID: the first non-empty of the `Last-Event-ID`
 * header, `?lastEventID`, and (compat 7 only) `?Last-Event-ID`.
 */
export function requestedLastEventId(req: IncomingMessage, query: Map<string, string[]>, compat7: boolean): string {
  const header = headerValues(req, 'last-event-id')?.[0];
  if (header) return fromHeader(header); // the header's bytes, read as UTF-8 (byte-string.ts)
  const q = query.get('lastEventID')?.[0];
  if (q) return q;
  if (compat7) return query.get('Last-Event-ID')?.[0] ?? '';
  return '';
}

/** Publishes the subscriber's subscription events (only with `subscriptions`). Errors are logged. */
export async function announce(hub: HubRuntime, sub: SseSubscriber, active: boolean): Promise<void> {
  if (!hub.subscriptions) return;
  for (const ev of subscriptionEvents(sub, active)) {
    try {
      await hub.transport.dispatch({ id: newUpdateId(), topics: [ev.topic], data: ev.data, private: true });
    } catch (err) {
      hub.log.error({ err }, 'Failed to dispatch subscription update');
    }
  }
}

type Auth = { ok: true; claims: MercureClaims | undefined } | { ok: false };

async function authorise(hub: HubRuntime, c: HttpContext, r: HubRequest): Promise<Auth> {
  if (!hub.subscriberVerifier) return { ok: true, claims: undefined };
  const ex = extractToken(c.req, r.query.get('authorization'), hub.cookieName, undefined);
  if (ex.kind === 'error') return { ok: false };
  if (ex.kind === 'none') return hub.anonymous ? { ok: true, claims: undefined } : { ok: false };
  try {
    return { ok: true, claims: await hub.subscriberVerifier.verify(ex.token) };
  } catch (err) {
    hub.log.debug({ err }, 'subscriber token rejected');
    return { ok: false };
  }
}

/**
 * What a stream's close does: unregister, metrics, the inactive subscription
 * event. One function per hub (a closure per stream would live as long as it).
 */
const closers = new WeakMap<HubRuntime, (sub: SseSubscriber) => void>();

function closerFor(hub: HubRuntime): (sub: SseSubscriber) => void {
  let f = closers.get(hub);
  if (!f) {
    f = (sub) => {
      hub.streams.delete(sub);
      sub.server?.delete(sub);
      hub.transport.unsubscribe(sub);
      if (sub.connected) hub.metrics.subscriberDisconnected();
      hub.log.info({ subscriber: sub.id, reason: sub.endReason }, 'Subscriber disconnected');
      void announce(hub, sub, false);
    };
    closers.set(hub, f);
  }
  return f;
}

/**
 * Handles one subscribe request; resolves once the stream is set up. The
 * stream then lives on its own (detachStream): the server does not end it, and
 * no promise, closure or route frame of this request stays pending for hours.
 */
export async function handleSubscribe(hub: HubRuntime, c: HttpContext, r: HubRequest): Promise<void> {
  const { req, res } = c;
  const auth = await authorise(hub, c, r);
  if (!auth.ok) return statusError(res, 401);
  const topics = r.query.get('topic');
  if (!topics || topics.length === 0) return httpError(res, 400, 'Missing "topic" parameter.');
  if (topics.length > MAX_QUERY_TOPICS) return httpError(res, 400, 'Too many "topic" parameters.');

  const claims = auth.claims;
  const lastEventId = requestedLastEventId(req, r.query, hub.compat7);
  // The hub's options object is shared by its streams unless the token expires.
  const opts = claims?.exp === undefined ? hub.stream : { ...hub.stream, expSeconds: claims.exp };
  const sub = new SseSubscriber(res, newSubscriberId(), topics, claims ? claims.subscribe ?? [] : null, claims?.payload, opts);

  await announce(hub, sub, true);
  let header: string | undefined;
  try {
    // A history read that hangs gives up after dispatch_timeout (503), and the registration is withdrawn.
    header = await withDeadline(hub.transport.subscribe(sub, lastEventId === '' ? undefined : lastEventId), hub.stream.dispatchTimeoutMs, 'history read');
  } catch (err) {
    hub.transport.unsubscribe(sub);
    hub.log.error({ err, subscriber: sub.id }, 'Unable to add subscriber');
    if (!res.destroyed) statusError(res, 503);
    await announce(hub, sub, false);
    return;
  }
  const close = closerFor(hub);
  if (res.destroyed) { close(sub); return; } // the client left during registration

  const headers = (isHttp2(res) ? STREAM_HEADERS_H2 : STREAM_HEADERS).slice();
  if (lastEventId !== '') headers.push(['Last-Event-Id', toHeader(header ?? 'earliest')]);
  hub.streams.add(sub);
  sub.onClose = close;
  detachStream(res);
  sub.start(headers);
  if (!sub.hijacked) shedHeaderState(res); // a hijacked stream no longer holds res
  if (sub.open && c.streams) { sub.server = c.streams; c.streams.add(sub); }
  sub.connected = true;
  hub.metrics.subscriberConnected();
  // As the reference hub: info, with the JWT's payload only when debug logs are on.
  if (hub.log.isLevelEnabled('debug') && claims) hub.log.info({ subscriber: sub.id, topics, payload: claims.payload }, 'New subscriber');
  else hub.log.info({ subscriber: sub.id, topics }, 'New subscriber');
}
