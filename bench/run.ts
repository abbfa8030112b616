/**
 * One benchmark run, in phases: start the hub(s) (--spawn) or take the URLs,
 * read the idle baseline, connect the subscribers, read RSS again, run the
 * scenario's load, drain the deliveries still on their way, then stop
 * everything and assemble the report. Every phase has a count and a time bound.
 */
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Options } from './options.ts';
import { loopbackTarget, sourceAddresses, sourcesFor } from './loopback.ts';
import { machineInfo, raiseFdLimit, readFdLimit } from './proc.ts';
import { spawnHub, type SpawnedHub } from './spawn.ts';
import { publisherToken, type TokenSource } from './jwt.ts';
import { singleTopicPlan, topicsPlan } from './plans.ts';
import { Sampler, delta, type Reading } from './sampler.ts';
import { Timeline } from './timeline.ts';
import { Tracker } from './tracker.ts';
import { Histogram } from './histogram.ts';
import { SubscriberPool } from './subscribers.ts';
import { Publisher, type Bounds, type PhaseResult } from './publisher.ts';
import type { HubResources, RampStep, Report } from './report.ts';

/** Upper bound of a run's wall time in ms, for the watchdog (phases plus a margin). */
export function runBound(o: Options): number {
  const hold = o.scenario === 'hold' ? o.duration + o.count / o.rate + 1 : 0;
  return (2 * o.settle + o.connectTimeout + o.duration + hold + o.drain + 180) * 1000;
}

/** Runs the benchmark `o` describes and returns its report (files not written yet). */
export async function runBenchmark(o: Options, log: (line: string) => void = () => {}): Promise<Report> {
  const startedAt = new Date();
  const wall0 = performance.now();
  const machine = machineInfo();
  const needFds = o.subscribers + o.connections + 64;
  machine.fdLimit = raiseFdLimit(needFds) ?? machine.fdLimit;
  if (machine.fdLimit && machine.fdLimit.soft < needFds && !o.force) {
    throw new Error(`${o.subscribers} subscribers need about ${needFds} open files but the limit is ${machine.fdLimit.soft}; raise it (ulimit -n, see bench/README.md) or pass --force`);
  }
  const hubs: SpawnedHub[] = [];
  try {
    if (o.spawn) {
      const stream = `quicksilver-bench-${process.pid}-${Date.now()}`;
      const so = { transport: o.transport, transportUrl: o.transportUrl, stream, key: o.key ?? '', alg: o.alg, directives: o.hubDirectives, configTemplate: o.hubConfig, bin: o.hubBin, fdLimit: needFds, workers: o.workers, cpus: o.hubCpus };
      for (let i = 0; i < (o.scenario === 'cluster' ? 2 : 1); i++) {
        log(`starting hub ${i + 1} (${o.transport})…`);
        hubs.push(await spawnHub(so));
      }
    }
    const subUrl = hubs.length ? hubs[hubs.length - 1]!.url : o.url!;
    const pubUrl = hubs.length ? hubs[0]!.url : o.publishUrl ?? o.url!;
    const subTarget = loopbackTarget(subUrl);
    const pubTarget = loopbackTarget(pubUrl);
    const pids = [...hubs.flatMap((h) => h.pids), ...o.pids];
    const tokens: TokenSource = { key: o.key, alg: o.alg, publisherJwt: o.publisherJwt, subscriberJwt: o.subscriberJwt };
    const plan = o.scenario === 'topics' ? await topicsPlan(o, subTarget.url.pathname, tokens) : await singleTopicPlan(o, subTarget.url.pathname, tokens);
    const pubToken = await publisherToken(tokens, Math.ceil(runBound(o) / 1000) + 3600);

    const sampler = new Sampler(pids);
    const elu0 = performance.eventLoopUtilization();
    await sleep(o.settle * 1000);
    const baseline = sampler.read();
    const timeline = new Timeline(performance.now());
    sampler.start(timeline);
    const tracker = new Tracker(plan.groupOf, plan.groups, Math.min(o.count, Math.ceil(o.rate * o.duration * 1.1)) + 64);
    let stepHist: Histogram | undefined;
    let lastDelivery = 0;
    const sources = sourceAddresses(o.sources || sourcesFor(o.subscribers), subTarget.family);
    const pool = new SubscriberPool({
      target: subTarget,
      sources,
      onEvent(sub, seq, sentMs, now) {
        const us = (now - sentMs) * 1000;
        if (tracker.receivedBy(sub, seq, us)) { timeline.delivered(now, us); stepHist?.record(us); lastDelivery = now; }
      },
      onOpenChange: (n, now) => timeline.connected(now, n),
      onError: (_key, now) => timeline.error(now),
    });
    const publisher = new Publisher({
      target: pubTarget, token: pubToken, connections: o.connections, pipelining: o.pipelining, size: o.size, timeoutMs: 30_000,
      onAccepted(seq, update, now) { tracker.published(seq, update.groups); timeline.published(now); },
      onError: (_key, now) => timeline.error(now),
    });
    try {
      log(`connecting ${o.subscribers} subscribers to ${subTarget.url.href} from ${sources.length} source address(es)…`);
      const cpuConnect0 = sampler.read();
      const connect = await pool.connect(plan.specs, o.connectConcurrency, o.connectTimeout * 1000);
      log(`connected ${connect.established}/${connect.requested} in ${connect.seconds.toFixed(2)} s`);
      await sleep(o.settle * 1000);
      const afterConnect = sampler.read();
      if (o.scenario === 'hold') { log(`holding for ${o.duration} s…`); await sleep(o.duration * 1000); }
      const afterHold = sampler.read();

      const bounds: Bounds = { count: o.count, durationMs: o.duration * 1000, next: plan.next };
      if (o.scenario === 'hold') bounds.durationMs = (o.count / o.rate) * 1000 + 1000;
      const load0 = sampler.read();
      const publishT0 = performance.now();
      log(`publishing (${o.scenario === 'publish' ? o.mode : `${o.rate}/s`})…`);
      let phase: PhaseResult;
      let ramp: { steps: RampStep[]; max: number } | undefined;
      if (o.scenario === 'publish' && o.mode === 'closed') phase = await publisher.closedLoop(bounds, o.concurrency);
      else if (o.scenario === 'publish') {
        ramp = await runRamp(o, publisher, tracker, bounds, (h) => { stepHist = h; });
        const seconds = (performance.now() - publishT0) / 1000;
        phase = { sent: publisher.sent, accepted: publisher.accepted, seconds, ratePerSecond: publisher.accepted / seconds, sentPerSecond: publisher.sent / seconds, lagged: 0 };
      } else phase = await publisher.paced(bounds, o.rate, o.maxInflight);
      log(`published ${phase.accepted}/${phase.sent}; draining…`);
      await drain(tracker, o.drain * 1000);
      const loadEnd = sampler.read();
      sampler.stop();
      const counts = tracker.counts();
      const deliverySeconds = Math.max(1e-6, ((lastDelivery || performance.now()) - publishT0) / 1000);
      const hubRes = pids.map((pid, i): HubResources => resources(pid, i, { baseline, cpuConnect0, afterConnect, afterHold, load0, loadEnd }, sampler, connect.established, counts.delivered, o.scenario === 'hold' ? o.duration : 0));
      const usage = process.resourceUsage();
      const report: Report = {
        schema: 'quicksilver-bench/1',
        scenario: o.scenario,
        ...(o.label ? { label: o.label } : {}),
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        wallSeconds: round((performance.now() - wall0) / 1000),
        ok: counts.missed === 0 && counts.duplicated === 0 && counts.unexpected === 0 && connect.failed === 0 && publisher.failed === 0 && pool.disconnects === 0,
        options: publicOptions(o),
        machine,
        hub: { subscribeUrl: subTarget.url.href, publishUrl: pubTarget.url.href, spawned: o.spawn, ...(o.spawn ? { transport: o.transport } : {}), pids, plan: plan.description },
        connect: {
          requested: connect.requested, established: connect.established, failed: connect.failed,
          seconds: round(connect.seconds), ratePerSecond: round(connect.ratePerSecond), sources: sources.length, latencyMs: connect.latency.summary(),
        },
        publish: {
          mode: o.scenario === 'publish' ? o.mode : 'paced', ...(o.scenario === 'publish' && o.mode === 'closed' ? {} : { targetRate: o.rate }),
          sent: phase.sent, accepted: phase.accepted, failed: publisher.failed, seconds: round(phase.seconds),
          ratePerSecond: round(phase.ratePerSecond), sentPerSecond: round(phase.sentPerSecond), lagged: phase.lagged, latencyMs: publisher.latency.summary(),
        },
        delivery: {
          ...counts, seconds: round(deliverySeconds), eventsPerSecond: round(counts.delivered / deliverySeconds),
          disconnects: pool.disconnects, heartbeats: pool.comments(), latencyMs: tracker.latency.summary(),
        },
        errors: { subscribe: { ...pool.errors }, publish: { ...publisher.errors } },
        resources: {
          hub: hubRes,
          harness: { cpuSeconds: round((usage.userCPUTime + usage.systemCPUTime) / 1e6), rssPeakBytes: usage.maxRSS * 1024, eventLoopUtilization: round(performance.eventLoopUtilization(elu0).utilization) },
          loadAverageEnd: os.loadavg().map((v) => Math.round(v * 100) / 100),
        },
        ...(ramp ? { ramp: ramp.steps, maxSustainedRate: ramp.max } : {}),
        timeline: timeline.points(performance.now()),
        files: { json: '', svg: '' },
      };
      return report;
    } finally {
      sampler.stop();
      await pool.close();
      await publisher.close();
    }
  } finally {
    for (const h of hubs) await h.stop();
  }
}

interface Marks { baseline: Reading[]; cpuConnect0: Reading[]; afterConnect: Reading[]; afterHold: Reading[]; load0: Reading[]; loadEnd: Reading[] }

function resources(pid: number, i: number, m: Marks, sampler: Sampler, established: number, delivered: number, holdSeconds: number): HubResources {
  const rssDelta = delta(m.baseline[i]!.rssBytes, m.afterConnect[i]!.rssBytes);
  const cpuLoad = delta(m.load0[i]!.cpuSeconds, m.loadEnd[i]!.cpuSeconds);
  const r: HubResources = {
    pid, fdLimit: readFdLimit(pid),
    rssBaselineBytes: m.baseline[i]!.rssBytes, rssAfterConnectBytes: m.afterConnect[i]!.rssBytes,
    rssPerConnectionBytes: rssDelta === undefined || established === 0 ? undefined : Math.round(rssDelta / established),
    rssPeakBytes: sampler.peakRss[i] || undefined, rssEndBytes: m.loadEnd[i]!.rssBytes,
    cpuSecondsConnect: roundOpt(delta(m.cpuConnect0[i]!.cpuSeconds, m.afterConnect[i]!.cpuSeconds)),
    cpuSecondsLoad: roundOpt(cpuLoad),
    ...(holdSeconds > 0 ? { cpuSecondsIdlePerSecond: roundOpt(perSecond(delta(m.afterConnect[i]!.cpuSeconds, m.afterHold[i]!.cpuSeconds), holdSeconds)) } : {}),
    cpuSecondsPerDeliveredEvent: cpuLoad === undefined || delivered === 0 ? undefined : cpuLoad / delivered,
  };
  return r;
}

/** Waits until every expected delivery arrived, or `ms` passed. */
export async function drain(tracker: Tracker, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (tracker.complete() && tracker.counts().missed === 0) return;
    await sleep(20);
  }
}

/** The publish ramp: paced steps of --step-seconds, rate += --ramp-step, until a step fails or a bound is hit. */
async function runRamp(o: Options, publisher: Publisher, tracker: Tracker, bounds: Bounds, setHist: (h: Histogram | undefined) => void): Promise<{ steps: RampStep[]; max: number }> {
  const steps: RampStep[] = [];
  const end = performance.now() + o.duration * 1000;
  let max = 0;
  for (let rate = o.rampStart; rate <= o.maxRate && performance.now() < end && publisher.sent < o.count; rate += o.rampStep) {
    const hist = new Histogram(8);
    const pubHist = new Histogram(8);
    setHist(hist);
    publisher.stepLatency = pubHist;
    const failed0 = publisher.failed;
    const r = await publisher.paced({ ...bounds, count: o.count - publisher.sent, durationMs: Math.min(o.stepSeconds * 1000, end - performance.now()) }, rate, o.maxInflight);
    await drain(tracker, 1000);
    const errors = publisher.failed - failed0;
    const deliveryP99Ms = hist.quantile(0.99) / 1000;
    const passed = r.ratePerSecond >= 0.95 * rate && errors === 0 && deliveryP99Ms <= o.maxP99 && tracker.complete();
    steps.push({ targetRate: rate, achievedRate: round(r.ratePerSecond), publishP99Ms: round(pubHist.quantile(0.99) / 1000), deliveryP99Ms: round(deliveryP99Ms), errors, lagged: r.lagged, passed });
    if (!passed) break;
    max = Math.max(max, r.ratePerSecond);
  }
  setHist(undefined);
  publisher.stepLatency = undefined;
  return { steps, max: round(max) };
}

function publicOptions(o: Options): Record<string, unknown> {
  const { key, publisherJwt, subscriberJwt, hubConfig, ...rest } = o;
  return { ...rest, key: key ? '(set)' : undefined, publisherJwt: publisherJwt ? '(set)' : undefined, subscriberJwt: subscriberJwt ? '(set)' : undefined, hubConfig: hubConfig ? '(file)' : undefined };
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function perSecond(v: number | undefined, seconds: number): number | undefined {
  return v === undefined ? undefined : v / seconds;
}

function roundOpt(v: number | undefined): number | undefined {
  return v === undefined ? undefined : round(v);
}
