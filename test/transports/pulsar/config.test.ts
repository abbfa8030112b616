/**
 * Configuration of the Pulsar transport (no broker): the `transport pulsar`
 * block through the real Caddyfile adapter, the legacy `transport_url`
 * forms, the module's checks, and the pure pieces (message codec, stream
 * positions, the ID index).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerAllDirectives } from '../../../directives/index.ts';
import { adaptText } from '../../../src/runtime/load-config.ts';
import { registerStandardModules } from '../../../src/runtime/standard.ts';
import { resolveTransportUrl } from '../../../src/mercure/transport-loader.ts';
import { checkConfig, parseUrl } from '../../../src/transports/pulsar/config.ts';
import { decodeUpdate, encodeUpdate, idOfSeq, seqOf } from '../../../src/transports/pulsar/codec.ts';
import { IdIndex } from '../../../src/transports/pulsar/id-index.ts';
import { fullTopicName, presenceTopicName } from '../../../src/transports/pulsar/backend.ts';

registerAllDirectives();
registerStandardModules();

const caddyfile = (block: string) => `localhost:8080 {\n\tmercure {\n\t\ttransport pulsar {\n${block}\n\t\t}\n\t}\n}\n`;
function adapted(block: string): unknown[] {
  const { config } = adaptText(caddyfile(block), 'caddyfile', 'Caddyfile');
  const found: unknown[] = [];
  JSON.stringify(config, (_k, v: { name?: string }) => { if (v && v.name === 'pulsar') found.push(v); return v; });
  return found;
}

test('transport pulsar: every option, through the Caddyfile adapter', () => {
  assert.deepEqual(adapted('\t\t\turl pulsar://127.0.0.1:6650\n\t\t\ttopic mercure\n\t\t\tsubscription_name node-1\n\t\t\ttoken abc.def.ghi\n\t\t\ttls\n\t\t\ttls_ca /etc/ca.pem\n\t\t\ttls_insecure_skip_verify false\n\t\t\tindex_size 5000'), [{
    name: 'pulsar', '@span': 'Caddyfile:3:3', url: 'pulsar://127.0.0.1:6650', topic: 'mercure', subscription_name: 'node-1',
    token: 'abc.def.ghi', tls: true, tls_ca: '/etc/ca.pem', tls_insecure_skip_verify: false, index_size: 5000,
  }]);
  assert.deepEqual(adapted('\t\t\turl pulsar+ssl://broker\n\t\t\ttopic t'), [{ name: 'pulsar', '@span': 'Caddyfile:3:3', url: 'pulsar+ssl://broker', topic: 't', tls: true }]);
});

test('transport pulsar: errors at file:line:col, with did-you-mean', () => {
  assert.throws(() => adapted('\t\t\turl pulsar://h:6650\n\t\t\ttopic t\n\t\t\tsubscripton_name node'), /Caddyfile:6:4: unknown subdirective in transport pulsar "subscripton_name".*did you mean "subscription_name"/);
  assert.throws(() => adapted('\t\t\turl pulsar://h:6650'), /Caddyfile:3:3: transport pulsar needs a topic/);
  assert.throws(() => adapted('\t\t\ttopic t'), /Caddyfile:3:3: transport pulsar needs a url/);
  assert.throws(() => adapted('\t\t\turl http://h:6650\n\t\t\ttopic t'), /Caddyfile:4:8: invalid Pulsar URL "http:\/\/h:6650"/);
  assert.throws(() => adapted('\t\t\turl pulsar://h\n\t\t\ttopic t\n\t\t\tindex_size 0'), /Caddyfile:3:3: index_size must be at least 1/);
});

test('transport_url pulsar:// and pulsar+ssl:// resolve to the pulsar module, as the commercial hub documents them', () => {
  assert.deepEqual(resolveTransportUrl('pulsar://localhost:6650?topic=mercure-ha&subscription_name=the-node-id'),
    { name: 'pulsar', config: { url: 'pulsar://localhost:6650', topic: 'mercure-ha', subscription_name: 'the-node-id' } });
  assert.deepEqual(resolveTransportUrl('pulsar+ssl://h:6651?topic=t&token=x.y.z&index_size=10'),
    { name: 'pulsar', config: { url: 'pulsar+ssl://h:6651', topic: 't', tls: true, token: 'x.y.z', index_size: 10 } });
  assert.throws(() => parseUrl('pulsar://h:6650?topic=t&subscriptionname=x', { file: 'Caddyfile', line: 4, column: 3 } as never),
    /Caddyfile:4:3: unknown query parameter in the Pulsar URL "subscriptionname".*did you mean "subscription_name"/);
  assert.throws(() => parseUrl('pulsar://h:6650?subscription_name=x'), /needs a topic/);
  assert.throws(() => parseUrl('pulsar://h:6650?topic=t&token=secret&tls=2'), (err: Error) => /invalid tls=2/.test(err.message) && !err.message.includes('secret'));
});

test('the module checks its JSON config', () => {
  assert.throws(() => checkConfig({ url: 'pulsar://h', topic: '' }), /invalid topic/);
  assert.throws(() => checkConfig({ url: 'pulsar://h', topic: 't', index_size: -1 }), /invalid index_size/);
  assert.throws(() => checkConfig({ url: 'pulsar://h', topic: 't', tls: 'yes' as never }), /invalid tls/);
  assert.throws(() => checkConfig({ url: 'pulsar://h', topic: 't', token: 5 as never }), (err: Error) => /invalid token \(hidden\)/.test(err.message));
  checkConfig({ url: 'pulsar://h', topic: 'tenant/ns/t', subscription_name: 'n' });
});

test('topic names, message codec and stream positions', () => {
  assert.equal(fullTopicName('mercure'), 'persistent://public/default/mercure');
  assert.equal(fullTopicName('acme/hub/mercure'), 'persistent://acme/hub/mercure');
  assert.equal(presenceTopicName('mercure'), 'non-persistent://public/default/mercure-presence');
  const u = { id: 'urn:uuid:1', topics: ['https://a/1', 'https://a/alt'], data: 'd\nd', private: true, type: 't', retry: 3 };
  const { payload, properties } = encodeUpdate(u);
  assert.deepEqual(JSON.parse(payload.toString()), { ID: 'urn:uuid:1', Topics: ['https://a/1', 'https://a/alt'], Data: 'd\nd', Private: true, Type: 't', Retry: 3 });
  assert.deepEqual(properties, { mercure_id: 'urn:uuid:1', mercure_topic: 'https://a/1' });
  assert.deepEqual(decodeUpdate(payload), u);
  assert.equal(decodeUpdate(Buffer.from('not json')), undefined);
  assert.equal(decodeUpdate(Buffer.from('{"foo":1}')), undefined);
  const ids = [{ ledgerId: 7n, entryId: 0n, batchIndex: -1 }, { ledgerId: 7n, entryId: 5n, batchIndex: 0 }, { ledgerId: 7n, entryId: 5n, batchIndex: 1 }, { ledgerId: 9n, entryId: 0n, batchIndex: -1 }]
    .map((i) => ({ ...i, partition: -1 }));
  const seqs = ids.map(seqOf);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!);
  assert.deepEqual(seqs.map(idOfSeq), ids);
});

test('the ID index: bounded, oldest position of a repeated ID, truncation flag', () => {
  const idx = new IdIndex(3);
  idx.add(1n, 'a'); idx.add(2n, 'b'); idx.add(3n, 'a');
  assert.equal(idx.find('a'), 1n);
  assert.equal(idx.truncated, false);
  idx.add(4n, 'c');
  assert.equal(idx.truncated, true);
  assert.equal(idx.size, 3);
  assert.equal(idx.find('a'), 3n, 'after the oldest "a" left, the next one is the anchor');
  idx.add(5n, 'd');
  assert.equal(idx.find('b'), undefined);
  assert.deepEqual(idx.last(), { seq: 5n, id: 'd' });
  assert.deepEqual(idx.at(0), { seq: 3n, id: 'a' });
  for (let i = 0; i < 10_000; i++) idx.add(BigInt(10 + i), `x${i}`);
  assert.equal(idx.size, 3);
  assert.equal(idx.find('x9999'), 10_009n);
});
