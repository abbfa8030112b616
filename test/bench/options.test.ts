import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions, HelpRequested } from '../../bench/options.ts';
import { runBound } from '../../bench/run.ts';
import { hubCaddyfile } from '../../bench/spawn.ts';
import { LoopbackError } from '../../bench/loopback.ts';

const URL = ['--url', 'http://127.0.0.1:3000/.well-known/mercure'];

test('defaults per scenario and the --quick sizes', () => {
  const f = parseOptions(['fanout', ...URL]);
  assert.equal(f.subscribers, 1000);
  assert.equal(f.rate, 100);
  assert.equal(f.count, 1000);
  const q = parseOptions(['fanout', '--quick', ...URL]);
  assert.equal(q.subscribers, 20);
  assert.equal(q.count, 50);
  const h = parseOptions(['hold', ...URL, '--subscribers', '100_000', '--force']);
  assert.equal(h.subscribers, 100_000);
  const p = parseOptions(['publish', ...URL]);
  assert.equal(p.mode, 'closed');
  assert.equal(p.subscribers, 1);
  assert.equal(parseOptions(['publish', '--mode', 'ramp', ...URL]).duration, 60);
  assert.ok(runBound(p) > 10_000 && runBound(p) < 3_600_000);
});

test('bad input is refused with a message', () => {
  assert.throws(() => parseOptions([]), /scenario/);
  assert.throws(() => parseOptions(['nope', ...URL]), /scenario/);
  assert.throws(() => parseOptions(['fanout']), /--url/);
  assert.throws(() => parseOptions(['fanout', ...URL, '--spawn']), /exclude/);
  assert.throws(() => parseOptions(['fanout', ...URL, '--rate=-1']), /non-negative/);
  assert.throws(() => parseOptions(['fanout', ...URL, '--rate', 'fast']), /non-negative/);
  assert.throws(() => parseOptions(['fanout', ...URL, '--rate', '0']), /rate/);
  assert.throws(() => parseOptions(['fanout', ...URL, '--bogus']), /bogus/);
  assert.throws(() => parseOptions(['cluster', ...URL]), /publish-url/);
  assert.throws(() => parseOptions(['cluster', '--spawn', '--transport', 'bolt']), /shared transport/);
  assert.throws(() => parseOptions(['fanout', '--url', 'http://example.com/']), LoopbackError);
  assert.throws(() => parseOptions(['fanout', ...URL, '--subscribers', '100000', '--rate', '10000', '--duration', '3600']), /too large/);
  assert.throws(() => parseOptions(['--help']), HelpRequested);
});

test('generated Caddyfiles', () => {
  const base = { key: '!ChangeThisMercureHubJWTSecretKey!', alg: 'HS256' };
  const bolt = hubCaddyfile(4000, '/tmp/d', { ...base, transport: 'bolt' });
  assert.equal(bolt, '{\n\tadmin off\n}\n:4000 {\n\tmercure {\n\t\tpublisher_jwt !ChangeThisMercureHubJWTSecretKey! HS256\n\t\tsubscriber_jwt !ChangeThisMercureHubJWTSecretKey! HS256\n\t\tanonymous\n\t\ttransport bolt {\n\t\t\tpath /tmp/d/hub.db\n\t\t}\n\t}\n}\n');
  assert.match(hubCaddyfile(1, '/d', { ...base, transport: 'local', directives: ['heartbeat 5s'] }), /transport local\n\t\theartbeat 5s\n/);
  assert.match(hubCaddyfile(1, '/d', { ...base, transport: 'redis', transportUrl: 'redis://u:p%20w@localhost:6380/s1' }), /transport redis \{\n\t\t\taddress localhost:6380\n\t\t\tstream s1\n\t\t\tusername u\n\t\t\tpassword "p w"\n\t\t\}/);
  assert.match(hubCaddyfile(1, '/d', { ...base, transport: 'redis', transportUrl: 'redis://127.0.0.1', stream: 'x' }), /address 127\.0\.0\.1:6379\n\t\t\tstream x\n/);
  assert.match(hubCaddyfile(1, '/d', { ...base, transport: 'postgres', transportUrl: 'postgres://a@127.0.0.1:5432/db' }), /transport postgres \{\n\t\t\turl postgres:\/\/a@127\.0\.0\.1:5432\/db\n/);
  assert.throws(() => hubCaddyfile(1, '/d', { ...base, transport: 'redis', transportUrl: 'redis://10.0.0.5:6379' }), LoopbackError);
  assert.throws(() => hubCaddyfile(1, '/d', { ...base, transport: 'redis' }), /transport-url/);
  assert.equal(hubCaddyfile(7, '/x', { ...base, transport: 'bolt', configTemplate: ':{PORT} {DIR}' }), ':7 /x');
  assert.match(hubCaddyfile(1, '/d', { key: 'a key"q', alg: 'HS256', transport: 'local' }), /publisher_jwt "a key\\"q" HS256/);
});
