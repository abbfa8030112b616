/**
 * The legacy configuration (`mercure` adapter), with real `quicksilver`
 * processes: the commercial hub's `mercure.yaml` on a real Redis, a
 * `mercure.json`, and the environment-only form each run a hub that
 * publishes and delivers; `adapt` prints the JSON they become (environment
 * over file, as the legacy server had it); unknown keys and bad values are
 * errors at file:line:col with a did-you-mean.
 */
import { after, describe, test } from 'node:test';
import { cli as runCli } from '../helpers/hub-process.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken } from '../../src/mercure/token.ts';
import { LEGACY_KEYS } from '../../src/adapters/mercure-legacy/index.ts';
import { freePort, startHub, type HubProcess } from '../helpers/hub-process.ts';
import { redisSkipReason, startRedis, type RedisServer } from '../helpers/redis-server.ts';
import { Sse, http, publish } from '../mercure/harness.ts';

const KEY = 'legacy-test-key-0123456789abcdef';

/** What stderr says: the messages of its JSON log entries (plain lines kept as they are). */
function logText(stderr: string): string {
  return stderr.split('\n').map((l) => { try { return (JSON.parse(l) as { msg: string }).msg; } catch { return l; } }).join('\n');
}

/** process.env without any legacy variable (a stray DEBUG or ADDR must not change these tests), plus `env`. */
function cleanEnv(env: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !(k.toLowerCase() in LEGACY_KEYS)) out[k] = v;
  return { ...out, ...env };
}

/** The legacy variables set to empty (= unset for the adapter), so startHub's process.env cannot leak any in. */
function blankLegacy(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(LEGACY_KEYS)) out[k.toUpperCase()] = '';
  return { ...out, ...env };
}

const cli = (args: string[], cwd: string, env: Record<string, string> = {}) => runCli(args, cwd, cleanEnv(env));

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'qs-legacy-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Subscribes, publishes one update, and checks it arrives; returns the update ID. */
async function roundTrip(base: string, subQuery: string, pubToken: string, topic: string): Promise<string> {
  const s = new Sse(`${base}/.well-known/mercure?${subQuery}`);
  try {
    await s.opened;
    assert.equal(s.status, 200);
    await s.waitFor((t) => t.startsWith(':'));
    const res = await publish(base, pubToken, [['topic', topic], ['data', 'hello legacy']]);
    assert.equal(res.status, 200, res.body);
    await s.waitForText(`id: ${res.body}\ndata: hello legacy\n\n`);
    return res.body;
  } finally {
    s.close();
  }
}

describe('legacy configuration, running', () => {
  const hubs: HubProcess[] = [];
  let redis: RedisServer | undefined;
  after(async () => {
    for (const h of hubs) await h.stop();
    await redis?.destroy();
  });

  test('mercure.yaml as the commercial hub documented it (transport_url on Redis, license) runs the hub', { skip: redisSkipReason() }, async () => {
    redis = await startRedis();
    const port = await freePort();
    const yaml = [
      `transport_url: redis://${redis.address}/mercure-ha`,
      'license: not-a-real-license-key',
      `addr: 127.0.0.1:${port}`,
      `jwt_key: '${KEY}'`,
      'allow_anonymous: true',
      'subscriptions: true',
      'heartbeat_interval: 15s',
      'write_timeout: 0s',
      '',
    ].join('\n');
    const h = await startHub(yaml, { file: 'mercure.yaml', env: blankLegacy({ CADDY_ADMIN: `localhost:${await freePort()}` }) });
    hubs.push(h);
    const base = `http://127.0.0.1:${port}`;
    const token = await mintToken({ key: KEY, publish: ['*'] });
    await roundTrip(base, 'topic=' + encodeURIComponent('https://example.com/books/{id}'), token, 'https://example.com/books/1');
    // The update went through Redis: the stream named by the URL's path holds it.
    assert.ok(Number(await redis.cli('XLEN', 'mercure-ha')) >= 1, 'the mercure-ha stream holds the update');
    assert.equal((await http(`${base}/healthz`)).status, 200);
    const missing = await http(`${base}/nothing-here`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body, '404 page not found\n');
  });

  test('mercure.json with separate keys and algorithms, CORS and publish origins', async () => {
    const port = await freePort();
    const json = JSON.stringify({
      addr: `127.0.0.1:${port}`,
      publisher_jwt_key: 'pub-' + KEY, subscriber_jwt_key: 'sub-' + KEY, jwt_algorithm: 'HS256',
      cors_allowed_origins: ['https://app.example'], publish_allowed_origins: 'https://app.example',
      transport_url: 'local://local',
    });
    const h = await startHub(json, { file: 'mercure.json', env: blankLegacy({ CADDY_ADMIN: `localhost:${await freePort()}` }) });
    hubs.push(h);
    const base = `http://127.0.0.1:${port}`;
    const sub = await mintToken({ key: 'sub-' + KEY, subscribe: ['https://example.com/private'] });
    await roundTrip(base, `topic=${encodeURIComponent('https://example.com/private')}&authorization=${sub}`,
      await mintToken({ key: 'pub-' + KEY, publish: ['*'] }), 'https://example.com/private');
    // Not anonymous: without a token the hub refuses.
    assert.equal((await http(`${base}/.well-known/mercure?topic=x`)).status, 401);
    const pre = await http(`${base}/.well-known/mercure`, {
      method: 'OPTIONS', headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
  });

  test('quicksilver reload sends the edited mercure.yaml to the running hub', async () => {
    const port = await freePort();
    const admin = `localhost:${await freePort()}`;
    const yaml = (anonymous: boolean) => `addr: 127.0.0.1:${port}\njwt_key: ${KEY}\nallow_anonymous: ${anonymous}\ntransport_url: local://local\n`;
    const h = await startHub(yaml(false), { file: 'mercure.yaml', env: blankLegacy({ CADDY_ADMIN: admin }) });
    hubs.push(h);
    const url = `http://127.0.0.1:${port}/.well-known/mercure?topic=urn:reload`;
    assert.equal((await http(url, { method: 'HEAD' })).status, 401);
    writeFileSync(join(h.dir, 'mercure.yaml'), yaml(true));
    const r = await cli(['reload', '--config', 'mercure.yaml', '--address', admin], h.dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await http(url, { method: 'HEAD' })).status, 200, 'anonymous subscribers are let in after the reload');
  });

  test('the environment alone (run --adapter mercure) runs the hub', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'qs-legacy-env-'));
    const h = await startHub('', {
      dir, file: 'unused', command: ['run', '--adapter', 'mercure'],
      env: blankLegacy({
        CADDY_ADMIN: `localhost:${await freePort()}`,
        ADDR: `127.0.0.1:${port}`, JWT_KEY: KEY, ALLOW_ANONYMOUS: '1', SUBSCRIPTIONS: 'true',
        TRANSPORT_URL: `bolt://${join(dir, 'updates.db')}`, HEARTBEAT_INTERVAL: '20s', DISPATCH_TIMEOUT: '2s',
        CORS_ALLOWED_ORIGINS: 'https://a.example https://b.example', LICENSE: 'ignored',
      }),
    });
    hubs.push(h);
    const base = `http://127.0.0.1:${port}`;
    const id = await roundTrip(base, 'topic=urn:legacy:env', await mintToken({ key: KEY, publish: ['*'] }), 'urn:legacy:env');
    // bolt keeps history: a new subscriber replays from before the ID it names.
    const again = new Sse(`${base}/.well-known/mercure?topic=urn:legacy:env&lastEventID=earliest`);
    try {
      await again.opened;
      await again.waitForText(`id: ${id}\n`);
    } finally { again.close(); }
  });
});

describe('legacy configuration, adapt and errors', () => {
  test('adapt prints the JSON a mercure.yaml becomes; environment variables win over the file, with a warning', async () => {
    const dir = dirWith({
      'mercure.yaml': [
        'addr: :3000', 'jwt_key: k', 'subscriber_jwt_key: s', 'subscriber_jwt_algorithm: HS512',
        'allow_anonymous: false', 'demo: 1', 'cors_allowed_origins: https://a.example,https://b.example',
        'tcsz: 500', 'compress: true', 'use_forwarded_headers: true', 'metrics_enabled: true',
        'transport_url: bolt://updates.db?size=100', 'license: secret', 'dispatch_timeout: 0', '',
      ].join('\n'),
    });
    const r = await cli(['adapt', '--config', 'mercure.yaml'], dir, { ADDR: ':4000', HEARTBEAT_INTERVAL: '30s' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /"adapter":"mercure","file":"mercure\.yaml","line":1,"column":7,"msg":"addr: overridden by the environment variable ADDR"/);
    const hub = { handler: 'mercure', publisher_jwt: { key: 'k', alg: 'HS256' }, subscriber_jwt: { key: 's', alg: 'HS512' },
      demo: true, heartbeat: '30s', dispatch_timeout: '0s', cors_origins: ['https://a.example', 'https://b.example'],
      cache: { size: 500 }, transport_url: 'bolt://updates.db?size=100' };
    assert.deepEqual(JSON.parse(r.stdout), {
      apps: { http: { servers: {
        srv0: {
          listen: [':4000'],
          routes: [
            { handle: [{ handler: 'encode', encodings: { gzip: {} }, prefer: ['gzip'] }] },
            { handle: [hub] },
            { match: [{ path: ['/healthz'] }], handle: [{ handler: 'static_response', status_code: 200 }], terminal: true },
            { handle: [{ handler: 'static_response', status_code: 404, headers: { 'Content-Type': ['text/plain; charset=utf-8'] }, body: '404 page not found\n' }] },
          ],
          trusted_proxies: { source: 'static', ranges: ['0.0.0.0/0', '::/0'] },
        },
        metrics: { listen: ['127.0.0.1:9764'], routes: [{ match: [{ path: ['/metrics'] }], handle: [{ handler: 'metrics' }] }] },
      } } },
    });
    assert.doesNotMatch(r.stdout, /secret/, 'the license stays out of the JSON');
  });

  test('the environment-only form adapts too, and cert_file/key_file become TLS', async () => {
    const r = await cli(['adapt', '--adapter', 'mercure'], dirWith({}), { PUBLISHER_JWT_KEY: 'p', ALLOW_ANONYMOUS: 'true', CERT_FILE: '/c.pem', KEY_FILE: '/k.pem', DEBUG: '1' });
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout) as { logging: unknown; apps: { http: { servers: { srv0: Record<string, unknown> } }; tls: unknown } };
    assert.deepEqual(c.logging, { logs: { default: { level: 'DEBUG' } } });
    assert.deepEqual(c.apps.http.servers.srv0.listen, [':443']);
    assert.deepEqual(c.apps.http.servers.srv0.tls_connection_policies, [{}]);
    assert.deepEqual(c.apps.tls, { certificates: { load_files: [{ certificate: '/c.pem', key: '/k.pem' }] } });
  });

  test('unknown keys and bad values: every error at once, at file:line:col, with a did-you-mean', async () => {
    const dir = dirWith({ 'mercure.yaml': 'jwt_kye: x\naddr: nowhere\nheartbeat_interval: 40\nallow_anonymous: yes\napps: {}\n' });
    const r = await cli(['run', '--config', 'mercure.yaml'], dir);
    assert.equal(r.code, 1);
    assert.match(logText(r.stderr), /mercure\.yaml:1:1: unknown configuration key "jwt_kye"; expected one of .*\(did you mean "jwt_key"\?\)/);
    assert.match(logText(r.stderr), /mercure\.yaml:3:21: "heartbeat_interval": 40 has no unit; expected a duration with a unit/);
    assert.match(logText(r.stderr), /mercure\.yaml:4:18: "allow_anonymous": "yes" is not a boolean/);
    assert.match(logText(r.stderr), /mercure\.yaml:5:1: unknown configuration key "apps": this looks like Caddy's JSON config \(load it with --adapter json\)/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    const bad = await cli(['adapt', '--config', 'mercure.yaml'], dirWith({ 'mercure.yaml': 'jwt_key: k\nallow_anonymous: true\naddr: nowhere\n' }));
    assert.equal(bad.code, 1);
    assert.match(logText(bad.stderr), /mercure\.yaml:3:7: "addr": "nowhere" is not a listen address; expected host:port or :port/);
  });

  test('environment errors name the variable; a missing key says which variables set it', async () => {
    const r = await cli(['adapt', '--adapter', 'mercure'], dirWith({}), { JWT_KEY: 'k', ALLOW_ANONYMOUS: 'maybe', WRITE_TIMEOUT: '10 minutes' });
    assert.equal(r.code, 1);
    assert.match(logText(r.stderr), /environment variable ALLOW_ANONYMOUS: "maybe" is not a boolean/);
    assert.match(logText(r.stderr), /environment variable WRITE_TIMEOUT: "10 minutes" is not a duration/);
    const none = await cli(['adapt', '--adapter', 'mercure'], dirWith({}));
    assert.equal(none.code, 1);
    assert.match(logText(none.stderr), /one of "jwt_key" or "publisher_jwt_key" must be set \(environment variables JWT_KEY, PUBLISHER_JWT_KEY\)/);
  });

  test('a Caddy JSON config named mercure.json stays JSON', async () => {
    const caddy = JSON.stringify({ admin: { disabled: true }, apps: { http: { servers: { a: { listen: [':9999'] } } } } });
    const r = await cli(['adapt', '--config', 'mercure.json'], dirWith({ 'mercure.json': caddy }));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(caddy));
  });
});

test('README maps every legacy key, and no other, to its environment variable and Caddyfile equivalent', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Legacy configuration'), readme.indexOf('\n## ', readme.indexOf('## Legacy configuration') + 3));
  const rows = [...section.matchAll(/^\| `([a-z0-9_]+)` \| `([A-Z0-9_]+)` \| (.+) \|$/gm)];
  assert.deepEqual(rows.map((r) => r[1]).sort(), Object.keys(LEGACY_KEYS).sort());
  for (const r of rows) {
    assert.equal(r[2], r[1]!.toUpperCase());
    assert.ok(r[3]!.trim().length > 0, `${r[1]} has a Caddyfile equivalent`);
  }
});
