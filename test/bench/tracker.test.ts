import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bitset, Tracker } from '../../bench/tracker.ts';

test('bitset grows and reports previous values', () => {
  const b = new Bitset(8);
  assert.equal(b.set(3), false);
  assert.equal(b.set(3), true);
  assert.equal(b.set(100_000), false);
  assert.ok(b.has(100_000));
  assert.ok(!b.has(99_999));
  assert.ok(!b.has(5_000_000));
});

test('missed, duplicated, out of order, unexpected and foreign', () => {
  // subscribers 0,1 in group 0; subscriber 2 in group 1
  const t = new Tracker([0, 0, 1], 2, 16);
  t.published(0, [0, 1]);
  t.published(1, [0]);
  t.published(2, [0, 1]);
  assert.equal(t.expectedTotal, 8); // 3 subscribers × seq 0, 2 × seq 1, 3 × seq 2
  t.receivedBy(0, 0, 10);
  t.receivedBy(0, 2, 10);
  t.receivedBy(0, 1, 10); // out of order
  t.receivedBy(0, 1, 10); // duplicate
  t.receivedBy(1, 0, 10); // misses 1 and 2
  t.receivedBy(2, 0, 10);
  t.receivedBy(2, 1, 10); // not for group 1: unexpected
  t.receivedBy(2, 2, 10);
  t.receivedBy(2, -1, 0); // foreign
  const c = t.counts();
  assert.deepEqual(c, { expected: 8, delivered: 6, missed: 2, duplicated: 1, outOfOrder: 1, unexpected: 1, foreign: 1, subscribersMissing: 1, orderMismatched: 0 });
  assert.equal(t.latency.count, 7);
});

test('delivery before the publish answer is not unexpected once the answer came', () => {
  const t = new Tracker([0], 1);
  t.receivedBy(0, 5, 1);
  assert.equal(t.complete(), true); // 1 received >= 0 expected: complete() is a cheap lower bound only
  t.published(5, [0]);
  assert.deepEqual(t.counts().unexpected, 0);
  assert.deepEqual(t.counts().missed, 0);
});

test('streams of one group that got the same updates in another order are counted as order mismatched', () => {
  const t = new Tracker([0, 0, 0, 1], 2);
  for (const seq of [0, 1, 2]) t.published(seq, [0, 1]);
  for (const seq of [0, 2, 1]) { t.receivedBy(0, seq, 1); t.receivedBy(1, seq, 1); t.receivedBy(3, seq, 1); }
  for (const seq of [0, 1, 2]) t.receivedBy(2, seq, 1); // the send order, but not the group's order
  const c = t.counts();
  assert.equal(c.missed, 0);
  assert.equal(c.outOfOrder, 3); // subscribers 0, 1 and 3 each saw 1 after 2
  assert.equal(c.orderMismatched, 1); // subscriber 2; subscriber 3 is alone in its group
});
