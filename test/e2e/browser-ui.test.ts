/**
 * The debugging UI in Debian Chromium (playwright-core): it loads nothing but
 * the hub's own files (works offline), discovers a hub and topic from a
 * resource's Link headers (custom cookie name included), authenticates with a
 * cookie as well as with the header, and lists the active subscriptions live.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { mintToken } from '../../src/mercure/token.ts';
import { P, baseConfig, startHub, subscribe, topics, waitSubscribers, type TestHub } from '../mercure/harness.ts';

const CHROMIUM = '/usr/bin/chromium';
type Doc = { document: { getElementById(id: string): { textContent: string | null } | null; cookie: string } };
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;
const COOKIE = 'qsAuth';
/** Page-side expression: the subscriptions table as JSON text, one array of cell texts per row. */
type Cells = { textContent: string | null; querySelectorAll(s: string): ArrayLike<Cells> };
/** Page-side: the subscriptions table, one array of cell texts per row (a function: the UI's CSP forbids eval). */
const tableRows = (): (string | null)[][] => Array.from((globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<Cells> } })
  .document.querySelectorAll('#subscriptions tr'), (tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent));

/** Waits until the element's text satisfies the pattern (the page updates it asynchronously). */
async function waitText(page: Page, id: string, pattern: RegExp): Promise<string> {
  await page.waitForFunction(([i, src]) => new RegExp(src).test((globalThis as unknown as Doc).document.getElementById(i)?.textContent ?? ''), [id, pattern.source] as const, { timeout: 10_000 });
  return (await page.textContent(`#${id}`)) ?? '';
}

describe('debugging UI', { skip }, () => {
  let browser: Browser;
  let h: TestHub;
  let token: string;

  before(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    // One key for both sides, so one JWT in the UI publishes, subscribes and lists subscriptions.
    h = await startHub(baseConfig({
      subscriber_jwt: { key: P }, anonymous: true, demo: true, subscriptions: true,
      publish_origins: ['*'], cookie_name: COOKIE, heartbeat: '0s', transport: { name: 'bolt' },
    }));
    token = await mintToken({ key: P, publish: ['*'], subscribe: ['*'] });
  });

  after(async () => {
    await browser?.close();
    await h?.close();
  });

  async function openUi(): Promise<{ page: Page; requests: string[]; failed: string[] }> {
    const page = await browser.newPage();
    const requests: string[] = [];
    const failed: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => failed.push(r.url()));
    await page.goto(`${h.url}/.well-known/mercure/ui/`, { waitUntil: 'load' });
    return { page, requests, failed };
  }

  test('the page loads only files of the hub (no CDN) and fills the hub URL field', async () => {
    const { page, requests, failed } = await openUi();
    try {
      assert.equal(await page.inputValue('#hub-url'), `${h.url}/.well-known/mercure`);
      assert.deepEqual(failed, []);
      assert.ok(requests.length >= 3, `index, script and style were requested: ${requests.join(', ')}`);
      for (const u of requests) assert.ok(u.startsWith(`${h.url}/`), `only the hub's origin: ${u}`);
      assert.ok(requests.includes(`${h.url}/.well-known/mercure/ui/app.js`) && requests.includes(`${h.url}/.well-known/mercure/ui/app.css`));
    } finally {
      await page.close();
    }
  });

  test('discovery fills the hub URL, the topic and the cookie name from the Link headers; the hub then answers', async () => {
    const { page } = await openUi();
    try {
      await page.fill('#hub-url', 'http://127.0.0.1:9/not-the-hub');
      const resource = `${h.url}/.well-known/mercure/ui/demo/books/1.jsonld?body=${encodeURIComponent('{"title":"Dune"}')}`;
      await page.fill('#discover-url', resource);
      await page.click('#discover');
      assert.match(await waitText(page, 'discover-result', /^hub /), /^hub http:\/\/127\.0\.0\.1:\d+\/\.well-known\/mercure, topic /);
      assert.equal(await page.inputValue('#hub-url'), `${h.url}/.well-known/mercure`);
      assert.equal(await page.inputValue('#sub-topics'), resource);
      assert.equal(await page.inputValue('#cookie-name'), COOKIE);
      assert.equal(await page.textContent('#discover-body'), '{"title":"Dune"}');

      // The discovered hub answers: a subscription to the discovered topic opens.
      await page.click('#subscribe');
      await waitText(page, 'sub-status', /^connected$/);
      // The demo's topics live in the hub's reserved namespace: publishing there is refused, and the UI says why.
      await page.fill('#jwt', token);
      await page.click('#publish');
      assert.match(await waitText(page, 'pub-result', /^(published|\d{3})/), /^403: .*reserved "\/\.well-known\/mercure" namespace$/);
    } finally {
      await page.close();
    }
  });

  test('cookie authentication: a private update reaches the UI and a cookie-authenticated publish succeeds; header mode drops the cookie', async () => {
    const { page, requests } = await openUi();
    try {
      await page.fill('#cookie-name', COOKIE);
      await page.fill('#jwt', token);
      await page.check('#auth-cookie');
      await page.fill('#sub-topics', 'https://example.com/private/{id}');
      await page.click('#subscribe');
      await waitText(page, 'sub-status', /^connected$/);
      assert.match(await page.evaluate(() => (globalThis as unknown as Doc).document.cookie), new RegExp(`(^|; )${COOKIE}=ey`));
      await page.fill('#pub-topics', 'https://example.com/private/7');
      await page.fill('#pub-data', 'for cookie holders');
      await page.check('#pub-private');
      await page.click('#publish');
      assert.match(await waitText(page, 'pub-result', /^(published|\d{3})/), /^published urn:uuid:/);
      await page.waitForSelector('#updates li');
      assert.match((await page.textContent('#updates li')) ?? '', /: for cookie holders$/);
      // Anonymous subscribers never get private updates, and no request carried the token: the cookie did.
      assert.equal(requests.some((u) => u.includes('authorization=')), false);

      // Back to header mode: the page forgets the cookie it set.
      await page.check('#auth-header');
      assert.equal(await page.evaluate(() => (globalThis as unknown as Doc).document.cookie), '');
    } finally {
      await page.close();
    }
  });

  test('active subscriptions: listed on watch, then added and removed live, payload shown', async () => {
    const { page } = await openUi();
    const other = await subscribe(h.url, topics('https://example.com/listed'));
    const withPayload = await mintToken({ key: P, subscribe: ['https://example.com/mine'], payload: { user: 'ann' } });
    try {
      await waitSubscribers(h, 1);
      await page.fill('#jwt', token);
      await page.click('#subs-watch');
      await waitText(page, 'subs-status', /^watching$/);
      const rows = () => page.evaluate(tableRows);
      /** Page-side: does some row list this topic? (self-contained: Playwright sends the function's source) */
      const listed = (topic: string): boolean => Array.from((globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> } })
        .document.querySelectorAll('#subscriptions td:first-child')).some((td) => td.textContent === topic);
      await page.waitForFunction(listed, 'https://example.com/listed');
      const first = await rows();
      assert.ok(first.some((r) => r[0] === 'https://example.com/listed'), JSON.stringify(first));
      assert.ok(first.some((r) => r[0] === '/.well-known/mercure/subscriptions{/topic}{/subscriber}'), 'the watcher itself is listed');

      const mine = await subscribe(h.url, `${topics('https://example.com/mine')}&authorization=${withPayload}`);
      await page.waitForFunction(listed, 'https://example.com/mine');
      const added = (await rows()).find((r) => r[0] === 'https://example.com/mine');
      assert.equal(added?.[2], '{"user":"ann"}');
      assert.match(added?.[1] ?? '', /^urn:uuid:/);

      other.close();
      await page.waitForFunction((t) => !Array.from((globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> } })
        .document.querySelectorAll('#subscriptions td:first-child')).some((td) => td.textContent === t), 'https://example.com/listed');
      mine.close();
      await page.click('#subs-stop');
      assert.equal(await page.textContent('#subs-status'), 'not watching');
    } finally {
      other.close();
      await page.close();
    }
  });
});
