/**
 * One multi-node end-to-end suite, run against every cluster transport with
 * three real `quicksilver run` processes on one backend:
 *  - a subscriber on node A receives what nodes B and C publish;
 *  - kill -9 of node A while updates flow: the client reconnects to node B with
 *    Last-Event-ID and receives every missed update exactly once, in order;
 *  - the backend stops for a while: publishes get 503, the nodes recover
 *    without a restart, and a connected subscriber resumes with no gap;
 *  - a 1 MB update crosses nodes.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mintToken } from '../../src/mercure/token.ts';
import { freePort, startHub, type HubProcess } from '../helpers/hub-process.ts';
import { SseClient } from '../helpers/sse.ts';

const KEY = 'cluster-suite-key-that-is-long-enough-!';

export interface Backend {
  /** The `transport …` block for the mercure directive. */
  transport: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

function caddyfile(port: number, transport: string): string {
  return `{\n\tadmin off\n}\n:${port} {\n\tmercure {\n\t\tpublisher_jwt ${KEY}\n\t\tsubscriber_jwt ${KEY}\n\t\tanonymous\n\t\tsubscriptions\n\t\twrite_timeout 0s\n\t\t${transport.replace(/\n/g, '\n\t\t')}\n\t}\n}\n`;
}

interface Node { hub: HubProcess; url: string }

async function startNodes(t: TestContext, n: number, transport: string): Promise<Node[]> {
  const nodes: Node[] = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    const hub = await startHub(caddyfile(port, transport));
    t.after(() => hub.kill());
    nodes.push({ hub, url: `http://127.0.0.1:${port}/.well-known/mercure` });
  }
  return nodes;
}

let token: string | undefined;
async function publish(node: Node, topic: string, data: string): Promise<{ status: number; id: string }> {
  token ??= await mintToken({ key: KEY, alg: 'HS256', publish: ['*'] });
  const res = await fetch(node.url, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ topic, data }),
  });
  return { status: res.status, id: await res.text() };
}

const sub = (node: Node, topic: string, lastEventId?: string) =>
  SseClient.open(`${node.url}?topic=${encodeURIComponent(topic)}`, lastEventId ? { 'Last-Event-ID': lastEventId } : {});

export function clusterSuite(name: string, setup: () => Promise<Backend | string>): void {
  let backend: Backend | undefined;
  let skip: string | undefined;

  test(`${name} cluster: setup`, async () => {
    const b = await setup();
    if (typeof b === 'string') skip = b; else backend = b;
  });

  const cluster = (title: string, fn: (t: TestContext, b: Backend) => Promise<void>) =>
    test(`${name} cluster: ${title}`, async (t) => {
      if (!backend) { t.skip(skip ?? 'backend did not start'); return; }
      await fn(t, backend);
    });

  cluster('a subscriber on node A receives what nodes B and C publish', async (t, b) => {
    const [a, nb, nc] = await startNodes(t, 3, b.transport);
    const topic = `https://example.com/cross/${Date.now()}`;
    const s = await sub(a!, topic);
    t.after(() => s.close());
    const p1 = await publish(nb!, topic, 'from B');
    const p2 = await publish(nc!, topic, 'from C');
    assert.equal(p1.status, 200);
    assert.equal(p2.status, 200);
    const ev = await s.count(2);
    assert.deepEqual(ev.map((e) => [e.id, e.data]), [[p1.id, 'from B'], [p2.id, 'from C']]);
  });

  cluster('kill -9 of a node: the client resumes on another node with every missed update exactly once, in order', async (t, b) => {
    const [a, nb, nc] = await startNodes(t, 3, b.transport);
    const topic = `https://example.com/failover/${Date.now()}`;
    const first = await sub(a!, topic);
    const published: string[] = [];
    const total = 120;
    const publisher = (async () => {
      for (let i = 0; i < total; i++) {
        const r = await publish(nc!, topic, `n${i}`);
        assert.equal(r.status, 200);
        published.push(r.id);
      }
    })();
    await first.count(30);
    a!.hub.kill('SIGKILL');
    await first.closed;
    const got = first.events.map((e) => e.id!);
    const second = await sub(nb!, topic, got.at(-1));
    t.after(() => second.close());
    assert.equal(second.res.headers['last-event-id'], got.at(-1));
    await publisher;
    await second.waitFor(() => got.length + second.events.length >= total);
    const all = [...got, ...second.events.map((e) => e.id!)];
    assert.deepEqual(all, published, 'every update exactly once, in publish order');
  });

  cluster('a backend outage: 503 while down, recovery without restart, no gap for a connected subscriber', async (t, b) => {
    const [a, nb] = await startNodes(t, 2, b.transport);
    const topic = `https://example.com/outage/${Date.now()}`;
    const s = await sub(a!, topic);
    t.after(() => s.close());
    const ok: string[] = [];
    for (let i = 0; i < 5; i++) { const r = await publish(nb!, topic, `before${i}`); assert.equal(r.status, 200); ok.push(r.id); }
    await s.count(5);
    await b.stop();
    let restarted = false;
    t.after(async () => { if (!restarted) await b.start(); });
    let status = 0;
    for (let i = 0; i < 50 && status !== 503; i++) {
      const r = await publish(nb!, topic, `down${i}`);
      status = r.status;
      if (r.status === 200) ok.push(r.id);
    }
    assert.equal(status, 503, 'publishing while the backend is down answers 503');
    await b.start();
    restarted = true;
    let recovered = false;
    for (let i = 0; i < 400 && !recovered; i++) {
      const r = await publish(nb!, topic, `after${i}`);
      if (r.status === 200) { ok.push(r.id); recovered = true; } else await new Promise((r2) => setTimeout(r2, 50));
    }
    assert.ok(recovered, 'the node accepts publishes again without a restart');
    for (let i = 0; i < 5; i++) { const r = await publish(nb!, topic, `later${i}`); assert.equal(r.status, 200); ok.push(r.id); }
    await s.waitFor((e) => e.length >= ok.length, 30_000);
    assert.deepEqual(s.events.map((e) => e.id), ok, 'the subscriber saw every accepted update once, in order');
  });

  cluster('a 1 MB update crosses nodes', async (t, b) => {
    const [a, nb] = await startNodes(t, 2, b.transport);
    const topic = `https://example.com/big/${Date.now()}`;
    const s = await sub(a!, topic);
    t.after(() => s.close());
    const data = 'x'.repeat(1024 * 1024);
    const r = await publish(nb!, topic, data);
    assert.equal(r.status, 200);
    const [ev] = await s.count(1);
    assert.equal(ev!.data.length, data.length);
    assert.equal(ev!.data, data);
  });

  test(`${name} cluster: teardown`, async () => { await backend?.destroy(); });
}
