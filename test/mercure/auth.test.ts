/**
 * Subscribe errors and token handling: checklist 1–11 and 83–98.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mintToken } from '../../src/mercure/token.ts';
import { MercureHub } from '../../src/mercure/hub.ts';
import { HUB, P, S, baseConfig, form, http, publish, pubToken, startHub, subToken, subscribe, topics, type TestHub } from './harness.ts';

const T = topics('https://example.com/books/1');

async function hub(t: import('node:test').TestContext, extra = {}): Promise<TestHub> {
  const h = await startHub(baseConfig(extra));
  t.after(() => h.close());
  return h;
}

test('subscribe errors answer the reference status and body (1-9)', async (t) => {
  const strict = await hub(t);
  const anon = await hub(t, { anonymous: true });
  const many = Array.from({ length: 1001 }, (_, i) => `https://example.com/${i}`);
  const cases: { name: string; h: TestHub; query: string; headers?: Record<string, string>; status: number; body: string }[] = [
    { name: '1 no topic', h: anon, query: '', status: 400, body: 'Missing "topic" parameter.\n' },
    { name: '2 1001 topics', h: anon, query: topics(...many), status: 400, body: 'Too many "topic" parameters.\n' },
    { name: '3 no token', h: strict, query: T, status: 401, body: 'Unauthorized\n' },
    { name: '4 invalid cookie', h: strict, query: T, headers: { Cookie: 'mercureAuthorization=invalid' }, status: 401, body: 'Unauthorized\n' },
    { name: '5 other secret', h: strict, query: T, headers: { Authorization: `Bearer ${await mintToken({ key: 'other', subscribe: ['*'] })}` }, status: 401, body: 'Unauthorized\n' },
    { name: '6 alg none', h: strict, query: T, headers: { Authorization: 'Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJtZXJjdXJlIjp7InN1YnNjcmliZSI6WyIqIl19fQ.' }, status: 401, body: 'Unauthorized\n' },
    { name: '7 1001 subscribe selectors', h: strict, query: T, headers: { Authorization: `Bearer ${await subToken(many)}` }, status: 401, body: 'Unauthorized\n' },
    { name: '8 anonymous hub + invalid token', h: anon, query: T, headers: { Authorization: `Bearer ${await mintToken({ key: 'other', subscribe: ['*'] })}` }, status: 401, body: 'Unauthorized\n' },
    { name: '9 expired', h: strict, query: T, headers: { Authorization: `Bearer ${await mintToken({ key: S, subscribe: ['*'], claims: { exp: 1000 } })}` }, status: 401, body: 'Unauthorized\n' },
    { name: 'nbf in the future', h: strict, query: T, headers: { Authorization: `Bearer ${await mintToken({ key: S, subscribe: ['*'], claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } })}` }, status: 401, body: 'Unauthorized\n' },
    { name: 'claim of the wrong shape', h: strict, query: T, headers: { Authorization: `Bearer ${await mintToken({ key: S, claims: { mercure: { subscribe: 'foo' } } })}` }, status: 401, body: 'Unauthorized\n' },
    { name: 'HS512 token on an HS256 hub', h: strict, query: T, headers: { Authorization: `Bearer ${await mintToken({ key: S, alg: 'HS512', subscribe: ['*'] })}` }, status: 401, body: 'Unauthorized\n' },
    { name: 'garbage token', h: strict, query: T, headers: { Authorization: 'Bearer ' + '!'.repeat(60) }, status: 401, body: 'Unauthorized\n' },
  ];
  for (const c of cases) {
    const res = await http(`${c.h.url}${HUB}?${c.query}`, { headers: c.headers });
    assert.equal(res.status, c.status, c.name);
    assert.equal(res.body, c.body, c.name);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8', c.name);
  }
});

test('subscribe: transport refusing the subscriber → 503 (10)', async (t) => {
  const h = await hub(t);
  await h.hub.runtime.transport.close();
  const res = await http(`${h.url}${HUB}?${T}`, { headers: { Authorization: `Bearer ${await subToken()}` } });
  assert.equal(res.status, 503);
  assert.equal(res.body, 'Service Unavailable\n');
});

test('subscribe: a hub without subscriber key nor anonymous refuses to start (11: the GET→405 case is Go-API only)', async () => {
  await assert.rejects(startHub({ publisher_jwt: { key: P }, transport: { name: 'local' } }), /subscribers must be provided/);
});

test('token transport: header, query and cookie rules (83-88, 93)', async (t) => {
  const h = await hub(t, { cookie_name: 'custom' });
  const good = await subToken();
  const cases: { name: string; path: string; headers?: Record<string, string | string[]>; status: number }[] = [
    { name: '83 two Authorization headers', path: T, headers: { Authorization: [`Bearer ${good}`, `Bearer ${good}`] }, status: 401 },
    { name: '84 too short', path: T, headers: { Authorization: 'Bearer x' }, status: 401 },
    { name: '85 not Bearer', path: T, headers: { Authorization: `Basic ${good}` }, status: 401 },
    { name: '85 lower-case bearer', path: T, headers: { Authorization: `bearer ${good}` }, status: 401 },
    { name: '86 query token', path: `${T}&authorization=${good}`, status: 200 },
    { name: '86 short query token', path: `${T}&authorization=x`, status: 401 },
    { name: '86 two query tokens', path: `${T}&authorization=${good}&authorization=${good}`, status: 401 },
    { name: '87 bad header wins over good cookie', path: T, headers: { Authorization: 'Bearer ' + 'x'.repeat(50), Cookie: `custom=${good}` }, status: 401 },
    { name: '88/93 custom cookie on GET', path: T, headers: { Cookie: `custom=${good}` }, status: 200 },
    { name: '93 default cookie name ignored when customised', path: T, headers: { Cookie: `mercureAuthorization=${good}` }, status: 401 },
  ];
  for (const c of cases) {
    const s = await subscribe(h.url, c.path, c.headers as Record<string, string>);
    s.close();
    assert.equal(s.status, c.status, c.name);
  }
});

test('cookie publishing needs an allowed Origin or Referer (89-93)', async (t) => {
  const h = await hub(t, { publish_origins: ['https://allowed.example', 'https://*.wild.example'], cookie_name: 'custom' });
  const all = await hub(t, { publish_origins: ['*'] });
  const tok = await pubToken();
  const body = form([['topic', 'https://example.com/1']]);
  const post = (target: TestHub, headers: Record<string, string>) =>
    http(target.url + HUB, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers } });
  const cookie = { Cookie: `custom=${tok}` };
  const cases: [string, TestHub, Record<string, string>, number][] = [
    ['89 no Origin nor Referer', h, cookie, 401],
    ['90 origin not listed', h, { ...cookie, Origin: 'https://evil.example' }, 401],
    ['90 referer not listed', h, { ...cookie, Referer: 'https://evil.example/page' }, 401],
    ['allowed origin', h, { ...cookie, Origin: 'https://allowed.example' }, 200],
    ['allowed referer', h, { ...cookie, Referer: 'https://allowed.example/some/page?x=1' }, 200],
    ['91 Origin has priority over Referer', h, { ...cookie, Origin: 'https://evil.example', Referer: 'https://allowed.example/' }, 401],
    ['92 wildcard origin', h, { ...cookie, Origin: 'https://a.wild.example' }, 200],
    ['92 wildcard mismatch', h, { ...cookie, Origin: 'https://wild.example' }, 401],
    ['92 star allows all', all, { Cookie: `mercureAuthorization=${tok}`, Origin: 'https://whatever.example' }, 200],
    ['request origin is not lower-cased', h, { ...cookie, Origin: 'https://ALLOWED.example' }, 401],
  ];
  for (const [name, target, headers, status] of cases) {
    const res = await post(target, headers);
    assert.equal(res.status, status, name);
  }
});

test('namespaced claim wins over mercure (94)', async (t) => {
  const h = await hub(t);
  const ns = await mintToken({ key: P, claims: { 'https://mercure.rocks/': { publish: ['*'] }, mercure: { publish: [] } } });
  assert.equal((await publish(h.url, ns, [['topic', 'a']])).status, 200);
  const nsDenies = await mintToken({ key: P, claims: { 'https://mercure.rocks/': { subscribe: ['*'] }, mercure: { publish: ['*'] } } });
  assert.equal((await publish(h.url, nsDenies, [['topic', 'a']])).status, 401);
  const folded = await mintToken({ key: P, claims: { MERCURE: { Publish: ['*'] } } });
  assert.equal((await publish(h.url, folded, [['topic', 'a']])).status, 200, "Go's case-insensitive field match");
});

function selfSigned(dir: string, keyArgs: string[]): { cert: string; key: string } {
  const keyFile = join(dir, 'k.pem'), certFile = join(dir, 'c.pem');
  execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=test'], { stdio: 'ignore' });
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

test('algorithms and key formats: HS256, RS256 (PKIX, PKCS#1, cert), ES256 (PKIX, cert), EdDSA (95-97)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qs-keys-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ed = generateKeyPairSync('ed25519');
  const pem = (k: import('node:crypto').KeyObject, type: 'spki' | 'pkcs1' | 'pkcs8') => k.export({ format: 'pem', type } as never) as string;
  const rsaCert = selfSigned(dir, ['-newkey', 'rsa:2048']);
  const ecCert = selfSigned(dir, ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  const rows: { name: string; alg: string; verify: string; sign: string }[] = [
    { name: 'HS256', alg: 'HS256', verify: 'secret', sign: 'secret' },
    { name: 'HS384', alg: 'HS384', verify: 'secret', sign: 'secret' },
    { name: 'RS256 PKIX', alg: 'RS256', verify: pem(rsa.publicKey, 'spki'), sign: pem(rsa.privateKey, 'pkcs8') },
    { name: 'RS512 PKCS#1', alg: 'RS512', verify: pem(rsa.publicKey, 'pkcs1'), sign: pem(rsa.privateKey, 'pkcs8') },
    { name: 'RS256 1024-bit (Go accepts it)', alg: 'RS256', verify: pem(rsa1024.publicKey, 'spki'), sign: pem(rsa1024.privateKey, 'pkcs8') },
    { name: 'RS256 certificate', alg: 'RS256', verify: rsaCert.cert, sign: rsaCert.key },
    { name: 'ES256 PKIX', alg: 'ES256', verify: pem(ec.publicKey, 'spki'), sign: pem(ec.privateKey, 'pkcs8') },
    { name: 'ES256 certificate', alg: 'ES256', verify: ecCert.cert, sign: ecCert.key },
    { name: 'EdDSA', alg: 'EdDSA', verify: pem(ed.publicKey, 'spki'), sign: pem(ed.privateKey, 'pkcs8') },
  ];
  for (const r of rows) {
    const h = await startHub({ publisher_jwt: { key: r.verify, alg: r.alg }, subscriber_jwt: { key: r.verify, alg: r.alg }, transport: { name: 'local' } });
    try {
      let tok: string;
      if (r.name.includes('1024')) {
        // jose refuses to sign with RSA < 2048 bits; sign by hand.
        const { createSign } = await import('node:crypto');
        const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
        const input = enc({ alg: 'RS256' }) + '.' + enc({ mercure: { publish: ['*'], subscribe: ['*'] } });
        tok = input + '.' + createSign('sha256').update(input).sign(r.sign).toString('base64url');
      } else {
        tok = await mintToken({ key: r.sign, alg: r.alg, publish: ['*'], subscribe: ['*'] });
      }
      assert.equal((await publish(h.url, tok, [['topic', 'a']])).status, 200, r.name);
      const s = await subscribe(h.url, T, { Authorization: `Bearer ${tok}` });
      s.close();
      assert.equal(s.status, 200, r.name + ' subscribe');
      const tampered = tok.slice(0, -4) + (tok.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      assert.equal((await publish(h.url, tampered, [['topic', 'a']])).status, 401, r.name + ' tampered (97)');
    } finally {
      await h.close();
    }
  }
  // 96: a token whose alg differs from the configured one.
  const h = await startHub({ publisher_jwt: { key: pem(rsa.publicKey, 'spki'), alg: 'RS256' }, subscriber_jwt: { key: 'x' }, transport: { name: 'local' } });
  t.after(() => h.close());
  const rs512 = await mintToken({ key: pem(rsa.privateKey, 'pkcs8'), alg: 'RS512', publish: ['*'] });
  assert.equal((await publish(h.url, rs512, [['topic', 'a']])).status, 401);
  // HMAC token signed with the PEM text as secret (alg confusion) is refused.
  const confused = await mintToken({ key: pem(rsa.publicKey, 'spki'), alg: 'HS256', publish: ['*'] });
  assert.equal((await publish(h.url, confused, [['topic', 'a']])).status, 401);
  // Start-up errors: PS256, EdDSA certificate, not a PEM.
  await assert.rejects(startHub(baseConfig({ publisher_jwt: { key: pem(rsa.publicKey, 'spki'), alg: 'PS256' } })), /unexpected signing method/);
  await assert.rejects(startHub(baseConfig({ publisher_jwt: { key: 'not a pem', alg: 'RS256' } })), /PEM/);
  await assert.rejects(startHub(baseConfig({ publisher_jwt: { key: pem(ec.publicKey, 'spki'), alg: 'RS256' } })), /RSA/);
});

test('JWK Set from file:// verifies RS256 tokens without kid (98); http(s) JWKS with kid', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qs-jwks-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...rsa.publicKey.export({ format: 'jwk' }), use: 'sig' };
  const file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [jwk] }));
  const priv = rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const h = await startHub({ publisher_jwks_url: pathToFileURL(file).href, subscriber_jwks_url: pathToFileURL(file).href, transport: { name: 'local' } });
  t.after(() => h.close());
  const tok = await mintToken({ key: priv, alg: 'RS256', publish: ['*'], subscribe: ['*'] });
  assert.equal((await publish(h.url, tok, [['topic', 'a']])).status, 200);
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const bad = await mintToken({ key: other.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, alg: 'RS256', publish: ['*'] });
  assert.equal((await publish(h.url, bad, [['topic', 'a']])).status, 401);
  await assert.rejects(startHub(baseConfig({ publisher_jwks_url: 'file://remote.host/x.json' })), /no host/);

  // http: a JWKS server on loopback; the key is selected by kid.
  const { createServer } = await import('node:http');
  let fetches = 0;
  const server = createServer((_req, res) => { fetches++; res.setHeader('Content-Type', 'application/json'); res.end(JSON.stringify({ keys: [{ ...jwk, kid: 'k1', alg: 'RS256' }] })); });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/jwks.json`;
  const remote = await startHub({ publisher_jwks_url: url, subscriber_jwt: { key: S }, transport: { name: 'local' } });
  t.after(() => remote.close());
  const { SignJWT } = await import('jose');
  const kidTok = await new SignJWT({ mercure: { publish: ['*'] } }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(rsa.privateKey);
  assert.equal((await publish(remote.url, kidTok, [['topic', 'a']])).status, 200);
  const unknownKid = await new SignJWT({ mercure: { publish: ['*'] } }).setProtectedHeader({ alg: 'RS256', kid: 'nope' }).sign(rsa.privateKey);
  assert.equal((await publish(remote.url, unknownKid, [['topic', 'a']])).status, 401);
  assert.equal((await publish(remote.url, unknownKid, [['topic', 'a']])).status, 401);
  assert.ok(fetches >= 1 && fetches <= 2, `unknown kids refresh at most once per cooldown (fetches=${fetches})`);
});

test('publisher key placeholders resolve from the environment at provision', async (t) => {
  process.env.QS_TEST_MERCURE_KEY = 'from-env-secret';
  t.after(() => { delete process.env.QS_TEST_MERCURE_KEY; });
  const h = await startHub(baseConfig({ publisher_jwt: { key: '{env.QS_TEST_MERCURE_KEY}', alg: '{env.QS_TEST_UNSET_ALG}' } }));
  t.after(() => h.close());
  const tok = await mintToken({ key: 'from-env-secret', publish: ['*'] });
  assert.equal((await publish(h.url, tok, [['topic', 'a']])).status, 200);
  await assert.rejects(startHub(baseConfig({ publisher_jwt: { key: '{env.QS_TEST_UNSET_KEY}' } })), /publishers must be provided/);
  assert.equal(MercureHub.allowNoPublish, false);
});
