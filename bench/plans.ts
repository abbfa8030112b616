/**
 * What each scenario subscribes to and publishes: the subscriber specs, the
 * group each subscriber is in (same selectors and grants, so the same
 * expected updates), and for each sequence number the update's form fields
 * and the groups that must receive it.
 */
import type { Options } from './options.ts';
import type { SubscriberSpec } from './subscribers.ts';
import type { UpdatePlan } from './publisher.ts';
import { subscriberToken, type TokenSource } from './jwt.ts';

/** Subscriptions and updates of one run. */
export interface Plan {
  specs: SubscriberSpec[];
  groupOf: number[];
  groups: number;
  next(seq: number): UpdatePlan;
  /** Shown in the report. */
  description: Record<string, unknown>;
}

/** The topic every single-topic scenario uses. */
export const FANOUT_TOPIC = 'https://example.com/bench/fanout';
/** Topic k of the `topics` scenario. */
export const topicOf = (k: number) => `https://example.com/bench/topics/${k}`;
/** The URI-template selector matching every topic of the `topics` scenario. */
export const TOPICS_TEMPLATE = 'https://example.com/bench/topics/{id}';

const enc = encodeURIComponent;

function subscribePath(hubPath: string, selector: string): string {
  return `${hubPath}?topic=${enc(selector)}`;
}

/** One topic, everybody subscribed to it, every update public (hold, fanout, publish, cluster). */
export async function singleTopicPlan(o: Options, hubPath: string, tokens: TokenSource): Promise<Plan> {
  const token = await subscriberToken(tokens, ['*'], ttl(o));
  const path = subscribePath(hubPath, FANOUT_TOPIC);
  const form = `topic=${enc(FANOUT_TOPIC)}`;
  const update: UpdatePlan = { form, groups: [0] };
  return {
    specs: Array.from({ length: o.subscribers }, () => ({ path, token })),
    groupOf: new Array<number>(o.subscribers).fill(0),
    groups: 1,
    next: () => update,
    description: { topic: FANOUT_TOPIC, private: false },
  };
}

/**
 * Many topics, private updates and URI-template selectors. Subscriber j has
 * kind j % 4 on topic t = floor(j / 4) % T:
 *  0: exact topic t, token granting nothing private (public updates of t);
 *  1: exact topic t, token granting t (all updates of t);
 *  2: the template, token granting nothing (public updates of every topic);
 *  3: the template, token granting the template (every update).
 * Update seq goes to topic seq % T and is private when seq % K == K - 1
 * (K = --private-every; 0: never).
 */
export async function topicsPlan(o: Options, hubPath: string, tokens: TokenSource): Promise<Plan> {
  const T = o.topics;
  const K = o.privateEvery;
  const none = await subscriberToken(tokens, [], ttl(o));
  const allTemplate = await subscriberToken(tokens, [TOPICS_TEMPLATE], ttl(o));
  const exact = new Map<number, string>();
  const specs: SubscriberSpec[] = [];
  const groupOf: number[] = [];
  for (let j = 0; j < o.subscribers; j++) {
    const kind = j % 4;
    const t = Math.floor(j / 4) % T;
    if (kind === 0) { specs.push({ path: subscribePath(hubPath, topicOf(t)), token: none }); groupOf.push(2 * t); }
    if (kind === 1) {
      if (!exact.has(t)) exact.set(t, await subscriberToken(tokens, [topicOf(t)], ttl(o)));
      specs.push({ path: subscribePath(hubPath, topicOf(t)), token: exact.get(t)! });
      groupOf.push(2 * t + 1);
    }
    if (kind === 2) { specs.push({ path: subscribePath(hubPath, TOPICS_TEMPLATE), token: none }); groupOf.push(2 * T); }
    if (kind === 3) { specs.push({ path: subscribePath(hubPath, TOPICS_TEMPLATE), token: allTemplate }); groupOf.push(2 * T + 1); }
  }
  const updates: UpdatePlan[][] = Array.from({ length: T }, (_, k) => [
    { form: `topic=${enc(topicOf(k))}`, groups: [2 * k, 2 * k + 1, 2 * T, 2 * T + 1] },
    { form: `topic=${enc(topicOf(k))}&private=on`, groups: [2 * k + 1, 2 * T + 1] },
  ]);
  return {
    specs, groupOf, groups: 2 * T + 2,
    next: (seq) => updates[seq % T]![K > 0 && seq % K === K - 1 ? 1 : 0]!,
    description: {
      topics: T, privateEvery: K, template: TOPICS_TEMPLATE,
      kinds: ['exact topic, no private grant', 'exact topic, private grant on it', 'template, no private grant', 'template, private grant on the template'],
    },
  };
}

function ttl(o: Options): number {
  return Math.ceil(o.connectTimeout + o.duration + o.drain + 3600);
}
