import { test } from 'node:test';
import assert from 'node:assert/strict';
import { esc, niceMax, renderChart } from '../../bench/svg.ts';
import { Timeline } from '../../bench/timeline.ts';
import { stamp } from '../../bench/report.ts';
import { parseStatCpu, machineInfo, readRss, readCpuSeconds, readFdLimit } from '../../bench/proc.ts';

test('timeline buckets per second, with latency percentiles and samples', () => {
  const t = new Timeline(1000);
  t.connected(1000, 5);
  t.published(1500);
  for (let i = 0; i < 100; i++) t.delivered(1500, 2000); // 2 ms
  t.delivered(2600, 9000);
  t.error(2600);
  t.sample(2700, 123, 0.5);
  const p = t.points(4100);
  assert.equal(p.length, 4);
  assert.deepEqual({ ...p[0] }, { t: 0, delivered: 100, published: 1, errors: 0, p50Ms: 2, p99Ms: 2, maxMs: 2, connected: 5 });
  assert.equal(p[1]!.delivered, 1);
  assert.equal(p[1]!.errors, 1);
  assert.equal(p[1]!.hubRssBytes, 123);
  assert.equal(p[1]!.hubCpuSeconds, 0.5);
  assert.equal(p[3]!.delivered, 0);
  assert.equal(p[3]!.connected, 5);
});

test('chart: well-formed, escaped, one polyline per series', () => {
  const t = new Timeline(0);
  for (let s = 0; s < 30; s++) { t.published(s * 1000); t.delivered(s * 1000 + 1, 1000 + s * 10); t.sample(s * 1000 + 2, 50e6 + s, 0.1); }
  const svg = renderChart(t.points(), 'fanout <&> "x"', 'sub');
  assert.ok(svg.startsWith('<?xml'));
  assert.ok(svg.trim().endsWith('</svg>'));
  assert.match(svg, /fanout &lt;&amp;&gt; &quot;x&quot;/);
  assert.equal(svg.match(/<polyline /g)!.length, 5); // delivered, published, p50, p99, RSS
  assert.ok(!/NaN|undefined|Infinity/.test(svg));
  const empty = renderChart([], 'empty', '');
  assert.ok(!/NaN|undefined|Infinity/.test(empty));
  const idle = new Timeline(0);
  idle.connected(10, 100);
  assert.match(renderChart(idle.points(3000), 'hold', ''), /open connections/);
});

test('helpers: nice axis maxima, escaping, stamps', () => {
  assert.deepEqual([0, 0.3, 1, 1.2, 3, 7, 10, 11, 49_000].map(niceMax), [1, 0.5, 1, 2, 5, 10, 10, 20, 50_000]);
  assert.equal(esc('<a href="x">&</a>'), '&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;');
  assert.equal(stamp(new Date(2026, 0, 2, 3, 4, 5)), '20260102-030405');
});

test('/proc readings of this process', () => {
  assert.ok(readRss(process.pid)! > 1e6);
  assert.ok(readCpuSeconds(process.pid)! >= 0);
  assert.ok(readFdLimit()!.soft > 0);
  assert.equal(readRss(2 ** 22 + 12345), undefined);
  assert.equal(parseStatCpu('42 (a b) c) S 1 1 1 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0', 100), 3);
  const m = machineInfo();
  assert.ok(m.cores >= 1 && m.memoryBytes > 0 && m.node.startsWith('v') && m.loadAverage.length === 3);
});
