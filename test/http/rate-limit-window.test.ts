/**
 * The pieces of rate_limit without HTTP: the ring-buffer sliding window,
 * resizing on reload, subnet keys, and Go's Retry-After rounding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlidingWindow } from '../../src/http/rate-limit/sliding-window.ts';
import { maskKey } from '../../src/http/rate-limit/zones.ts';
import { retryAfterSeconds } from '../../src/http/rate-limit/handler.ts';

test('the ring admits maxEvents per window, strictly, and counts what is inside', () => {
  const w = new SlidingWindow(3, 1000);
  assert.deepEqual(w.take(0), { allowed: true, wait: 0 });
  assert.deepEqual(w.take(100), { allowed: true, wait: 0 });
  assert.deepEqual(w.take(200), { allowed: true, wait: 0 });
  assert.deepEqual(w.take(300), { allowed: false, wait: 700 });
  assert.deepEqual(w.take(1000), { allowed: false, wait: 0 }, 'now - oldest == window is not enough');
  assert.equal(w.count(1000), 3);
  assert.equal(w.oldestInWindow(1000), 0);
  assert.deepEqual(w.take(1001), { allowed: true, wait: 0 });
  assert.equal(w.count(1001), 3, 'events at 100, 200 and 1001');
  assert.equal(w.oldestInWindow(1001), 100);
  assert.equal(w.newest(), 1001);
  assert.equal(w.count(5000), 0);
});

test('a zero-size ring refuses everything', () => {
  const w = new SlidingWindow(0, 1000);
  assert.equal(w.take(0).allowed, false);
  assert.equal(w.count(0), 0);
});

test('shrinking keeps the newest events; growing gives room at once', () => {
  const w = new SlidingWindow(4, 10_000);
  for (const t of [1, 2, 3, 4]) w.take(t);
  w.setMaxEvents(2);
  assert.equal(w.count(5), 2);
  assert.equal(w.oldestInWindow(5), 3);
  assert.equal(w.take(5).wait, 3 + 10_000 - 5);
  w.setMaxEvents(3);
  assert.equal(w.take(6).allowed, true, 'the new slot is usable immediately');
  assert.equal(w.take(7).allowed, false);
  assert.equal(w.oldestInWindow(7), 3);
  w.setWindow(2);
  assert.equal(w.take(7).allowed, true, 'a shorter window lets the old events go');
});

test('maskKey groups IPs by prefix and leaves other keys alone', () => {
  assert.equal(maskKey('192.168.1.77', 24), '192.168.1.0/24');
  assert.equal(maskKey('192.168.1.77', 32), '192.168.1.77/32');
  assert.equal(maskKey('::ffff:10.1.2.3', 8), '10.0.0.0/8', 'IPv4-mapped counts as IPv4');
  assert.equal(maskKey('2001:db8:1:2:3:4:5:6', 0, 64), '2001:db8:1:2::/64');
  assert.equal(maskKey('2001:0db8:0000:0000:0001:0000:0000:0001', 0, 128), '2001:db8::1:0:0:1/128', 'RFC 5952: the first longest zero run');
  assert.equal(maskKey('fe80::1', 0, 16), 'fe80::/16');
  assert.equal(maskKey('2001:db8::1', 24), '2001:db8::1', 'only the matching family is masked');
  assert.equal(maskKey('10.0.0.1'), '10.0.0.1');
  assert.equal(maskKey('api-key-123', 24, 64), 'api-key-123');
});

test('Retry-After: wait + 0.5 s, Go formatting (round half to even)', () => {
  const cases: [number, string][] = [[0, '0'], [1, '1'], [499, '1'], [500, '1'], [1000, '2'], [2000, '2'], [2001, '3'], [7500, '8'], [9000, '10'], [59_000, '60'], [60_000, '60']];
  for (const [ms, want] of cases) assert.equal(retryAfterSeconds(ms), want, `${ms} ms`);
});
