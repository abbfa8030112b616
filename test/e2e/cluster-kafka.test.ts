/**
 * Three real `quicksilver run` processes on one real Kafka 4 broker (the
 * shared cluster suite: cross-node delivery, kill -9 then resume elsewhere
 * exactly once, broker outage, a 1 MB update), plus presence across nodes
 * through the subscriptions API, including a killed node's subscribers
 * leaving within the documented bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mintToken } from '../../src/mercure/token.ts';
import { TTL_MS } from '../../src/transports/kafka/presence.ts';
import { kafkaSkipReason, startKafka, type KafkaBroker } from '../helpers/brokers/kafka.ts';
import { freePort, startHub } from '../helpers/hub-process.ts';
import { SseClient } from '../helpers/sse.ts';
import { clusterSuite } from './cluster-suite.ts';

let shared: KafkaBroker | undefined;

clusterSuite('kafka', async () => {
  const skip = await kafkaSkipReason();
  if (skip) return skip;
  const broker = shared = await startKafka();
  // No consumer_group: every process generates its own (a per-node value, as the option requires).
  return {
    transport: `transport kafka {\n\taddress ${broker.address}\n\ttopic mercure-e2e\n}`,
    stop: () => broker.stop(),
    start: async () => { await broker.start(); },
    destroy: async () => { /* kept for the presence test below; destroyed there */ },
  };
});

const KEY = 'kafka-presence-key-that-is-long-enough!';

test('kafka cluster: the subscriptions API lists every node\'s subscribers; a kill -9 node\'s leave within the presence TTL', async (t) => {
  const skip = await kafkaSkipReason();
  if (skip || !shared) { t.skip(skip ?? 'broker did not start'); await shared?.destroy(); return; }
  t.after(() => shared!.destroy());
  const transport = `transport kafka {\n\t\t\taddress ${shared.address}\n\t\t\ttopic mercure-presence-e2e\n\t\t}`;
  const nodes = [];
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    const hub = await startHub(`{\n\tadmin off\n}\n:${port} {\n\tmercure {\n\t\tpublisher_jwt ${KEY}\n\t\tsubscriber_jwt ${KEY}\n\t\tanonymous\n\t\tsubscriptions\n\t\t${transport}\n\t}\n}\n`);
    t.after(() => hub.kill());
    nodes.push({ hub, url: `http://127.0.0.1:${port}/.well-known/mercure` });
  }
  const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
  const topic = `https://example.com/presence/${Date.now()}`;
  const s = await SseClient.open(`${a.url}?topic=${encodeURIComponent(topic)}`, {});
  t.after(() => s.close());
  const token = await mintToken({ key: KEY, alg: 'HS256', subscribe: ['/.well-known/mercure/subscriptions{/topic}{/subscriber}'] });
  const listed = async (): Promise<string[]> => {
    const res = await fetch(`${b.url}/subscriptions`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const body = await res.json() as { subscriptions: { topic: string }[] };
    return body.subscriptions.map((x) => x.topic);
  };
  const until = async (check: (topics: string[]) => boolean, ms: number, what: string) => {
    const deadline = Date.now() + ms;
    while (!check(await listed())) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await until((ts) => ts.includes(topic), 10_000, 'node B lists the subscriber of node A');
  const killed = Date.now();
  a.hub.kill('SIGKILL');
  await until((ts) => !ts.includes(topic), TTL_MS + 10_000, 'the killed node\'s subscriber leaves');
  const took = Date.now() - killed;
  assert.ok(took <= TTL_MS + 10_000, `gone after ${took} ms`);
});
