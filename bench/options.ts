/**
 * Command-line options of `npm run bench -- SCENARIO [options]`, their
 * defaults per scenario, the `--quick` sizes and the bounds every run keeps
 * (so each load loop stops by itself). See bench/README.md for the table.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEV_KEY } from './jwt.ts';
import { loopbackTarget } from './loopback.ts';
import { TRANSPORTS, type TransportName } from './spawn.ts';

/** The scenarios. */
export const SCENARIOS = ['hold', 'fanout', 'topics', 'publish', 'cluster'] as const;
/** One of SCENARIOS. */
export type Scenario = (typeof SCENARIOS)[number];

/** Everything a run is configured with (reported as `options`). */
export interface Options {
  scenario: Scenario;
  quick: boolean;
  url?: string;
  publishUrl?: string;
  spawn: boolean;
  transport: TransportName;
  transportUrl?: string;
  hubConfig?: string;
  hubDirectives: string[];
  hubBin?: string;
  /** `workers` global option of spawned hubs. */
  workers: number;
  /** `taskset -c` CPU list for spawned hubs. */
  hubCpus?: string;
  key?: string;
  alg: string;
  publisherJwt?: string;
  subscriberJwt?: string;
  pids: number[];
  subscribers: number;
  /** Publishes per second (paced scenarios). */
  rate: number;
  /** Most updates to publish. */
  count: number;
  /** Seconds of publishing (hold: seconds of holding). */
  duration: number;
  size: number;
  topics: number;
  privateEvery: number;
  mode: 'closed' | 'ramp';
  concurrency: number;
  rampStart: number;
  rampStep: number;
  stepSeconds: number;
  maxRate: number;
  maxP99: number;
  connections: number;
  /** Pipelined publish requests per connection (1 = none). */
  pipelining: number;
  maxInflight: number;
  connectConcurrency: number;
  connectTimeout: number;
  sources: number;
  drain: number;
  settle: number;
  out: string;
  label?: string;
  force: boolean;
}

/** Hard ceilings: a run can never be longer or bigger than this. */
export const LIMITS = { duration: 3600, subscribers: 1_000_000, count: 100_000_000, trackedBits: 4e9, rate: 1_000_000 };

const DEFAULTS: Record<Scenario, Partial<Options>> = {
  hold: { subscribers: 10_000, duration: 5, rate: 50, count: 5 },
  fanout: { subscribers: 1000, rate: 100, duration: 10 },
  topics: { subscribers: 1000, topics: 100, rate: 200, duration: 10 },
  publish: { subscribers: 1, duration: 10, concurrency: 8, rate: 1000 },
  cluster: { subscribers: 1000, rate: 100, duration: 10 },
};

const QUICK: Record<Scenario, Partial<Options>> = {
  hold: { subscribers: 20, duration: 1, count: 5, rate: 50 },
  fanout: { subscribers: 20, rate: 100, count: 50, duration: 5 },
  topics: { subscribers: 20, topics: 4, rate: 100, count: 50, duration: 5 },
  publish: { subscribers: 1, concurrency: 2, count: 50, duration: 5, rampStart: 50, rampStep: 50, stepSeconds: 0.5, maxRate: 100 },
  cluster: { subscribers: 20, rate: 100, count: 50, duration: 5 },
};

/** Usage text. */
export const USAGE = `usage: npm run bench -- SCENARIO [options]     (scenarios: ${SCENARIOS.join(', ')})
target:  --url URL | --spawn [--transport ${TRANSPORTS.join('|')}] [--transport-url URL] [--hub-config FILE]
         [--hub-directive LINE]... [--hub-bin PATH] [--workers N] [--hub-cpus LIST]   --publish-url URL (cluster)   --pid PID...
tokens:  --key KEY | --key-file PEM  --alg HS256   --publisher-jwt JWT  --subscriber-jwt JWT
load:    --subscribers N --rate R --count M --duration S --size BYTES --topics T --private-every K
publish: --mode closed|ramp --concurrency K --ramp-start R --ramp-step R --step-seconds S --max-rate R --max-p99 MS
tuning:  --connections C --pipelining N --max-inflight N --connect-concurrency N --connect-timeout S --sources N --drain S --settle S
output:  --out DIR --label TEXT   other: --quick --force --help`;

const num = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
};

/** Parses argv (without the node and script paths). Throws on bad input with a message for the user. */
export function parseOptions(argv: string[]): Options {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      quick: { type: 'boolean' }, spawn: { type: 'boolean' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      url: { type: 'string' }, 'publish-url': { type: 'string' }, transport: { type: 'string' }, 'transport-url': { type: 'string' },
      'hub-config': { type: 'string' }, 'hub-directive': { type: 'string', multiple: true }, 'hub-bin': { type: 'string' }, workers: { type: 'string' }, 'hub-cpus': { type: 'string' },
      key: { type: 'string' }, 'key-file': { type: 'string' }, alg: { type: 'string' },
      'publisher-jwt': { type: 'string' }, 'subscriber-jwt': { type: 'string' }, pid: { type: 'string', multiple: true },
      subscribers: { type: 'string' }, rate: { type: 'string' }, count: { type: 'string' }, duration: { type: 'string' },
      size: { type: 'string' }, topics: { type: 'string' }, 'private-every': { type: 'string' }, mode: { type: 'string' },
      concurrency: { type: 'string' }, 'ramp-start': { type: 'string' }, 'ramp-step': { type: 'string' },
      'step-seconds': { type: 'string' }, 'max-rate': { type: 'string' }, 'max-p99': { type: 'string' },
      connections: { type: 'string' }, pipelining: { type: 'string' }, 'max-inflight': { type: 'string' }, 'connect-concurrency': { type: 'string' },
      'connect-timeout': { type: 'string' }, sources: { type: 'string' }, drain: { type: 'string' }, settle: { type: 'string' },
      out: { type: 'string' }, label: { type: 'string' },
    },
  });
  if (v.help) throw new HelpRequested();
  const scenario = positionals[0] as Scenario;
  if (!SCENARIOS.includes(scenario)) throw new Error(`unknown or missing scenario ${JSON.stringify(positionals[0] ?? '')}; expected one of ${SCENARIOS.join(', ')}`);
  if (positionals.length > 1) throw new Error(`unexpected argument ${JSON.stringify(positionals[1])}`);
  const quick = v.quick ?? false;
  const d = { ...DEFAULTS[scenario], ...(quick ? QUICK[scenario] : {}) };
  const transport = (v.transport ?? 'bolt') as TransportName;
  if (!TRANSPORTS.includes(transport)) throw new Error(`--transport must be one of ${TRANSPORTS.join(', ')}`);
  const mode = (v.mode ?? 'closed') as Options['mode'];
  if (mode !== 'closed' && mode !== 'ramp') throw new Error('--mode must be closed or ramp');
  const n = (name: string, fallback: number): number => num(v[name as keyof typeof v] as string | undefined, name) ?? fallback;
  const rate = n('rate', d.rate ?? 100);
  const duration = Math.min(n('duration', scenario === 'publish' && mode === 'ramp' && !quick ? 60 : d.duration ?? 10), LIMITS.duration);
  const closed = scenario === 'publish';
  const o: Options = {
    scenario, quick,
    url: v.url, publishUrl: v['publish-url'], spawn: v.spawn ?? false, transport, transportUrl: v['transport-url'],
    hubConfig: v['hub-config'] ? readFileSync(v['hub-config'], 'utf8') : undefined,
    hubDirectives: v['hub-directive'] ?? [], hubBin: v['hub-bin'] === undefined ? undefined : resolve(v['hub-bin']),
    workers: Math.max(1, Math.round(n('workers', 1))), hubCpus: v['hub-cpus'],
    key: v['key-file'] ? readFileSync(v['key-file'], 'utf8') : v.key ?? (v['publisher-jwt'] ? undefined : DEV_KEY),
    alg: v.alg ?? 'HS256', publisherJwt: v['publisher-jwt'], subscriberJwt: v['subscriber-jwt'],
    pids: (v.pid ?? []).map((p) => num(p, 'pid')!),
    subscribers: Math.round(n('subscribers', d.subscribers ?? 100)),
    rate, duration,
    count: Math.round(n('count', d.count ?? (closed ? LIMITS.count : Math.ceil(rate * duration)))),
    size: Math.round(n('size', 100)),
    topics: Math.max(1, Math.round(n('topics', d.topics ?? 100))),
    privateEvery: Math.round(n('private-every', 4)),
    mode,
    concurrency: Math.max(1, Math.round(n('concurrency', d.concurrency ?? 8))),
    rampStart: n('ramp-start', d.rampStart ?? 500), rampStep: n('ramp-step', d.rampStep ?? 500),
    stepSeconds: n('step-seconds', d.stepSeconds ?? 3), maxRate: n('max-rate', d.maxRate ?? 50_000),
    maxP99: n('max-p99', 250),
    connections: Math.max(1, Math.round(n('connections', 4))),
    pipelining: Math.max(1, Math.round(n('pipelining', 1))),
    maxInflight: Math.max(1, Math.round(n('max-inflight', 256))),
    connectConcurrency: Math.max(1, Math.round(n('connect-concurrency', 256))),
    connectTimeout: n('connect-timeout', 60),
    sources: Math.round(n('sources', 0)),
    drain: n('drain', 5), settle: n('settle', quick ? 0.2 : 1),
    out: v.out ?? new URL('./out/', import.meta.url).pathname,
    label: v.label, force: v.force ?? false,
  };
  validate(o);
  return o;
}

/** Thrown by parseOptions for --help. */
export class HelpRequested extends Error {}

function validate(o: Options): void {
  if (o.url) loopbackTarget(o.url);
  if (o.publishUrl) loopbackTarget(o.publishUrl);
  if (!o.spawn && !o.url) throw new Error('give the hub with --url URL, or start one with --spawn');
  if (o.spawn && o.url) throw new Error('--spawn and --url exclude each other');
  if (o.scenario === 'cluster' && !o.spawn && !o.publishUrl) throw new Error('cluster needs --publish-url (the hub to publish on) besides --url');
  if (o.scenario === 'cluster' && o.spawn && (o.transport === 'local' || o.transport === 'bolt') && !o.hubConfig) {
    throw new Error(`cluster --spawn needs a shared transport (redis, postgres, kafka or pulsar with --transport-url); ${o.transport} is single-node`);
  }
  if (o.subscribers < 1 || o.subscribers > LIMITS.subscribers) throw new Error(`--subscribers must be within 1..${LIMITS.subscribers}`);
  if (o.count < 0 || o.count > LIMITS.count) throw new Error(`--count must be within 0..${LIMITS.count}`);
  if (o.rate <= 0 || o.rate > LIMITS.rate) throw new Error(`--rate must be within (0, ${LIMITS.rate}]`);
  if (o.duration <= 0) throw new Error('--duration must be > 0');
  if (o.subscribers * Math.min(o.count, o.rate * o.duration * 2 + 1000) > LIMITS.trackedBits) {
    throw new Error('subscribers × updates is too large to track per subscriber; lower --subscribers, --count or --duration');
  }
  if (!o.key && !o.publisherJwt) throw new Error('a publisher token is needed: --key or --publisher-jwt');
}
