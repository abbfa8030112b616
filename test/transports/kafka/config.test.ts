/**
 * Configuration of the Kafka transport: the `transport kafka { … }` block, the
 * legacy `kafka://` URL (as the commercial hub documents it), the checks, the
 * record format and the ID index. No broker needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Directive, Span, Token } from '../../../grammar/ast.ts';
import { Dispenser } from '../../../src/caddyfile/dispenser.ts';
import { parseBlock } from '../../../src/transports/kafka/block.ts';
import { parseUrl, schemes } from '../../../src/transports/kafka/url.ts';
import { clientOptions } from '../../../src/transports/kafka/client.ts';
import { checkKafkaConfig, type KafkaTransportConfig } from '../../../src/transports/kafka/config.ts';
import { IdIndex, uuidV7Time } from '../../../src/transports/kafka/id-index.ts';
import { processConsumerGroup } from '../../../src/transports/kafka/module.ts';
import { decodeValue, encodeValue } from '../../../src/transports/kafka/record.ts';

/** `transport kafka` with a block, built line by line (line 1 is the transport line). */
function transportLine(lines: string[]): Dispenser {
  const tok = (text: string, line: number, column: number): Token => ({ text, quote: '', span: { file: 'Caddyfile', line, column } as Span });
  const words = (s: string, line: number) => s.trim().split(/\s+/).map((w, i) => tok(w, line, 5 + i * 10));
  const block: Directive[] = lines.map((l, i) => {
    const [name, ...args] = words(l, i + 2);
    return { name: name!, args, block: null };
  });
  const d = new Dispenser({ name: tok('transport', 1, 3), args: [tok('kafka', 1, 13)], block });
  d.nextArg();
  return d;
}

test('transport kafka: every option', () => {
  const cfg = parseBlock(transportLine([
    'addresses h1:9092 h2:9093', 'topic mercure', 'consumer_group node-1', 'user kevin', 'password maman',
    'sasl_mechanism SCRAM-SHA-512', 'tls', 'tls_ca_file /ca.pem', 'tls_cert_file /c.pem', 'tls_key_file /k.pem',
    'tls_insecure_skip_verify false', 'index_size 5000',
  ]));
  assert.deepEqual(cfg, {
    '@span': 'Caddyfile:1:3', addresses: ['h1:9092', 'h2:9093'], topic: 'mercure', consumer_group: 'node-1', user: 'kevin',
    password: 'maman', sasl_mechanism: 'scram-sha-512', tls: true, tls_ca_file: '/ca.pem', tls_cert_file: '/c.pem',
    tls_key_file: '/k.pem', tls_insecure_skip_verify: false, index_size: 5000,
  });
  assert.deepEqual(parseBlock(transportLine(['address 127.0.0.1:9092', 'topic t'])), { '@span': 'Caddyfile:1:3', addresses: ['127.0.0.1:9092'], topic: 't' });
});

const BAD: [string, string[], RegExp][] = [
  ['no address', ['topic t'], /Caddyfile:1:3: transport kafka needs an address/],
  ['no topic', ['address h:9092'], /Caddyfile:1:3: transport kafka needs a topic/],
  ['unknown subdirective, did you mean', ['address h:9092', 'topic t', 'consumer_grup g'], /Caddyfile:4:5: unknown subdirective in transport kafka "consumer_grup".*did you mean "consumer_group"/],
  ['address without port', ['address kafka', 'topic t'], /Caddyfile:2:15: invalid Kafka broker address "kafka"/],
  ['bad port', ['address h:99999', 'topic t'], /invalid port/],
  ['bad topic name', ['address h:9092', 'topic a/b'], /Caddyfile:1:3: transport kafka: invalid topic "a\/b".*expected a Kafka topic name/],
  ['unknown mechanism', ['address h:9092', 'topic t', 'user u', 'password p', 'sasl_mechanism gssapi'], /Caddyfile:6:15: unknown sasl_mechanism "gssapi".*plain, scram-sha-256, scram-sha-512/],
  ['user without password', ['address h:9092', 'topic t', 'user u'], /user and password go together/],
  ['mechanism without user', ['address h:9092', 'topic t', 'sasl_mechanism plain'], /sasl_mechanism needs user and password/],
  ['cert without key', ['address h:9092', 'topic t', 'tls_cert_file /c.pem'], /tls_cert_file and tls_key_file go together/],
  ['topic twice', ['address h:9092', 'topic a', 'topic b'], /set twice/],
];
for (const [what, lines, re] of BAD) {
  test(`transport kafka rejects: ${what}`, () => {
    assert.throws(() => parseBlock(transportLine(lines)), (err: Error & { code?: string }) => {
      assert.match(err.message, re);
      assert.match(err.code ?? '', /^ERR_CFG_/);
      return true;
    });
  });
}

test('legacy URL: exactly the documented parameters', () => {
  assert.deepEqual(schemes, ['kafka']);
  assert.deepEqual(parseUrl('kafka://kafka/?addr=localhost:9092&topic=mercure-ha'), { addresses: ['localhost:9092'], topic: 'mercure-ha' });
  assert.deepEqual(parseUrl('kafka://kafka/?addr=h1:9092&addr=h2:9092&topic=t&consumer_group=node-a&user=kevin&password=maman&tls=1'),
    { addresses: ['h1:9092', 'h2:9092'], topic: 't', consumer_group: 'node-a', user: 'kevin', password: 'maman', tls: true });
  assert.deepEqual(parseUrl('kafka://x?addr=h:1&topic=t&user=u&password=p&sasl_mechanism=scram-sha-256&tls=0'),
    { addresses: ['h:1'], topic: 't', user: 'u', password: 'p', sasl_mechanism: 'scram-sha-256', tls: false });
  const span = { file: 'Caddyfile', line: 4, column: 3 };
  assert.throws(() => parseUrl('kafka://k/?addr=h:9092&topic=t&consumer_groupe=x', span), /Caddyfile:4:3: unknown query parameter in the Kafka URL "consumer_groupe".*did you mean "consumer_group"/);
  assert.throws(() => parseUrl('kafka://k/?topic=t', span), /needs at least one addr/);
  assert.throws(() => parseUrl('kafka://k/?addr=h:9092', span), /needs a topic/);
  assert.throws(() => parseUrl('kafka://k/?addr=h:9092&topic=t&tls=yes', span), /invalid tls=yes.*0 or 1/);
  assert.throws(() => parseUrl('kafka://k/?addr=h:9092&topic=t&user=u&password=secret&password=x', span), (err: Error) => !err.message.includes('secret'));
  assert.throws(() => parseUrl('redis://h/x'), /not a Kafka URL/);
});

test('transport_url kafka:// resolves to the kafka module; a Caddyfile block adapts with its span', async () => {
  const { registerStandardModules } = await import('../../../src/runtime/standard.ts');
  const { resolveTransportUrl } = await import('../../../src/mercure/transport-loader.ts');
  const { registerAllDirectives } = await import('../../../directives/index.ts');
  const { adaptText } = await import('../../../src/runtime/load-config.ts');
  registerStandardModules();
  registerAllDirectives();
  assert.deepEqual(resolveTransportUrl('kafka://kafka/?addr=h:9092&topic=ha'), { name: 'kafka', config: { addresses: ['h:9092'], topic: 'ha' } });
  const caddyfile = (block: string) => `localhost:8080 {\n\tmercure {\n\t\ttransport kafka {\n${block}\n\t\t}\n\t}\n}\n`;
  const { config } = adaptText(caddyfile('\t\t\taddress 127.0.0.1:9092\n\t\t\ttopic mercure'), 'caddyfile', 'Caddyfile');
  const found: unknown[] = [];
  JSON.stringify(config, (_k, v: { name?: string }) => { if (v && v.name === 'kafka') found.push(v); return v; });
  assert.deepEqual(found, [{ name: 'kafka', '@span': 'Caddyfile:3:3', addresses: ['127.0.0.1:9092'], topic: 'mercure' }]);
  assert.throws(() => adaptText(caddyfile('\t\t\taddress h:9092\n\t\t\ttopic t\n\t\t\ttsl'), 'caddyfile', 'Caddyfile'),
    /Caddyfile:6:4: unknown subdirective in transport kafka "tsl".*did you mean "tls"/);
});

test('config checks, client options, generated consumer group', () => {
  const base: KafkaTransportConfig = { addresses: ['h:9092'], topic: 't' };
  assert.doesNotThrow(() => checkKafkaConfig(base));
  assert.throws(() => checkKafkaConfig({ ...base, '@span': 'Caddyfile:7:2', index_size: -1 }), /Caddyfile:7:2: transport kafka: invalid index_size/);
  const o = clientOptions({ ...base, user: 'u', password: 'p', sasl_mechanism: 'scram-sha-256', tls_insecure_skip_verify: true }, 'c');
  assert.deepEqual(o.sasl, { mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' });
  assert.equal(o.tls?.rejectUnauthorized, false);
  assert.equal(clientOptions(base, 'c').tls, undefined);
  assert.deepEqual(clientOptions({ ...base, user: 'u', password: 'p' }, 'c').sasl?.mechanism, 'PLAIN');
  assert.throws(() => clientOptions({ ...base, tls_ca_file: '/nonexistent/ca.pem' }, 'c'), /cannot read tls_ca_file \/nonexistent\/ca.pem/);
  const g = processConsumerGroup();
  assert.match(g, new RegExp(`^quicksilver-.+-${process.pid}-[0-9a-f]{8}$`));
  assert.equal(processConsumerGroup(), g, 'stable for the process');
});

test('record format: Mercure JSON value, readable by others', () => {
  const u = { id: 'urn:uuid:1', topics: ['https://a', 'https://b'], data: 'x\ny', private: true, type: 'ev', retry: 5 };
  const v = encodeValue(u);
  assert.deepEqual(JSON.parse(v.toString()), { ID: 'urn:uuid:1', Topics: ['https://a', 'https://b'], Data: 'x\ny', Private: true, Type: 'ev', Retry: 5 });
  assert.deepEqual(decodeValue(v), u);
  assert.deepEqual(decodeValue(encodeValue({ id: 'i', topics: ['t'], data: '', private: false })), { id: 'i', topics: ['t'], data: '', private: false });
  assert.throws(() => decodeValue(Buffer.from('{"foo":1}')), /not a Mercure update/);
  assert.throws(() => decodeValue(Buffer.from('not json')));
});

test('ID index: oldest offset wins, bounded, floor moves, trims', () => {
  const ix = new IdIndex(3, 10n);
  ix.add('a', 10n); ix.add('b', 11n); ix.add('a', 12n); ix.add('c', 13n);
  assert.equal(ix.get('a'), 10n, 'a repeated ID keeps its oldest offset');
  ix.add('d', 14n);
  assert.equal(ix.size, 3);
  assert.equal(ix.get('a'), undefined, 'the oldest entry was evicted');
  assert.equal(ix.floor, 11n);
  ix.trim(13n);
  assert.equal(ix.get('b'), undefined);
  assert.equal(ix.get('c'), 13n);
  assert.equal(ix.floor, 13n);
  const none = new IdIndex(0);
  none.add('x', 5n);
  assert.equal(none.get('x'), undefined);
  assert.equal(none.floor, 6n);
  assert.equal(uuidV7Time('urn:uuid:019aea8a-6c84-7b3e-9f2a-1234567890ab'), 0x019aea8a6c84);
  assert.equal(uuidV7Time('urn:uuid:019aea8a-6c84-4b3e-9f2a-1234567890ab'), undefined);
  assert.equal(uuidV7Time('custom-id'), undefined);
});
