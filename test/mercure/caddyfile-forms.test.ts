/**
 * Issue 18.6: Caddyfile forms the reference hub accepts. A flag given twice;
 * several words on a flag's line (a one-line MERCURE_EXTRA_DIRECTIVES), read
 * as the reference hub reads them; `topic_selector_cache <size> <shards>`;
 * `transport redis { url … }` with the stream defaulting to `mercure`.
 * Everything else stays strict.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptCaddyfile } from '../../src/runtime/load-config.ts';
import { selectorCacheSize } from '../../src/mercure/hub.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { redisSkipReason, startRedis } from '../helpers/redis-server.ts';
import { startCaddyfile } from '../helpers/caddyfile-server.ts';
import { P, publish, pubToken, subscribe } from './harness.ts';
import { registerStandardModules } from '../../src/runtime/standard.ts';

registerStandardModules();

/** Adapts a site whose mercure block holds `lines` (env substituted at parse time); returns the hub config and the warnings. */
function adapt(lines: string, env: Record<string, string> = {}): { hub: Record<string, unknown>; warnings: string[] } {
  const text = `:8080 {\n\tmercure {\n\t\tpublisher_jwt key\n${lines}\n\t}\n}\n`;
  const r = adaptCaddyfile(text, { file: 'Caddyfile', env });
  const json = JSON.stringify(r.config);
  const hub = JSON.parse(/(\{"handler":"mercure".*?\})\]/.exec(json)?.[1] ?? 'null') as Record<string, unknown>;
  assert.ok(hub, json);
  return { hub, warnings: r.warnings.map((w) => `${w.line}:${w.column ?? 0}: ${w.message}`).filter((m) => !m.includes('not formatted')) };
}

test('a flag given twice is accepted (a compose file\'s dev toggle)', () => {
  const { hub, warnings } = adapt('\t\tanonymous\n\t\tsubscriptions\n\t\tdemo\n\t\tanonymous\n\t\tsubscriptions\n\t\tdemo');
  assert.equal(hub.anonymous, true);
  assert.equal(hub.subscriptions, true);
  assert.equal(hub.demo, true);
  assert.deepEqual(warnings, []);
});

test("MERCURE_EXTRA_DIRECTIVES='anonymous subscriptions' on one line reads as the reference hub reads it: the first flag, the rest ignored with a warning", () => {
  const { hub, warnings } = adapt('\t\t{$MERCURE_EXTRA_DIRECTIVES}', { MERCURE_EXTRA_DIRECTIVES: 'anonymous subscriptions' });
  assert.equal(hub.anonymous, true);
  assert.equal(hub.subscriptions, undefined, 'the reference hub ignores words after a flag');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^4:3: 'subscriptions' after 'anonymous' ignored, as the reference hub ignores words after a flag; put each subdirective on its own line$/);
  // The multi-line value gives both.
  const both = adapt('\t\t{$MERCURE_EXTRA_DIRECTIVES}', { MERCURE_EXTRA_DIRECTIVES: 'anonymous\nsubscriptions' });
  assert.equal(both.hub.anonymous, true);
  assert.equal(both.hub.subscriptions, true);
});

test('everything else stays strict', () => {
  const rows: [string, RegExp][] = [
    ['cookie_name a\n\t\tcookie_name b', /set twice/],
    ['cors_origins https://a.example anonymous', /invalid origin "anonymous"/],
    ['heartbeat 1s 2s', /wrong argument count/],
    ['anonymus', /did you mean "anonymous"/],
    ['anonymous {\n\t\t\tx\n\t\t}', /takes no block/],
    ['topic_selector_cache 1 2 3', /wrong argument count/],
    ['topic_selector_cache 10 0', /out of range/],
  ];
  for (const [lines, re] of rows) assert.throws(() => adapt(`\t\t${lines}`), re, lines);
});

test('topic_selector_cache <size> and <entries_per_shard> <shards>', () => {
  assert.deepEqual(adapt('\t\ttopic_selector_cache 5000').hub.cache, { size: 5000 });
  assert.deepEqual(adapt('\t\ttopic_selector_cache 10000 256').hub.cache, { max_entries_per_shard: 10000, shard_count: 256 });
  assert.equal(selectorCacheSize({ size: 5000 }), 5000);
  assert.equal(selectorCacheSize({ max_entries_per_shard: 100, shard_count: 4 }), 400);
  assert.equal(selectorCacheSize({ max_entries_per_shard: 100 }), 25600, 'the docs\' 256 shards by default');
  assert.equal(selectorCacheSize({ max_entries_per_shard: -1 }), 0, 'disabled, as the reference JSON allows');
  assert.equal(selectorCacheSize({ size: 0 }), 100000);
  assert.equal(selectorCacheSize(undefined), 100000);
});

test('transport redis { url redis[s]://… }: address, credentials, TLS; stream defaults to mercure', () => {
  const t = (lines: string) => adapt(`\t\ttransport redis {\n${lines.split('\n').map((l) => `\t\t\t${l}`).join('\n')}\n\t\t}`).hub.transport as Record<string, unknown>;
  const strip = (o: Record<string, unknown>) => { const { '@span': _s, ...rest } = o; return rest; };
  assert.deepEqual(strip(t('url redis://127.0.0.1:6379')), { name: 'redis', addresses: ['127.0.0.1:6379'], stream: 'mercure' });
  assert.deepEqual(strip(t('url rediss://hub:s%40cret@redis.example:6380/\nstream updates\nmax_length 100')),
    { name: 'redis', addresses: ['redis.example:6380'], stream: 'updates', username: 'hub', password: 's@cret', tls: true, max_length: 100 });
  assert.deepEqual(strip(t('url redis://:pw@h')), { name: 'redis', addresses: ['h'], stream: 'mercure', password: 'pw' });
  assert.deepEqual(strip(t('address h:1')), { name: 'redis', addresses: ['h:1'], stream: 'mercure' }, 'the default applies to the address form too');
  const bad: [string, RegExp][] = [
    ['url http://h:1', /not a Redis URL/],
    ['url redis://h:1/0', /must not have a path, query or fragment/],
    ['url redis://h:1?tls=1', /must not have a path, query or fragment/],
    ['url redis://h:99999', /invalid|port/i],
    ['url redis://h:1\naddress h:2', /'url' and 'address' cannot both be set/],
    ['url redis://u:p@h:1\npassword x', /'url' and 'password' cannot both be set/],
    ['url rediss://h:1\ntls false', /rediss:\/\/ url uses TLS/],
    ['url redis://h:1\nurl redis://h:2', /set twice/],
    ['url redis://h:1\nstream ""', /stream must not be empty/],
    ['url redis://u:secret@h:1/x', /u:\*\*\*@h:1/],
  ];
  for (const [lines, re] of bad) assert.throws(() => t(lines), re, lines);
});

test('transport redis { url redis://:password@host:port } runs against a real Redis, on the stream "mercure"', { skip: redisSkipReason() }, async (t) => {
  const redis = await startRedis({ password: 'url-form-pw' });
  t.after(() => redis.stop());
  const srv = await startCaddyfile(t, `:8080 {\n\tmercure {\n\t\tpublisher_jwt ${P}\n\t\tanonymous\n\t\ttransport redis {\n\t\t\turl redis://:url-form-pw@${redis.address}\n\t\t}\n\t}\n}\n`);
  const base = `http://127.0.0.1:${srv.port()}`;
  const sub = await subscribe(base, 'topic=url-form');
  t.after(() => sub.close());
  const res = await publish(base, await pubToken(), [['topic', 'url-form'], ['id', 'u1'], ['data', 'via url']]);
  assert.equal(res.status, 200, res.body);
  await sub.waitForText('id: u1\ndata: via url\n\n');
  const { stdout } = await promisify(execFile)('redis-cli', ['-h', redis.host, '-p', String(redis.port), '--no-auth-warning', '-a', 'url-form-pw', 'XLEN', 'mercure']);
  assert.equal(stdout.trim(), '1', 'the update is in the stream named mercure');
});
