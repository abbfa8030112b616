/**
 * FrankenPHP's documented Mercure Caddyfile, unchanged (HTTPS on localhost,
 * the hub and php_server in one site), serving a small chat app to Debian
 * Chromium: two pages subscribe with EventSource; alice's page (which the app
 * gave a subscriber cookie JWT) and an anonymous page. A form posted in
 * alice's page publishes with mercure_publish(), another with Symfony's
 * Mercure component over HTTP: both pages get the public updates, only
 * alice's page gets the private ones. mercure_publish() throws when the hub
 * refuses (a reserved topic).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { phpFpmSkipReason } from '../helpers/php-fpm-server.ts';
import { runCaddyfile } from './helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const SYMFONY = '/usr/share/php/Symfony/Component/Mercure/autoload.php';
const skip = phpFpmSkipReason()
  ?? (existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (apt-get install chromium)`)
  ?? (existsSync(SYMFONY) ? undefined : 'php-symfony-mercure is not installed (apt-get install php-symfony-mercure)');
const APP_DIR = fileURLToPath(new URL('../fixtures/php/mercure-app', import.meta.url));

type Win = { received: string[]; published: { status: number; body: { id?: string; error?: string } }[] };

/** Waits until the page received an update with this data. */
async function receivedData(page: Page, data: string): Promise<void> {
  await page.waitForFunction((d) => (globalThis as unknown as Win).received.includes(d), data, { timeout: 15_000 });
}

/** Fills one of the page's forms and submits it; returns what the PHP script answered. */
async function submit(page: Page, form: 'native' | 'symfony', message: string, isPrivate: boolean): Promise<{ status: number; body: { id?: string; error?: string } }> {
  const before = await page.evaluate(() => (globalThis as unknown as Win).published.length);
  await page.fill(`#${form} input[name=message]`, message);
  await page.setChecked(`#${form} input[name=private]`, isPrivate);
  await page.click(`#${form} button`);
  await page.waitForFunction((n) => (globalThis as unknown as Win).published.length > n, before, { timeout: 15_000 });
  return page.evaluate(() => { const p = (globalThis as unknown as Win).published; return p[p.length - 1]!; });
}

test('Chromium: a PHP chat on FrankenPHP\'s Mercure Caddyfile, publishing with mercure_publish() and Symfony Mercure', { skip }, async (t) => {
  process.chdir(APP_DIR); // the Caddyfile's `root public/` is relative, as in FrankenPHP's docs
  const run = await runCaddyfile(t, readFileSync('Caddyfile', 'utf8'));
  const origin = new URL(run.url()).origin.replace('http://127.0.0.1', 'https://localhost');

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
  t.after(() => browser.close());
  const alice = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
  const anon = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
  await alice.goto(`${origin}/?as=alice`);
  await anon.goto(`${origin}/`);
  for (const p of [alice, anon]) await p.waitForFunction(() => (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset.open === 'yes', undefined, { timeout: 15_000 });
  assert.equal(await alice.textContent('#who'), 'alice');

  // Public, with mercure_publish(): both pages.
  const pub = await submit(alice, 'native', 'hello from mercure_publish', false);
  assert.equal(pub.status, 200);
  assert.match(pub.body.id!, /^urn:uuid:/);
  await receivedData(alice, 'hello from mercure_publish');
  await receivedData(anon, 'hello from mercure_publish');

  // Private, with mercure_publish(): alice only.
  assert.equal((await submit(alice, 'native', 'secret via mercure_publish', true)).status, 200);
  await receivedData(alice, 'secret via mercure_publish');

  // Public and private through Symfony's Mercure component (HTTP, publisher JWT).
  const sym = await submit(anon, 'symfony', 'hello from symfony', false);
  assert.equal(sym.status, 200, JSON.stringify(sym.body));
  assert.match(sym.body.id!, /^urn:uuid:/);
  await receivedData(alice, 'hello from symfony');
  await receivedData(anon, 'hello from symfony');
  assert.equal((await submit(anon, 'symfony', 'secret via symfony', true)).status, 200);
  await receivedData(alice, 'secret via symfony');

  // A last public update: once the anonymous page has it, it has everything it will get (one stream, in order).
  assert.equal((await submit(alice, 'native', 'the end', false)).status, 200);
  await receivedData(anon, 'the end');
  await receivedData(alice, 'the end');
  assert.deepEqual(await anon.evaluate(() => (globalThis as unknown as Win).received), ['hello from mercure_publish', 'hello from symfony', 'the end']);
  assert.deepEqual(await alice.evaluate(() => (globalThis as unknown as Win).received),
    ['hello from mercure_publish', 'secret via mercure_publish', 'hello from symfony', 'secret via symfony', 'the end']);

  // The hub refuses a reserved topic: mercure_publish() throws, the script reports it.
  const refused = await alice.evaluate(async () => {
    const res = await fetch('/publish.php', { method: 'POST', body: new URLSearchParams({ topic: 'https://example.com/.well-known/mercure/x', message: 'no' }) });
    return { status: res.status, body: await res.json() as { error?: string } };
  });
  assert.equal(refused.status, 500);
  assert.match(refused.body.error!, /^mercure_publish: .*reserved/);
});
