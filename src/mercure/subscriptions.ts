/**
 * Subscription resources: the JSON-LD documents of the subscriptions API
 * (§4.3) and the private updates published when a subscriber connects or
 * disconnects (§4.2). JSON is Go's `MarshalIndent(v, "", "  ")`, byte for byte.
 */
import type { SubscriberInfo } from '../transports/core/contract.ts';
import { GoStruct, goMarshalIndent, queryEscape } from './go-json.ts';

export const JSONLD_CONTEXT = 'https://mercure.rocks/';
export const SUBSCRIPTIONS_PATH = '/.well-known/mercure/subscriptions';

/** The subscription's ID (and its events' topic). */
export function subscriptionId(topic: string, subscriber: string): string {
  return `${SUBSCRIPTIONS_PATH}/${queryEscape(topic)}/${queryEscape(subscriber)}`;
}

/**
 * One subscription object, keys in Go's struct order:
 * `@context`? id type subscriber topic active lastEventID? payload?.
 */
export function subscriptionStruct(
  sub: SubscriberInfo,
  topic: string,
  active: boolean,
  extra: { context?: boolean; lastEventId?: string } = {},
): GoStruct {
  const e: [string, unknown][] = [];
  if (extra.context) e.push(['@context', JSONLD_CONTEXT]);
  e.push(['id', subscriptionId(topic, sub.id)], ['type', 'Subscription'], ['subscriber', sub.id], ['topic', topic], ['active', active]);
  if (extra.lastEventId !== undefined) e.push(['lastEventID', extra.lastEventId]);
  if (sub.payload !== undefined && sub.payload !== null) e.push(['payload', sub.payload]);
  return new GoStruct(e);
}

/** The data of the subscription events of one subscriber: one per `topic` parameter. */
export function subscriptionEvents(sub: SubscriberInfo, active: boolean): { topic: string; data: string }[] {
  return sub.topics.map((t) => ({
    topic: subscriptionId(t, sub.id),
    data: goMarshalIndent(subscriptionStruct(sub, t, active, { context: true })),
  }));
}

/** The collection document (`/subscriptions`, `/subscriptions/{topic}`). */
export function collectionDocument(requestUri: string, lastEventId: string, subs: SubscriberInfo[], topic?: string): string {
  const list: GoStruct[] = [];
  for (const s of subs) {
    for (const t of s.topics) if (topic === undefined || t === topic) list.push(subscriptionStruct(s, t, true));
  }
  return goMarshalIndent(new GoStruct([
    ['@context', JSONLD_CONTEXT],
    ['id', requestUri],
    ['type', 'Subscriptions'],
    ['lastEventID', lastEventId],
    ['subscriptions', list],
  ]));
}

/** The single-subscription document, or undefined when there is no such active subscription. */
export function subscriptionDocument(lastEventId: string, subs: SubscriberInfo[], topic: string, subscriber: string): string | undefined {
  for (const s of subs) {
    if (s.id !== subscriber) continue;
    for (const t of s.topics) {
      if (t === topic) return goMarshalIndent(subscriptionStruct(s, t, true, { context: true, lastEventId }));
    }
  }
  return undefined;
}
