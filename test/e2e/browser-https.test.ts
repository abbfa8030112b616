/**
 * The hub from Debian Chromium over HTTPS, as browsers reach it in
 * production: `tls internal`, HTTP/2 negotiated by ALPN, an EventSource with
 * Last-Event-ID replay, and a publish by fetch() with an Authorization header.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startCaddyfile, tlsHubCaddyfile } from '../helpers/caddyfile-server.ts';
import { P, pubToken } from '../mercure/harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;

test('Chromium over HTTPS and HTTP/2: EventSource with replay, publish with fetch', { skip }, async (t) => {
  const srv = await startCaddyfile(t, tlsHubCaddyfile([`publisher_jwt ${P}`, 'ui']));
  const origin = `https://localhost:${srv.port()}`;

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
  t.after(() => browser.close());
  const context = await browser.newContext({ ignoreHTTPSErrors: true }); // the internal CA is not installed in this profile
  const page = await context.newPage();
  await page.goto(`${origin}/.well-known/mercure/ui/`);

  const token = await pubToken();
  const result = await page.evaluate(async ([tok]) => {
    const post = (id: string, data: string) => fetch('/.well-known/mercure', {
      method: 'POST',
      headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ topic: 'https://example.com/h2', id, data }),
    }).then(async (res) => `${res.status} ${await res.text()}`);
    const first = await post('h2-1', 'before');
    const got: { id: string; data: string }[] = [];
    const es = new EventSource('/.well-known/mercure?topic=' + encodeURIComponent('https://example.com/h2') + '&lastEventID=earliest');
    await new Promise<void>((resolve, reject) => {
      es.onopen = () => resolve();
      es.onerror = () => reject(new Error('EventSource failed'));
    });
    const done = new Promise<void>((resolve) => {
      es.onmessage = (e) => { got.push({ id: e.lastEventId, data: e.data }); if (got.length === 2) resolve(); };
    });
    const second = await post('h2-2', 'after');
    await done;
    es.close();
    // The DOM's PerformanceNavigationTiming (the project compiles without the DOM lib).
    const timing = performance as unknown as { getEntriesByType(type: string): { nextHopProtocol: string }[] };
    return { first, second, got, protocol: timing.getEntriesByType('navigation')[0]!.nextHopProtocol };
  }, [token] as const);

  assert.equal(result.protocol, 'h2');
  assert.equal(result.first, '200 h2-1');
  assert.equal(result.second, '200 h2-2');
  assert.deepEqual(result.got, [{ id: 'h2-1', data: 'before' }, { id: 'h2-2', data: 'after' }]);
});
