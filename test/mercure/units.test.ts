/**
 * Unit tables for the Go-compatible encoders and parsers the hub relies on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoStruct, goMarshalIndent, goString, parseQuery, queryEscape, queryUnescape } from '../../src/mercure/go-json.ts';
import { parseMediaType } from '../../src/mercure/form.ts';
import { goQuote } from '../../src/mercure/publish.ts';
import { sniffContentType } from '../../src/mercure/http-util.ts';
import { uuidv7 } from '../../src/mercure/uuid.ts';
import { decodeClaims } from '../../src/mercure/jwt.ts';
import { mintToken } from '../../src/mercure/token.ts';
import { mercureHealthRoute } from '../../src/mercure/health.ts';

test('goString escapes like encoding/json with HTML escaping', () => {
  const rows: [string, string][] = [
    ['a<b>&c', '"a\\u003cb\\u003e\\u0026c"'],
    ['"\\', '"\\"\\\\"'],
    ['\n\r\t\b\f\x01\x7f', '"\\n\\r\\t\\b\\f\\u0001\x7f"'],
    ['\u2028\u2029', '"\\u2028\\u2029"'],
    ['é😀', '"é😀"'],
    ['\ud800', '"\ufffd"'],
  ];
  for (const [input, out] of rows) assert.equal(goString(input), out, JSON.stringify(input));
});

test('goMarshalIndent: struct order, sorted maps, empty containers, numbers', () => {
  const v = new GoStruct([['z', 1], ['a', { b: [1, 2.5, 1e21, 1e-7], a: {}, '10': [], '9': null }]]);
  assert.equal(goMarshalIndent(v), '{\n  "z": 1,\n  "a": {\n    "10": [],\n    "9": null,\n    "a": {},\n    "b": [\n      1,\n      2.5,\n      1e+21,\n      1e-7\n    ]\n  }\n}');
});

test('QueryEscape / QueryUnescape / ParseQuery', () => {
  assert.equal(queryEscape("https://example.com/{selector} a!'()*~"), 'https%3A%2F%2Fexample.com%2F%7Bselector%7D+a%21%27%28%29%2A~');
  assert.equal(queryEscape('é'), '%C3%A9');
  assert.equal(queryUnescape('a+b%2Fc'), 'a b/c');
  assert.equal(queryUnescape('%zz'), undefined);
  const q = parseQuery('topic=a&topic=b&bad=%z&semi=a;b&&flag&x=1+2');
  assert.deepEqual([...q.values], [['topic', ['a', 'b']], ['flag', ['']], ['x', ['1 2']]]);
  assert.equal(q.error, true);
});

test('mime.ParseMediaType', () => {
  const rows: [string, string, boolean][] = [
    ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded', false],
    ['Application/X-WWW-Form-Urlencoded; charset=UTF-8', 'application/x-www-form-urlencoded', false],
    ['text/plain; boundary=', 'text/plain', true],
    ['text/plain;', 'text/plain', false],
    ['text', 'text', false],
    ['text/', '', true],
    ['a/b; x="quoted; value"', 'a/b', false],
    ['a/b; x=1; x=2', '', true],
  ];
  for (const [input, type, error] of rows) assert.deepEqual(parseMediaType(input), { type, error }, input);
});

test('goQuote, sniffing, uuid v7', () => {
  assert.equal(goQuote('a"b\\c\n\x01é'), '"a\\"b\\\\c\\n\\x01é"');
  assert.equal(sniffContentType('urn:uuid:x'), 'text/plain; charset=utf-8');
  assert.equal(sniffContentType('  <html>'), 'text/html; charset=utf-8');
  assert.equal(sniffContentType('<?xml version="1.0"?>'), 'text/xml; charset=utf-8');
  assert.equal(sniffContentType('a\x00'), 'application/octet-stream');
  const ids = Array.from({ length: 100 }, () => uuidv7());
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual([...ids].sort(), ids, 'time-ordered and monotonic');
});

test('claims decoding follows golang-jwt and Go json rules', () => {
  const now = 1_700_000_000_000;
  assert.deepEqual(decodeClaims({ mercure: { publish: ['*', null], payload: null } }, now), { publish: ['*', ''], subscribe: null, payload: undefined, exp: undefined });
  assert.equal(decodeClaims({ exp: '1800000000', mercure: {} }, now).exp, 1800000000, 'numeric string');
  const bad: unknown[] = [[], { exp: 'soon' }, { exp: 1_600_000_000 }, { nbf: 1_800_000_000 }, { aud: 1 }, { iss: 1 }, { mercure: 'x' }, { mercure: { subscribe: [1] } }, { mercure: { publish: Array(1001).fill('a') } }];
  for (const b of bad) assert.throws(() => decodeClaims(b, now), JSON.stringify(b).slice(0, 40));
});

test('mintToken: claims and ttl', async () => {
  const tok = await mintToken({ key: 'k', publish: ['a'], subscribe: ['b'], payload: { u: 1 }, ttl: '1h', now: 1_000_000 });
  const [h, p] = tok.split('.').slice(0, 2).map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()));
  assert.deepEqual(h, { alg: 'HS256' });
  assert.deepEqual(p, { mercure: { publish: ['a'], subscribe: ['b'], payload: { u: 1 } }, exp: 4600 });
  await assert.rejects(mintToken({ key: 'k', ttl: 'never' }), /invalid ttl/);
});

test('health route without hubs answers ok', async () => {
  assert.deepEqual(await mercureHealthRoute('/mercure/health/ready', 'GET', new Map()), { status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"status":"ok"}\n' });
});
