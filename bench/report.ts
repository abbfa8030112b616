/**
 * The report of one run: its JSON shape (schema `quicksilver-bench/1`,
 * documented field by field in bench/README.md), the files it is written to
 * (bench/out/<scenario>-<time>.json and .svg) and a short text summary.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LatencySummary } from './histogram.ts';
import type { MachineInfo, FdLimit } from './proc.ts';
import type { DeliveryCounts } from './tracker.ts';
import type { TimelinePoint } from './timeline.ts';
import { renderChart } from './svg.ts';

/** Resource use of one hub process. */
export interface HubResources {
  pid: number;
  fdLimit?: FdLimit;
  /** RSS before any subscriber connected (after --settle seconds idle). */
  rssBaselineBytes?: number;
  /** RSS once every subscriber is connected (after --settle seconds). */
  rssAfterConnectBytes?: number;
  /** (rssAfterConnect - rssBaseline) / established connections; the sum over hubs is split over the hubs subscribers went to. */
  rssPerConnectionBytes?: number;
  rssPeakBytes?: number;
  rssEndBytes?: number;
  /** CPU seconds spent while subscribers connected. */
  cpuSecondsConnect?: number;
  /** CPU seconds spent from the start of publishing to the end of the drain. */
  cpuSecondsLoad?: number;
  /** hold only: CPU seconds per second while every subscriber sat idle (heartbeats, timers). */
  cpuSecondsIdlePerSecond?: number;
  /** cpuSecondsLoad / delivered events (all hubs' deliveries). */
  cpuSecondsPerDeliveredEvent?: number;
}

/** One step of the publish ramp. */
export interface RampStep {
  targetRate: number;
  achievedRate: number;
  publishP99Ms: number;
  deliveryP99Ms: number;
  errors: number;
  lagged: number;
  passed: boolean;
}

/** The whole report. */
export interface Report {
  schema: 'quicksilver-bench/1';
  scenario: string;
  label?: string;
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  /** No missed, duplicated or unexpected delivery, no failed subscription, no failed publish. */
  ok: boolean;
  options: Record<string, unknown>;
  machine: MachineInfo;
  hub: { subscribeUrl: string; publishUrl: string; spawned: boolean; transport?: string; pids: number[]; plan: Record<string, unknown> };
  connect: { requested: number; established: number; failed: number; seconds: number; ratePerSecond: number; sources: number; latencyMs: LatencySummary };
  publish: { mode: string; targetRate?: number; sent: number; accepted: number; failed: number; seconds: number; ratePerSecond: number; sentPerSecond: number; lagged: number; latencyMs: LatencySummary };
  delivery: DeliveryCounts & { seconds: number; eventsPerSecond: number; disconnects: number; heartbeats: number; latencyMs: LatencySummary };
  errors: { subscribe: Record<string, number>; publish: Record<string, number> };
  resources: { hub: HubResources[]; harness: { cpuSeconds: number; rssPeakBytes: number; eventLoopUtilization: number }; loadAverageEnd: number[] };
  ramp?: RampStep[];
  maxSustainedRate?: number;
  timeline: TimelinePoint[];
  files: { json: string; svg: string };
}

/** A file-name stamp: 20260102-150405. */
export function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Chooses the file names, then writes the JSON and the SVG into `dir`. Returns the report with `files` set. */
export function writeReport(report: Report, dir: string): Report {
  mkdirSync(dir, { recursive: true });
  const base = [report.scenario, report.label, stamp(new Date(report.startedAt))].filter(Boolean).join('-').replace(/[^\w.-]+/g, '_');
  report.files = { json: join(dir, `${base}.json`), svg: join(dir, `${base}.svg`) };
  writeFileSync(report.files.json, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(report.files.svg, renderChart(report.timeline, `${report.scenario}${report.label ? ` (${report.label})` : ''}: ${headline(report)}`, subtitle(report), report.scenario === 'hold' ? 'connected' : 'published'));
  return report;
}

function headline(r: Report): string {
  const d = r.delivery;
  return `${r.connect.established} subscribers, ${Math.round(d.eventsPerSecond).toLocaleString('en')} deliveries/s, p50 ${ms(d.latencyMs.p50)}, p99 ${ms(d.latencyMs.p99)}`;
}

/** A latency for titles: 3 significant digits, at most 2 decimals. */
function ms(v: number): string {
  return `${v >= 100 ? Math.round(v) : +v.toPrecision(3)} ms`;
}

function subtitle(r: Report): string {
  return `${r.machine.cores} cores ${r.machine.cpuModel}, load ${r.machine.loadAverage[0]}, Node ${r.machine.node}; hub ${r.hub.spawned ? `spawned (${r.hub.transport})` : r.hub.subscribeUrl}; ${r.startedAt}`;
}

const mib = (b: number | undefined) => (b === undefined ? '?' : `${(b / 2 ** 20).toFixed(1)} MiB`);

/** A few human lines for stderr. */
export function summaryText(r: Report): string {
  const lines = [
    `${r.scenario}: ${r.ok ? 'OK' : 'PROBLEMS'} in ${r.wallSeconds.toFixed(1)} s`,
    `connect: ${r.connect.established}/${r.connect.requested} in ${r.connect.seconds.toFixed(2)} s = ${Math.round(r.connect.ratePerSecond)}/s (failed ${r.connect.failed})`,
    `publish: ${r.publish.accepted}/${r.publish.sent} accepted, sent at ${Math.round(r.publish.sentPerSecond)}/s, accepted ${Math.round(r.publish.ratePerSecond)}/s, p99 ${r.publish.latencyMs.p99} ms, lagged ${r.publish.lagged}`,
    `delivery: ${r.delivery.delivered}/${r.delivery.expected}, ${Math.round(r.delivery.eventsPerSecond)}/s, p50 ${r.delivery.latencyMs.p50} p90 ${r.delivery.latencyMs.p90} p99 ${r.delivery.latencyMs.p99} max ${r.delivery.latencyMs.max} ms`,
    `         missed ${r.delivery.missed}, duplicated ${r.delivery.duplicated}, out-of-order ${r.delivery.outOfOrder}, order mismatched ${r.delivery.orderMismatched}, unexpected ${r.delivery.unexpected}, disconnects ${r.delivery.disconnects}`,
  ];
  for (const h of r.resources.hub) {
    lines.push(`hub ${h.pid}: RSS ${mib(h.rssBaselineBytes)} -> ${mib(h.rssAfterConnectBytes)} (${h.rssPerConnectionBytes === undefined ? '?' : (h.rssPerConnectionBytes / 1024).toFixed(1)} KiB/conn), peak ${mib(h.rssPeakBytes)}; CPU ${h.cpuSecondsLoad?.toFixed(2) ?? '?'} s load, ${h.cpuSecondsPerDeliveredEvent === undefined ? '?' : (h.cpuSecondsPerDeliveredEvent * 1e6).toFixed(2)} µs/event`);
  }
  lines.push(`harness: ${r.resources.harness.cpuSeconds.toFixed(2)} s CPU, event loop ${(r.resources.harness.eventLoopUtilization * 100).toFixed(0)} % busy; machine load ${r.machine.loadAverage[0]} -> ${r.resources.loadAverageEnd[0]}`);
  if (r.maxSustainedRate !== undefined) lines.push(`max sustained publish rate: ${Math.round(r.maxSustainedRate)}/s`);
  const errs = { ...r.errors.subscribe, ...Object.fromEntries(Object.entries(r.errors.publish).map(([k, v]) => [`publish ${k}`, v])) };
  if (Object.keys(errs).length) lines.push(`errors: ${JSON.stringify(errs)}`);
  lines.push(`files: ${r.files.json} ${r.files.svg}`);
  return lines.join('\n');
}
