/**
 * The documented shape of a report (bench/README.md, "JSON report"): every
 * test that produces a report checks it with this, so README and code agree.
 */
import assert from 'node:assert/strict';
import type { Report } from '../../bench/report.ts';

const LATENCY = ['count', 'mean', 'p50', 'p90', 'p99', 'p999', 'max', 'min'];

/** Field lists per section, as documented. */
export const REPORT_FIELDS: Record<string, string[]> = {
  '': ['schema', 'scenario', 'startedAt', 'finishedAt', 'wallSeconds', 'ok', 'options', 'machine', 'hub', 'connect', 'publish', 'delivery', 'errors', 'resources', 'timeline', 'files'],
  machine: ['cores', 'cpuModel', 'memoryBytes', 'node', 'os', 'loadAverage'],
  hub: ['subscribeUrl', 'publishUrl', 'spawned', 'pids', 'plan'],
  connect: ['requested', 'established', 'failed', 'seconds', 'ratePerSecond', 'sources', 'latencyMs'],
  publish: ['mode', 'sent', 'accepted', 'failed', 'seconds', 'ratePerSecond', 'sentPerSecond', 'lagged', 'latencyMs'],
  delivery: ['expected', 'delivered', 'missed', 'duplicated', 'outOfOrder', 'unexpected', 'foreign', 'subscribersMissing', 'orderMismatched', 'seconds', 'eventsPerSecond', 'disconnects', 'heartbeats', 'latencyMs'],
  errors: ['subscribe', 'publish'],
  resources: ['hub', 'harness', 'loadAverageEnd'],
  files: ['json', 'svg'],
};

/** Asserts that `r` has every documented field with the right type. */
export function assertReportShape(r: Report): void {
  const rec = r as unknown as Record<string, Record<string, unknown>>;
  for (const [section, fields] of Object.entries(REPORT_FIELDS)) {
    const obj = section ? rec[section] : rec;
    assert.ok(obj && typeof obj === 'object', `report.${section} missing`);
    for (const f of fields) assert.ok(f in obj, `report${section ? `.${section}` : ''}.${f} missing`);
  }
  assert.equal(r.schema, 'quicksilver-bench/1');
  for (const l of [r.connect.latencyMs, r.publish.latencyMs, r.delivery.latencyMs]) assert.deepEqual(Object.keys(l).sort(), [...LATENCY].sort());
  assert.ok(Array.isArray(r.timeline) && r.timeline.length > 0, 'timeline');
  for (const k of ['t', 'delivered', 'published', 'errors', 'p50Ms', 'p99Ms', 'maxMs', 'connected']) assert.ok(k in r.timeline[0]!, `timeline[].${k}`);
  for (const h of r.resources.hub) {
    for (const k of ['pid', 'rssBaselineBytes', 'rssAfterConnectBytes', 'rssPerConnectionBytes', 'rssPeakBytes', 'cpuSecondsLoad', 'cpuSecondsPerDeliveredEvent']) assert.ok(k in h, `resources.hub[].${k}`);
  }
  assert.equal(typeof r.resources.harness.cpuSeconds, 'number');
  assert.equal(typeof r.ok, 'boolean');
}
