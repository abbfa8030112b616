/**
 * `GET /.well-known/mercure/subscriptions[/{topic}[/{subscriber}]]`: the
 * subscriptions API (§1.5, §4.3). Authorisation matches the token's
 * `mercure.subscribe` selectors against the request URI as received.
 */
import type { HttpContext } from '../http/handler.ts';
import { extractToken } from './authorize.ts';
import { queryUnescape } from './go-json.ts';
import { notFound, statusError } from './http-util.ts';
import type { HubRequest, HubRuntime } from './runtime.ts';
import { collectionDocument, subscriptionDocument } from './subscriptions.ts';
import { headerValues } from '../http/request-headers.ts';
import { withDeadline } from './deadline.ts';

async function allowed(hub: HubRuntime, c: HttpContext, r: HubRequest): Promise<boolean> {
  if (!hub.subscriberVerifier) return true; // anonymous-only hub: the API is open
  const ex = extractToken(c.req, r.query.get('authorization'), hub.cookieName, undefined);
  if (ex.kind !== 'token') return false;
  try {
    const claims = await hub.subscriberVerifier.verify(ex.token);
    return claims.subscribe !== null && claims.subscribe.some((s) => hub.selectors.match(r.requestUri, s));
  } catch {
    return false;
  }
}

/** Handles one API request; `topic`/`subscriber` are the raw (encoded) path segments. */
export async function handleSubscriptionsApi(hub: HubRuntime, c: HttpContext, r: HubRequest, topic?: string, subscriber?: string): Promise<void> {
  const { req, res } = c;
  if (!(await allowed(hub, c, r))) return statusError(res, 401);
  let snapshot;
  try {
    snapshot = await withDeadline(hub.transport.subscribers(), hub.stream.dispatchTimeoutMs, 'subscriptions API');
  } catch (err) {
    hub.log.error({ err }, 'Unable to retrieve subscribers');
    return statusError(res, (err as { code?: string }).code === 'ERR_TRANSPORT_UNAVAILABLE' ? 503 : 500);
  }
  const last = snapshot.lastEventId;
  if (headerValues(req, 'if-none-match')?.[0] === last) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.setHeader('Content-Type', 'application/ld+json');
  res.setHeader('Etag', last);
  let body: string | undefined;
  if (subscriber !== undefined) {
    body = subscriptionDocument(last, snapshot.subscribers, queryUnescape(topic!) ?? '', queryUnescape(subscriber) ?? '');
    if (body === undefined) return notFound(res);
  } else {
    body = collectionDocument(r.requestUri, last, snapshot.subscribers, topic === undefined ? undefined : queryUnescape(topic) ?? '');
  }
  res.statusCode = 200;
  res.end(body);
}
