import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../bench/token-bucket.ts';

test('paces to the rate on a manual clock', () => {
  const b = new TokenBucket(100, 1, 0); // 100/s: one token per 10 ms
  let sent = 0;
  for (let now = 0; now <= 1000; now += 1) while (b.take(now)) sent++;
  assert.equal(sent, 101); // the initial token plus one per 10 ms
  assert.ok(Math.abs(b.wait(1000) - 10) < 1e-6);
});

test('burst caps what accrues while idle, and overflow is counted', () => {
  const b = new TokenBucket(1000, 5, 0, 0);
  assert.equal(b.available(100), 5);
  assert.ok(Math.abs(b.overflowed - 95) < 1e-9);
  let n = 0;
  while (b.take(100)) n++;
  assert.equal(n, 5);
  assert.equal(b.wait(100), 1);
  assert.throws(() => new TokenBucket(0, 1, 0));
  assert.throws(() => new TokenBucket(1, 0.5, 0));
});

test('high rates deliver many tokens per coarse tick', () => {
  const b = new TokenBucket(50_000, 500, 0);
  let sent = 0;
  for (let now = 0; now <= 2000; now += 4) while (b.take(now)) sent++;
  assert.ok(Math.abs(sent - 100_001) <= 1, String(sent));
});
