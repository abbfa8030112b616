/**
 * The harness end to end against the in-process fake hub: every scenario in
 * quick mode delivers everything exactly once, injected faults are counted,
 * errors are grouped by status, and the report has its documented fields.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOptions } from '../../bench/options.ts';
import { runBenchmark } from '../../bench/run.ts';
import { writeReport, type Report } from '../../bench/report.ts';
import { Bus, startFakeHub, type Faults } from './fake-hub.ts';
import { assertReportShape } from './report-shape.ts';
import { LoopbackError } from '../../bench/loopback.ts';

const out = mkdtempSync(join(tmpdir(), 'qs-bench-test-'));
test.after(() => rmSync(out, { recursive: true, force: true }));

async function run(args: string[], faults: Faults = {}): Promise<Report> {
  const hub = await startFakeHub(faults);
  try {
    const o = parseOptions(['--drain', '30', '--url', hub.url, '--out', out, '--pid', String(process.pid), ...args]); // later options win
    return writeReport(await runBenchmark(o), out);
  } finally {
    await hub.close();
  }
}

for (const scenario of ['hold', 'fanout', 'topics'] as const) {
  test(`${scenario} --quick against the fake hub: every event once`, async () => {
    const r = await run([scenario, '--quick']);
    assertReportShape(r);
    assert.equal(r.connect.established, 20);
    assert.equal(r.delivery.missed, 0);
    assert.equal(r.delivery.duplicated, 0);
    assert.equal(r.delivery.unexpected, 0);
    assert.ok(r.delivery.delivered > 0);
    assert.equal(r.delivery.delivered, r.delivery.expected);
    assert.equal(r.ok, true);
    assert.equal(r.resources.hub[0]!.pid, process.pid);
    assert.ok(r.resources.hub[0]!.rssBaselineBytes! > 0);
    assert.ok(readFileSync(r.files.svg, 'utf8').startsWith('<?xml'));
    assert.deepEqual(JSON.parse(readFileSync(r.files.json, 'utf8')).delivery, r.delivery);
  });
}

test('topics: private updates reach only granted subscribers', async () => {
  const r = await run(['topics', '--quick', '--subscribers', '16', '--topics', '2', '--count', '40', '--private-every', '2']);
  // per topic pair (t): 4 kinds × 2 topics; 20 updates per topic, 10 private
  // kind0: 10 public of t; kind1: 20 of t; kind2: 20 public of both; kind3: all 40. Two subscribers per kind per topic.
  assert.equal(r.delivery.expected, 2 * 2 * (10 + 20) + 4 * 20 + 4 * 40);
  assert.equal(r.delivery.delivered, r.delivery.expected);
  assert.equal(r.delivery.unexpected, 0);
});

test('publish: closed loop and ramp', async () => {
  const closed = await run(['publish', '--quick']);
  assert.equal(closed.publish.mode, 'closed');
  assert.equal(closed.publish.accepted, 50);
  assert.equal(closed.delivery.delivered, 50);
  assert.ok(closed.publish.latencyMs.count === 50);
  const ramp = await run(['publish', '--quick', '--mode', 'ramp', '--max-p99', '1000']);
  assert.ok(ramp.ramp && ramp.ramp.length >= 1);
  assert.equal(ramp.delivery.missed, 0);
  assert.ok(ramp.maxSustainedRate !== undefined);
});

test('faults are counted: drops, duplicates, failed publishes', async () => {
  const r = await run(['fanout', '--quick', '--subscribers', '5', '--count', '10', '--drain', '3'], { drop: new Set([3]), duplicate: new Set([5, 6]) });
  assert.equal(r.delivery.missed, 5);
  assert.equal(r.delivery.subscribersMissing, 5);
  assert.equal(r.delivery.duplicated, 10);
  assert.equal(r.ok, false);
  const failing = await run(['fanout', '--quick', '--subscribers', '2', '--count', '5', '--drain', '0.2'], { publishStatus: 503 });
  assert.deepEqual(failing.errors.publish, { 503: 5 });
  assert.equal(failing.publish.failed, 5);
  assert.equal(failing.delivery.expected, 0);
});

test('bad subscriber tokens show up as subscribe errors by status', async () => {
  const r = await run(['fanout', '--quick', '--subscribers', '3', '--count', '2', '--subscriber-jwt', 'not.a-jwt', '--drain', '0.2']);
  assert.deepEqual(r.errors.subscribe, { 401: 3 });
  assert.equal(r.connect.failed, 3);
});

test('cluster: publish on one hub, subscribe on another', async () => {
  const bus = new Bus();
  const a = await startFakeHub({}, bus);
  const b = await startFakeHub({}, bus);
  try {
    const o = parseOptions(['cluster', '--quick', '--url', b.url, '--publish-url', a.url, '--out', out]);
    const r = writeReport(await runBenchmark(o), out);
    assertReportShape(r);
    assert.equal(r.hub.publishUrl, a.url);
    assert.equal(r.hub.subscribeUrl, b.url);
    assert.equal(a.published, 50);
    assert.equal(r.delivery.delivered, 20 * 50);
    assert.equal(r.ok, true);
  } finally {
    await a.close();
    await b.close();
  }
});

test('--spawn through the CLI, with a stand-in hub binary', async () => {
  const main = join(import.meta.dirname, '..', '..', 'bench', 'main.ts');
  const bin = join(import.meta.dirname, 'fake-hub-bin.ts');
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--disable-warning=ExperimentalWarning', main, 'topics', '--quick', '--spawn', '--hub-bin', bin, '--out', out], { timeout: 60_000 }, (err, so, se) => {
      resolve({ code: err ? Number(err.code) || 1 : 0, stdout: so, stderr: se });
    });
  });
  assert.equal(code, 0, stderr);
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as Report;
  assertReportShape(r);
  assert.equal(r.hub.spawned, true);
  assert.equal(r.ok, true, stderr);
  assert.ok(r.resources.hub[0]!.rssBaselineBytes! > 0);
  assert.ok(existsSync(r.files.svg));
  assert.match(stderr, /missed 0, duplicated 0/);
});

test('non-loopback targets are refused before any connection', async () => {
  assert.throws(() => parseOptions(['fanout', '--url', 'http://10.0.0.1/.well-known/mercure']), LoopbackError);
  assert.throws(() => parseOptions(['cluster', '--url', 'http://127.0.0.1:1/', '--publish-url', 'http://example.com/']), LoopbackError);
  const o = parseOptions(['fanout', '--url', 'http://127.0.0.1:1/', '--subscribers', '1']);
  o.url = 'http://192.168.1.1:3000/.well-known/mercure'; // as if the check in parseOptions were bypassed
  await assert.rejects(runBenchmark(o), LoopbackError);
});
