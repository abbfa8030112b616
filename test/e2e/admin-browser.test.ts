/**
 * A hostile page in a real browser (Debian Chromium through playwright-core)
 * cannot reconfigure or stop the hub through its admin endpoint: a no-cors
 * fetch of POST /load, a text/plain form posted to /load and a form posted to
 * /stop, from a page on another site (evil.test, resolved to 127.0.0.1) and
 * from a page on another port of localhost (same-site). A recording server
 * gets the same requests from the same page, which proves Chromium sends them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { pino } from 'pino';
import { Runtime } from '../../src/runtime/runtime.ts';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;

/** The attack page: three requests to `target`, each of a kind a page may send without a preflight. */
function attackPage(target: string, marker: string): string {
  const body = JSON.stringify({ admin: { listen: 'localhost:0' }, apps: {}, marker });
  return `<!doctype html><title>attack</title><body>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe>
<form id="load" method="post" enctype="text/plain" target="sink1" action="${target}/load"><input name='${body.slice(0, -1)},"x":"' value='"}'></form>
<form id="stop" method="post" target="sink2" action="${target}/stop"><input name="a" value="b"></form>
<script>
  window.done = (async () => {
    await fetch('${target}/load', { method: 'POST', mode: 'no-cors', body: ${JSON.stringify(body)} }).catch(() => {});
    document.getElementById('load').submit();
    await new Promise((r) => document.querySelector('iframe[name=sink1]').addEventListener('load', r, { once: true }));
    document.getElementById('stop').submit();
    await new Promise((r) => document.querySelector('iframe[name=sink2]').addEventListener('load', r, { once: true }));
    return 'sent';
  })();
</script></body>`;
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('admin endpoint from a hostile page in Chromium', { skip }, () => {
  let browser: Browser;
  let rt: Runtime;
  let adminPort: number;
  let stops = 0;
  const recorded: { url: string; origin?: string; site?: string; type?: string }[] = [];
  let pages: Server;
  let recorder: Server;
  let pagesPort: number;
  let recorderPort: number;

  before(async () => {
    rt = new Runtime({ log: pino({ level: 'silent' }), dataDir: mkdtempSync(join(tmpdir(), 'qs-admin-')), onStop: () => { stops++; } });
    await rt.load({ admin: { listen: 'localhost:0' }, apps: {}, marker: 'initial' });
    adminPort = Number(/:(\d+)$/.exec(rt.adminAddress!)![1]);
    recorder = createServer((req, res) => {
      recorded.push({ url: req.url!, origin: req.headers.origin, site: req.headers['sec-fetch-site'] as string | undefined, type: req.headers['content-type'] });
      req.resume();
      res.end('ok');
    });
    recorderPort = await listen(recorder);
    pages = createServer((req, res) => {
      const target = req.url!.startsWith('/recorder') ? `http://localhost:${recorderPort}` : `http://localhost:${adminPort}`;
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(attackPage(target, 'evil'));
    });
    pagesPort = await listen(pages);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync',
        '--host-resolver-rules=MAP evil.test 127.0.0.1'],
    });
  });

  after(async () => {
    await browser?.close();
    pages?.close();
    recorder?.close();
    await rt?.stop();
  });

  async function attack(pageUrl: string): Promise<void> {
    const page = await browser.newPage();
    try {
      await page.goto(pageUrl);
      assert.equal(await page.evaluate(() => (globalThis as unknown as { done: Promise<string> }).done), 'sent');
    } finally {
      await page.close();
    }
  }

  test('Chromium sends the three requests to a localhost server (the control)', async () => {
    await attack(`http://evil.test:${pagesPort}/recorder`);
    assert.deepEqual(recorded.map((r) => [r.url, r.origin, r.site]), [
      ['/load', `http://evil.test:${pagesPort}`, 'cross-site'],
      ['/load', `http://evil.test:${pagesPort}`, 'cross-site'],
      ['/stop', `http://evil.test:${pagesPort}`, 'cross-site'],
    ]);
    assert.match(recorded[0]!.type ?? '', /^text\/plain/);
  });

  for (const [name, host] of [['another site', 'evil.test'], ['another port of localhost (same-site)', '127.0.0.1']] as const) {
    test(`a page on ${name} neither loads a config nor stops the server`, async () => {
      await attack(`http://${host}:${pagesPort}/admin`);
      assert.equal((rt.instance?.config as { marker?: string }).marker, 'initial', 'the config is unchanged');
      // /stop is acted on after its answer; a turn of the event loop lets a wrongly accepted one land.
      await new Promise((r) => setImmediate(r));
      assert.equal(stops, 0, 'no /stop reached the runtime');
      const probe = await fetch(`http://localhost:${adminPort}/config/marker`);
      assert.equal(await probe.text(), '"initial"\n');
    });
  }
});
