/**
 * The shared multi-node suite (cluster-suite.ts) on Pulsar: three
 * `quicksilver run` processes on one real standalone broker (started once
 * for this file), each with its own generated subscription_name. Then what
 * only presence over Pulsar must show: a subscriber of node A is listed by
 * node B's subscriptions API, and disappears from it within the documented
 * 15 s after A is killed with SIGKILL (no goodbye sent).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mintToken } from '../../src/mercure/token.ts';
import { clusterSuite } from './cluster-suite.ts';
import { PulsarBroker, pulsarSkipReason } from '../helpers/brokers/pulsar.ts';
import { freePort, startHub } from '../helpers/hub-process.ts';
import { SseClient } from '../helpers/sse.ts';
import { eventually } from '../transports/recorder.ts';

const skip = await pulsarSkipReason();
let broker: PulsarBroker | undefined;
after(() => broker?.destroy());

clusterSuite('pulsar', async () => {
  if (skip) return skip;
  broker = await PulsarBroker.create();
  const b = broker;
  return {
    transport: `transport pulsar {\n\turl ${b.url}\n\ttopic mercure-e2e\n}`,
    stop: () => b.stop(),
    start: () => b.start(),
    destroy: async () => {}, // the broker outlives the suite for the presence test below
  };
});

test('pulsar presence: a node\'s subscribers are listed on another node, and leave within 15 s of a kill -9', { skip }, async (t) => {
  assert.ok(broker, 'the broker started in the suite setup');
  const KEY = 'presence-test-key-that-is-long-enough!!';
  const caddyfile = (port: number) => `{\n\tadmin off\n}\n:${port} {\n\tmercure {\n\t\tpublisher_jwt ${KEY}\n\t\tsubscriber_jwt ${KEY}\n\t\tanonymous\n\t\tsubscriptions\n\t\twrite_timeout 0s\n\t\ttransport pulsar {\n\t\t\turl ${broker!.url}\n\t\t\ttopic mercure-presence-e2e\n\t\t}\n\t}\n}\n`;
  const [pa, pb] = [await freePort(), await freePort()];
  const a = await startHub(caddyfile(pa));
  t.after(() => a.kill());
  const b = await startHub(caddyfile(pb));
  t.after(() => b.kill());
  const topic = `https://example.com/presence/${Date.now()}`;
  const s = await SseClient.open(`http://127.0.0.1:${pa}/.well-known/mercure?topic=${encodeURIComponent(topic)}`, {});
  t.after(() => s.close());
  const token = await mintToken({ key: KEY, alg: 'HS256', subscribe: ['*'] });
  const listed = async (): Promise<string[]> => {
    const res = await fetch(`http://127.0.0.1:${pb}/.well-known/mercure/subscriptions`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const body = await res.json() as { subscriptions: { topic: string }[] };
    return body.subscriptions.map((x) => x.topic);
  };
  await eventually(async () => (await listed()).includes(topic), 'node B lists node A\'s subscriber', 15_000);
  const killedAt = Date.now();
  a.kill('SIGKILL');
  await eventually(async () => !(await listed()).includes(topic), 'the killed node\'s subscriber leaves B\'s list', 25_000);
  const gone = Date.now() - killedAt;
  assert.ok(gone <= 15_000 + 5_000 /* one polling and scheduling slack */, `left after ${gone} ms`);
});
