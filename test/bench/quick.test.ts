/**
 * `--quick` mode of every scenario, run through the CLI against a hub the
 * harness spawns itself (bin/quicksilver): zero missed, zero duplicated and
 * zero unexpected events, and a report with every documented field. No
 * timing assertions. Skipped, with the reason, while our hub cannot start
 * or deliver (see hub-probe.ts); cluster runs once per shared transport
 * (redis, postgres) whose server is installed, and is skipped with the
 * hub's own message while the hub cannot start with that transport.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../bench/report.ts';
import { assertReportShape } from './report-shape.ts';
import { hubNotReadyReason, requireHub } from './hub-probe.ts';
import { redisSkipReason, startRedis } from '../helpers/redis-server.ts';
import { postgresSkip, startPostgres } from '../helpers/postgres-server.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'bench', 'main.ts');
const out = mkdtempSync(join(tmpdir(), 'qs-bench-quick-'));
test.after(() => rmSync(out, { recursive: true, force: true }));

const notReady = await hubNotReadyReason();
if (notReady && requireHub) throw new Error(notReady);

interface Run { code: number; report?: Report; stderr: string }

function bench(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN, ...args, '--quick', '--spawn', '--drain', '30', '--out', out], { timeout: 180_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      const line = stdout.trim().split('\n').pop();
      resolve({ code, stderr, report: code === 0 && line ? JSON.parse(line) as Report : undefined });
    });
  });
}

function check(run: Run): Report {
  assert.equal(run.code, 0, run.stderr);
  const r = run.report!;
  assertReportShape(r);
  assert.ok(existsSync(r.files.json) && existsSync(r.files.svg));
  assert.equal(r.connect.failed, 0, JSON.stringify(r.errors));
  assert.ok(r.delivery.expected > 0);
  assert.equal(r.delivery.missed, 0, 'missed events');
  assert.equal(r.delivery.duplicated, 0, 'duplicated events');
  assert.equal(r.delivery.unexpected, 0, 'events delivered to subscribers that should not get them');
  assert.equal(r.delivery.delivered, r.delivery.expected);
  assert.equal(r.publish.failed, 0, JSON.stringify(r.errors.publish));
  assert.equal(r.hub.spawned, true);
  assert.ok(r.resources.hub.length >= 1 && r.resources.hub[0]!.rssBaselineBytes! > 0);
  return r;
}

const skip = notReady ?? false;

for (const scenario of ['hold', 'fanout', 'topics'] as const) {
  test(`${scenario} --quick --spawn`, { skip }, async () => {
    const r = check(await bench([scenario]));
    assert.equal(r.connect.established, 20);
  });
}

test('publish --quick --spawn (closed loop, then ramp)', { skip }, async () => {
  const closed = check(await bench(['publish']));
  assert.equal(closed.publish.accepted, 50);
  const ramp = check(await bench(['publish', '--mode', 'ramp', '--max-p99', '5000']));
  assert.ok(ramp.ramp!.length >= 1);
});

test('fanout --quick against the floor yardstick (bench/floor-hub.ts)', async () => {
  const floor = join(import.meta.dirname, '..', '..', 'bench', 'floor-hub.ts');
  const r = check(await bench(['fanout', '--hub-bin', floor]));
  assert.equal(r.connect.established, 20);
  assert.equal(r.delivery.delivered, 20 * 50);
});

interface Broker { url: string; destroy(): Promise<void> }

const BROKERS: { transport: 'redis' | 'postgres'; skip: string | false; start(): Promise<Broker> }[] = [
  {
    transport: 'redis', skip: redisSkipReason() ?? false,
    start: async () => { const r = await startRedis(); return { url: `redis://${r.address}`, destroy: () => r.destroy() }; },
  },
  {
    transport: 'postgres', skip: postgresSkip(),
    start: async () => { const p = await startPostgres(); return { url: await p.createDatabase(), destroy: () => p.destroy() }; },
  },
];

for (const b of BROKERS) {
  test(`cluster --quick --spawn (two hubs sharing ${b.transport})`, { skip: skip || b.skip }, async (t) => {
    const broker = await b.start();
    try {
      const run = await bench(['cluster', '--transport', b.transport, '--transport-url', broker.url]);
      if (run.code !== 0 && /hub (exited before it was ready|not ready)/.test(run.stderr) && !requireHub) {
        const why = run.stderr.split('\n').find((l) => l.startsWith('Error:')) ?? run.stderr.split('\n').find((l) => l.startsWith('bench:'));
        t.skip(`the hub cannot start with the ${b.transport} transport: ${why}`);
        return;
      }
      const r = check(run);
      assert.equal(r.resources.hub.length, 2);
      assert.notEqual(r.hub.publishUrl, r.hub.subscribeUrl);
    } finally {
      await broker.destroy();
    }
  });
}
