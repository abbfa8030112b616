import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PortAllocator } from '../../bench/ports.ts';
import { checkSources, isLoopbackAddress, loopbackTarget, sourceAddresses, sourcesFor, LoopbackError } from '../../bench/loopback.ts';

test('accepts loopback only', () => {
  for (const a of ['127.0.0.1', '127.255.0.9', '::1', '[::1]', '0:0:0:0:0:0:0:1', '0000::0001']) assert.ok(isLoopbackAddress(a), a);
  for (const a of ['10.0.0.1', '192.168.1.1', '172.16.0.1', '8.8.8.8', '0.0.0.0', '::', '::2', '::ffff:127.0.0.1', 'localhost', 'example.com', '128.0.0.1']) {
    assert.ok(!isLoopbackAddress(a), a);
  }
});

test('hub URLs: loopback targets pass, everything else is refused', () => {
  const t = loopbackTarget('http://localhost:3000/.well-known/mercure');
  assert.equal(t.host, '127.0.0.1');
  assert.equal(t.port, 3000);
  assert.equal(t.family, 4);
  assert.equal(t.url.href, 'http://127.0.0.1:3000/.well-known/mercure');
  assert.equal(loopbackTarget('http://127.0.0.9:80').url.pathname, '/.well-known/mercure');
  const v6 = loopbackTarget('http://[::1]:8080/hub');
  assert.equal(v6.host, '::1');
  assert.equal(v6.family, 6);
  assert.equal(loopbackTarget('http://127.1:81/').host, '127.0.0.1'); // WHATWG normalizes short forms
  for (const bad of ['http://10.1.2.3/', 'http://example.com/', 'http://0.0.0.0:80/', 'https://127.0.0.1/', 'http://192.168.0.10:3000/', 'http://[::ffff:7f00:1]/', 'not a url', 'http://u:p@127.0.0.1/']) {
    assert.throws(() => loopbackTarget(bad), LoopbackError, bad);
  }
});

test('source addresses', () => {
  assert.deepEqual(sourceAddresses(3, 4), ['127.0.0.1', '127.0.0.2', '127.0.0.3']);
  assert.deepEqual(sourceAddresses(3, 6), ['::1']);
  assert.equal(sourcesFor(100_000), 5);
  assert.equal(sourcesFor(1), 1);
  checkSources(['127.0.0.4'], 4);
  assert.throws(() => checkSources(['10.0.0.1'], 4), LoopbackError);
  assert.throws(() => checkSources(['::1'], 4), LoopbackError);
  assert.throws(() => checkSources([], 4), LoopbackError);
});

test('local ports: round robin per source within the range', () => {
  const p = new PortAllocator(2, 60_000, 60_002, () => 0.99);
  assert.deepEqual([p.next(0), p.next(0), p.next(0), p.next(1)], [60_002, 60_000, 60_001, 60_002]);
  assert.throws(() => new PortAllocator(1, 0, 10));
});
