/**
 * The hub from a real browser (Debian Chromium through playwright-core):
 * EventSource public, private (cookie and query token), URI template, a
 * reconnect with Last-Event-ID after the server ends the stream, and the UI
 * page flow (subscribe, publish, see the update arrive).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { baseConfig, publish, pubToken, startHub, subToken, waitSubscribers, type TestHub } from '../mercure/harness.ts';

const CHROMIUM = '/usr/bin/chromium';
/** The page's document, typed without the DOM lib (the project compiles for Node). */
type Doc = { document: { getElementById(id: string): { textContent: string | null } } };
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;

/** Collects EventSource messages in the page under window.__events[name]. */
async function openEventSource(page: Page, name: string, url: string, withCredentials = false): Promise<void> {
  await page.evaluate(([n, u, c]) => {
    const w = globalThis as unknown as { __events: Record<string, { id: string; data: string; type: string }[]>; __es: Record<string, EventSource> };
    w.__events ??= {};
    w.__es ??= {};
    w.__events[n] = [];
    const es = new EventSource(u, { withCredentials: c });
    w.__es[n] = es;
    es.onmessage = (e) => w.__events[n]!.push({ id: e.lastEventId, data: e.data, type: e.type });
    return new Promise<void>((resolve, reject) => {
      es.onopen = () => resolve();
      es.onerror = () => { if (es.readyState === EventSource.CLOSED) reject(new Error('EventSource closed')); };
    });
  }, [name, url, withCredentials] as const);
}

async function events(page: Page, name: string, count: number): Promise<{ id: string; data: string }[]> {
  await page.waitForFunction(([n, c]) => ((globalThis as unknown as { __events: Record<string, unknown[]> }).__events[n]?.length ?? 0) >= c, [name, count] as const, { timeout: 10_000 });
  return page.evaluate((n) => (globalThis as unknown as { __events: Record<string, { id: string; data: string }[]> }).__events[n]!, name);
}

describe('browser', { skip }, () => {
  let browser: Browser;
  let h: TestHub;
  let page: Page;
  const lastEventIds: string[] = [];

  before(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    h = await startHub(baseConfig({ anonymous: true, ui: true, demo: true, transport: { name: 'bolt' }, heartbeat: '0s' }));
    h.server.on('request', (req) => { if (req.headers['last-event-id']) lastEventIds.push(String(req.headers['last-event-id'])); });
    page = await browser.newPage();
    await page.goto(`${h.url}/.well-known/mercure/ui/`);
  });

  after(async () => {
    await page?.evaluate(() => { for (const es of Object.values((globalThis as unknown as { __es?: Record<string, EventSource> }).__es ?? {})) es.close(); }).catch(() => {});
    await browser?.close();
    await h?.close();
  });

  test('public updates reach an EventSource, URI templates included', async () => {
    await openEventSource(page, 'pub', '/.well-known/mercure?topic=' + encodeURIComponent('https://example.com/books/{id}'));
    const tok = await pubToken();
    await publish(h.url, tok, [['topic', 'https://example.com/books/1'], ['data', 'line 1\nline 2'], ['id', 'p1']]);
    await publish(h.url, tok, [['topic', 'https://example.com/authors/1'], ['data', 'not subscribed'], ['id', 'p2']]);
    await publish(h.url, tok, [['topic', 'https://example.com/books/2'], ['data', 'second'], ['id', 'p3']]);
    assert.deepEqual(await events(page, 'pub', 2), [
      { id: 'p1', data: 'line 1\nline 2', type: 'message' },
      { id: 'p3', data: 'second', type: 'message' },
    ]);
  });

  test('private updates with the auth cookie (set by the demo endpoint) and with a query token', async () => {
    const token = await subToken(['https://example.com/private/{id}']);
    // Same-origin EventSources send cookies, so the anonymous one opens before the cookie exists.
    await openEventSource(page, 'anon', '/.well-known/mercure?topic=*');
    await openEventSource(page, 'query', `/.well-known/mercure?topic=${encodeURIComponent('https://example.com/private/{id}')}&authorization=${token}`);
    await page.evaluate(async (jwt) => { await fetch(`/.well-known/mercure/ui/demo/x.jsonld?jwt=${jwt}`); }, token);
    await openEventSource(page, 'cookie', '/.well-known/mercure?topic=' + encodeURIComponent('https://example.com/private/{id}'), true);
    await page.evaluate(async () => { await fetch('/.well-known/mercure/ui/demo/clear'); }); // the demo clears the cookie without jwt
    const tok = await pubToken();
    await publish(h.url, tok, [['topic', 'https://example.com/private/1'], ['data', 'secret'], ['id', 'priv1'], ['private', 'on']]);
    await publish(h.url, tok, [['topic', 'https://example.com/private/2'], ['data', 'open'], ['id', 'pub1']]);
    assert.deepEqual((await events(page, 'cookie', 2)).map((e) => e.id), ['priv1', 'pub1']);
    assert.deepEqual((await events(page, 'query', 2)).map((e) => e.id), ['priv1', 'pub1']);
    const anon = await events(page, 'anon', 1);
    assert.equal(anon.some((e) => e.id === 'priv1'), false, 'anonymous subscribers never see private updates');
    await page.evaluate(() => { for (const es of Object.values((globalThis as unknown as { __es: Record<string, EventSource> }).__es)) es.close(); });
  });

  test('the browser reconnects with Last-Event-ID after the server ends the stream and misses nothing', async () => {
    await page.evaluate(() => { for (const es of Object.values((globalThis as unknown as { __es: Record<string, EventSource> }).__es)) es.close(); });
    await waitSubscribers(h, 0);
    await openEventSource(page, 'rc', '/.well-known/mercure?topic=urn:reconnect');
    await waitSubscribers(h, 1);
    const tok = await pubToken();
    // retry: the browser waits 1 s before reconnecting — the update below is published meanwhile.
    await publish(h.url, tok, [['topic', 'urn:reconnect'], ['data', 'before'], ['id', 'rc1'], ['retry', '1000']]);
    await events(page, 'rc', 1);
    for (const s of h.hub.runtime.streams) s.close('test: server ends the stream');
    await waitSubscribers(h, 0);
    await publish(h.url, tok, [['topic', 'urn:reconnect'], ['data', 'while away'], ['id', 'rc2']]);
    const got = await events(page, 'rc', 2);
    assert.deepEqual(got.map((e) => e.id), ['rc1', 'rc2']);
    assert.ok(lastEventIds.includes('rc1'), 'the reconnect carried Last-Event-ID: rc1');
    await page.evaluate(() => (globalThis as unknown as { __es: Record<string, EventSource> }).__es.rc!.close());
  });

  test('UI page: subscribe, publish, see the update arrive', async () => {
    const ui = await browser.newPage();
    try {
      await ui.goto(`${h.url}/.well-known/mercure/ui/`);
      assert.equal(await ui.title(), 'Mercure hub — debugger');
      await ui.fill('#sub-topics', 'https://example.com/ui/{x}');
      await ui.click('#subscribe');
      await ui.waitForFunction(() => (globalThis as unknown as Doc).document.getElementById('sub-status').textContent === 'connected');
      await ui.fill('#pub-topics', 'https://example.com/ui/1');
      await ui.fill('#pub-data', 'hello from the UI');
      await ui.fill('#jwt', await pubToken());
      await ui.click('#publish');
      await ui.waitForSelector('#updates li');
      assert.match(await ui.textContent('#updates li') ?? '', /^urn:uuid:[0-9a-f-]+: hello from the UI$/);
      assert.match(await ui.textContent('#pub-result') ?? '', /^published urn:uuid:/);
      await ui.fill('#jwt', 'not-a-token-at-all-but-long-enough-for-the-header-check');
      await ui.click('#publish');
      await ui.waitForFunction(() => ((globalThis as unknown as Doc).document.getElementById('pub-result').textContent ?? '').startsWith('401'));
      await ui.click('#unsubscribe');
    } finally {
      await ui.close();
    }
  });
});
