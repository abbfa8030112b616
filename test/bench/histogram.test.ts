import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram } from '../../bench/histogram.ts';

test('exact below 2^bits, bounded relative error above', () => {
  const h = new Histogram(8);
  for (let v = 0; v < 256; v++) h.record(v);
  assert.equal(h.quantile(0), 0);
  assert.equal(h.quantile(1), 255);
  assert.equal(h.quantile(0.5), 127);
  for (const v of [256, 1000, 12_345, 999_999, 60_000_000, 2 ** 31 + 5]) {
    const one = new Histogram(8);
    one.record(v);
    const q = one.quantile(0.5);
    assert.ok(Math.abs(q - Math.min(v, 2 ** 31 - 1)) / v <= 1 / 128, `${v} -> ${q}`);
  }
});

test('percentiles of a uniform sample, summary in ms', () => {
  const h = new Histogram(8);
  for (let i = 1; i <= 100_000; i++) h.record(i); // 1 µs .. 100 ms
  const s = h.summary();
  assert.equal(s.count, 100_000);
  assert.ok(Math.abs(s.p50 - 50) / 50 < 0.01, String(s.p50));
  assert.ok(Math.abs(s.p99 - 99) / 99 < 0.01, String(s.p99));
  assert.equal(s.max, 100);
  assert.equal(s.min, 0.001);
  assert.ok(Math.abs(s.mean - 50.0005) < 0.001);
});

test('merge, negatives clamp to zero, empty summary', () => {
  const a = new Histogram(6);
  const b = new Histogram(6);
  a.record(-5);
  b.record(10);
  a.merge(b);
  assert.equal(a.count, 2);
  assert.equal(a.min, 0);
  assert.equal(a.max, 10);
  assert.throws(() => a.merge(new Histogram(8)));
  assert.deepEqual(new Histogram().summary(), { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, min: 0 });
});
