/**
 * Configuration of the Redis transport: the `transport redis { … }` block,
 * the legacy `redis://` URL, the module's own checks, plus the pure helpers
 * (addresses, hash tags, entry codec). No server needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Directive, Span, Token } from '../../../grammar/ast.ts';
import { Dispenser } from '../../../src/caddyfile/dispenser.ts';
import { parseRedisTransport, parseRedisUrl } from '../../../src/transports/redis/caddyfile.ts';
import { checkRedisConfig, type RedisTransportConfig } from '../../../src/transports/redis/module.ts';
import { hashTag, parseAddress, streamKeys } from '../../../src/transports/redis/client.ts';
import { decodeEntry, encodeUpdate, entryIdToSeq, seqToEntryId } from '../../../src/transports/redis/codec.ts';
import type { Update } from '../../../src/transports/core/contract.ts';

/** `transport redis` with a block, built line by line (line 1 is the transport line). */
function transportLine(lines: string[], extraArgs: string[] = []): Dispenser {
  const tok = (text: string, line: number, column: number): Token => ({ text, quote: '', span: { file: 'Caddyfile', line, column } as Span });
  const words = (s: string, line: number) => s.trim().split(/\s+/).map((w, i) => tok(w, line, 5 + i * 10));
  const block: Directive[] = lines.map((l, i) => {
    const [name, ...args] = words(l, i + 2);
    return { name: name!, args, block: null };
  });
  const d = new Dispenser({ name: tok('transport', 1, 3), args: [tok('redis', 1, 13), ...extraArgs.map((a) => tok(a, 1, 20))], block });
  d.nextArg(); // the mercure directive consumed the module name
  return d;
}

test('transport redis: every option', () => {
  const cfg = parseRedisTransport(transportLine([
    'address 127.0.0.1:6379', 'stream mercure', 'username hub', 'password s3cret', 'tls', 'max_length 1000', 'gob',
  ]));
  assert.deepEqual(cfg, {
    '@span': 'Caddyfile:1:3', addresses: ['127.0.0.1:6379'], stream: 'mercure',
    username: 'hub', password: 's3cret', tls: true, max_length: 1000, gob: true,
  });
});

test('transport redis: the stream defaults to mercure', () => {
  assert.deepEqual(parseRedisTransport(transportLine(['address h:1'])), { '@span': 'Caddyfile:1:3', addresses: ['h:1'], stream: 'mercure' });
});

test('transport redis: addresses, booleans with values, storage alias', () => {
  assert.deepEqual(parseRedisTransport(transportLine(['addresses h1:7000 h2:7001 [::1]:7002', 'stream s', 'tls false', 'gob off'])),
    { '@span': 'Caddyfile:1:3', addresses: ['h1:7000', 'h2:7001', '[::1]:7002'], stream: 's', tls: false, gob: false });
  assert.deepEqual(parseRedisTransport(transportLine(['address caddy-storage-redis.alt', 'stream mercure'])),
    { '@span': 'Caddyfile:1:3', addresses: [], stream: 'mercure', address_from_storage: true });
});

const BAD: [string, string[], RegExp][] = [
  ['no address', ['stream s'], /needs an address/],
  ['unknown subdirective, did you mean', ['address h:1', 'stream s', 'max_lenght 5'], /Caddyfile:4:5: unknown subdirective in transport redis "max_lenght".*did you mean "max_length"/],
  ['address twice (address + addresses)', ['address h:1', 'addresses h:2', 'stream s'], /set twice/],
  ['address takes one', ['address h:1 h:2', 'stream s'], /wrong argument count/],
  ['bad port', ['address h:99999', 'stream s'], /invalid port/],
  ['max_length negative', ['address h:1', 'stream s', 'max_length -1'], /out of range/],
  ['alias among several', ['addresses caddy-storage-redis.alt h:1', 'stream s'], /must be the only address/],
  ['stream takes one', ['address h:1', 'stream a b'], /wrong argument count/],
];
for (const [what, lines, re] of BAD) {
  test(`transport redis rejects: ${what}`, () => {
    assert.throws(() => parseRedisTransport(transportLine(lines)), (err: Error & { code?: string }) => {
      assert.match(err.message, re);
      assert.match(String(err.code), /^ERR_CFG_/);
      return true;
    });
  });
}

test('transport redis rejects arguments after the module name', () => {
  assert.throws(() => parseRedisTransport(transportLine(['address h:1', 'stream s'], ['extra'])), /unexpected argument 'extra'/);
});

test('legacy URL: path = stream, tls, max_len_approx, credentials', () => {
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6379/mercure-ha'), { addresses: ['127.0.0.1:6379'], stream: 'mercure-ha' });
  assert.deepEqual(parseRedisUrl('redis://localhost/s?tls=1&max_len_approx=500'), { addresses: ['localhost'], stream: 's', tls: true, max_length: 500 });
  assert.deepEqual(parseRedisUrl('rediss://u:p%40ss@[::1]:7000/a%20b?tls=0'), { addresses: ['[::1]:7000'], stream: 'a b', username: 'u', password: 'p@ss', tls: true });
  assert.deepEqual(parseRedisUrl('redis://:pw@h:1/s', { file: 'Caddyfile', line: 3, column: 2 }), { '@span': 'Caddyfile:3:2', addresses: ['h:1'], stream: 's', password: 'pw' });
});

test('legacy URL errors', () => {
  assert.throws(() => parseRedisUrl('redis://h:1'), /needs a host and a stream/);
  assert.throws(() => parseRedisUrl('redis://h:1/s?max_len_aprox=3'), /unknown query parameter in the Redis URL "max_len_aprox".*did you mean "max_len_approx"/);
  assert.throws(() => parseRedisUrl('redis://h:1/s?tls=yes'), /invalid tls=yes/);
  assert.throws(() => parseRedisUrl('redis://h:1/s?max_len_approx=-2'), /invalid max_len_approx=-2/);
  assert.throws(() => parseRedisUrl('http://h/s'), /not a Redis URL/);
  assert.throws(() => parseRedisUrl('redis://u:secret@h:1/s?x=1'), (err: Error) => !err.message.includes('secret'));
});

test('module config checks', () => {
  const ok: RedisTransportConfig = { addresses: ['h:1'], stream: 's' };
  checkRedisConfig(ok);
  checkRedisConfig({ addresses: [], stream: 's', address_from_storage: true });
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ stream: '' }, /invalid stream/],
    [{ addresses: [] }, /invalid addresses/],
    [{ addresses: ['h:0'] }, /invalid port/],
    [{ max_length: 1.5 }, /invalid max_length/],
    [{ tls: 'yes' }, /invalid tls/],
    [{ password: 5 }, /invalid password/],
  ];
  for (const [patch, re] of bad) {
    assert.throws(() => checkRedisConfig({ ...ok, ...patch } as unknown as RedisTransportConfig), re);
  }
});

test('addresses and hash tags', () => {
  assert.deepEqual(parseAddress('h'), { host: 'h', port: 6379 });
  assert.deepEqual(parseAddress('10.0.0.1:7000'), { host: '10.0.0.1', port: 7000 });
  assert.deepEqual(parseAddress('[::1]:7000'), { host: '::1', port: 7000 });
  assert.throws(() => parseAddress('h:x'));
  assert.equal(hashTag('mercure'), 'mercure');
  assert.equal(hashTag('{mercure}:ids'), 'mercure');
  assert.equal(hashTag('a{}b'), 'a{}b');
  assert.equal(hashTag('{app}x'), 'app');
  const k = streamKeys('mercure');
  assert.deepEqual([k.stream, k.ids, k.presence('n')], ['mercure', '{mercure}:ids', '{mercure}:presence:n']);
  const t = streamKeys('{app}:m');
  assert.deepEqual([t.stream, t.ids], ['{app}:m', '{app}:m:ids']);
  assert.throws(() => streamKeys('a}b'), /hash-tagged/);
});

test('entry IDs map to strictly increasing seqs and back', () => {
  const ids = ['0-1', '1-0', '1-1', '1-18446744073709551615', '2-0', '1795424259251-0', '1795424259251-7'];
  const seqs = ids.map(entryIdToSeq);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!);
  assert.deepEqual(seqs.map(seqToEntryId), ids);
});

test('both encodings round-trip every field', () => {
  const cases: Update[] = [
    { id: 'a', topics: ['t'], data: '', private: false },
    { id: 'urn:uuid:é', topics: ['x', 'ü/𝄞', ''], data: 'l1\nl2\r\n\u0000' + 'z'.repeat(70_000), private: true, type: 'ev', retry: 2 ** 40 },
    { id: '', topics: [], data: '{}', private: false, retry: 127 },
  ];
  for (const u of cases) {
    for (const binary of [false, true]) {
      const [field, value] = encodeUpdate(u, binary);
      const buf = Buffer.isBuffer(value) ? value : Buffer.from(value);
      assert.deepEqual(decodeEntry([Buffer.from(field), buf]), u);
    }
  }
  assert.equal(decodeEntry([Buffer.from('other'), Buffer.from('x')]), undefined);
});

test('a Caddyfile `mercure { transport redis { … } }` adapts to the module config', async () => {
  const { registerStandardModules } = await import('../../../src/runtime/standard.ts');
  const { adaptText } = await import('../../../src/runtime/load-config.ts');
  registerStandardModules();
  const caddyfile = (block: string) => `localhost:8080 {\n\tmercure {\n\t\ttransport redis {\n${block}\n\t\t}\n\t}\n}\n`;
  const { config } = adaptText(caddyfile('\t\t\taddresses 127.0.0.1:7000 127.0.0.1:7001\n\t\t\tstream mercure\n\t\t\tmax_length 100'), 'caddyfile', 'Caddyfile');
  const found: unknown[] = [];
  JSON.stringify(config, (_k, v: { name?: string }) => { if (v && v.name === 'redis') found.push(v); return v; });
  assert.deepEqual(found, [{ name: 'redis', '@span': 'Caddyfile:3:3', addresses: ['127.0.0.1:7000', '127.0.0.1:7001'], stream: 'mercure', max_length: 100 }]);
  assert.throws(() => adaptText(caddyfile('\t\t\taddress h:1\n\t\t\tstream s\n\t\t\tgobb'), 'caddyfile', 'Caddyfile'),
    /Caddyfile:6:4: unknown subdirective in transport redis "gobb".*did you mean "gob"/);
});

test('transport_url redis:// and rediss:// resolve to the redis module', async () => {
  const { redisTransportModule } = await import('../../../src/transports/redis/module.ts');
  const { redisTransport } = await import('../../../src/transports/redis/index.ts');
  const { registerStandardModules } = await import('../../../src/runtime/standard.ts');
  const { resolveTransportUrl } = await import('../../../src/mercure/transport-loader.ts');
  registerStandardModules();
  assert.equal(redisTransport.module, redisTransportModule);
  assert.deepEqual(resolveTransportUrl('rediss://h:6380/ha?max_len_approx=5'), { name: 'redis', config: { addresses: ['h:6380'], stream: 'ha', tls: true, max_length: 5 } });
  assert.deepEqual(resolveTransportUrl('redis://h/ha'), { name: 'redis', config: { addresses: ['h'], stream: 'ha' } });
});

test('entry codec keeps a uint64 retry exactly and an id that is not UTF-8, in JSON and binary form', () => {
  const u: Update = { id: 'a\udcffb', topics: ['t'], data: 'd', private: false, retry: 18446744073709551615n };
  for (const binary of [false, true]) {
    const [name, value] = encodeUpdate(u, binary);
    const back = decodeEntry([name, value]);
    assert.deepEqual(back, u, binary ? 'binary' : 'JSON');
  }
  assert.match(String(encodeUpdate(u, false)[1]), /"Retry":18446744073709551615}$/, 'the JSON holds the exact number');
  assert.deepEqual(decodeEntry(encodeUpdate({ ...u, retry: 3000 }, true) as [string, Buffer])?.retry, 3000, 'a small retry stays a number');
});
