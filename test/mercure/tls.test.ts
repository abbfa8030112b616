/**
 * The hub behind `tls internal`, as browsers reach it: HTTP/2 (node:http2's
 * compat requests have no `headersDistinct`) and HTTP/1.1 over TLS (whose
 * streams are hijacked from a TLS socket). Publish with an Authorization
 * header, subscribe with Last-Event-ID, both protocols on one server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCaddyfile, tlsHubCaddyfile } from '../helpers/caddyfile-server.ts';
import { HUB, pubToken } from './harness.ts';

test('HTTP/2 and HTTP/1.1 over TLS: publish, subscribe and replay', async (t) => {
  const srv = await startCaddyfile(t, tlsHubCaddyfile(['publisher_jwt !ChangePublisher!', 'subscriber_jwt !ChangeSubscriber!']));
  const ca = readFileSync(join(srv.dataDir, 'pki/authorities/local/root.crt'), 'utf8');
  const client = http2.connect(`https://localhost:${srv.port()}`, { ca, servername: 'localhost', host: '127.0.0.1' } as http2.SecureClientSessionOptions);
  t.after(() => client.close());

  // Publish over HTTP/2.
  const pub = client.request({
    ':method': 'POST', ':path': HUB,
    'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${await pubToken()}`,
  });
  pub.end('topic=a&data=over+h2&id=e1');
  const [pubHead] = (await once(pub, 'response')) as [http2.IncomingHttpHeaders];
  let id = '';
  pub.setEncoding('utf8');
  for await (const c of pub) id += c;
  assert.equal(pubHead[':status'], 200);
  assert.equal(id, 'e1');

  // Subscribe over HTTP/2 with Last-Event-ID: the replay comes, and the response names the ID.
  const sub = client.request({ ':path': `${HUB}?topic=a`, 'last-event-id': 'earliest' });
  const [subHead] = (await once(sub, 'response')) as [http2.IncomingHttpHeaders];
  assert.equal(subHead[':status'], 200);
  assert.equal(subHead['content-type'], 'text/event-stream');
  assert.equal(subHead['last-event-id'], 'earliest');
  sub.setEncoding('utf8');
  let h2text = '';
  for await (const c of sub) {
    h2text += c;
    if (h2text.includes('data: over h2\n\n')) break;
  }
  assert.equal(h2text, ':\nid: e1\ndata: over h2\n\n');

  // HTTP/1.1 over TLS: a stream (hijacked from the TLS socket) gets the next update.
  const req = https.get({ host: '127.0.0.1', port: srv.port(), servername: 'localhost', ca, agent: false, path: `${HUB}?topic=a`, headers: { host: `localhost:${srv.port()}` } });
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  t.after(() => res.destroy());
  assert.equal(res.httpVersion, '1.1');
  res.setEncoding('utf8');
  let h1text = '';
  const first = once(res, 'data');
  await first.then(([c]) => { h1text += c as string; });
  const pub2 = client.request({
    ':method': 'POST', ':path': HUB,
    'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${await pubToken()}`,
  });
  pub2.end('topic=a&data=over+h1&id=e2');
  pub2.resume();
  while (!h1text.includes('data: over h1\n\n')) h1text += ((await once(res, 'data')) as [string])[0];
  assert.equal(h1text, ':\nid: e2\ndata: over h1\n\n');
});
