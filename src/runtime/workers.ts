/**
 * The `workers` global option: N processes serve the same listeners
 * (SO_REUSEPORT, so the kernel spreads connections). The main process is
 * worker 0: it also runs the admin endpoint, owns the single-node transports'
 * backends (BackendHost) and supervises workers 1…N-1, which it forks from
 * the same command line. A worker that dies is restarted with back-off; a
 * reload reaches every worker; a stop stops them all gracefully; /metrics
 * sums every worker's series.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';
import { QsError } from '../host/errors.ts';
import { BackendHost } from '../transports/channel/host.ts';
import { IpcHostLink, serveIpc } from '../transports/channel/ipc.ts';
import { setHostLink } from '../transports/channel/link.ts';
import { setReusePort } from '../http/listener.ts';

/** The environment variable a forked worker finds its number in. */
export const WORKER_ENV = 'QS_WORKER_ID';
const TAG = 'supervisor';

type Metrics = MetricObjectWithValues<MetricValue<string>>[];

/** `workers <n|auto>` → a count (≥ 1); auto = the CPUs this process may use. */
export function workerCount(value: unknown): number {
  if (value === undefined || value === null) return 1;
  if (value === 'auto') return availableParallelism();
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return value;
  throw new QsError('ERR_CFG_JSON', `workers: expected a whole number ≥ 1 or "auto", got ${JSON.stringify(value)}`);
}

/** The config a worker runs: the same, without the admin endpoint (the main process serves it). */
export function workerConfig(config: Record<string, unknown>): Record<string, unknown> {
  return { ...config, admin: { disabled: true } };
}

interface Worker { id: number; child: ChildProcess | undefined; restarts: number; detach?: () => void }

/** In the main process. */
export class Supervisor {
  readonly host: BackendHost;
  readonly #log: Logger;
  readonly #workers: Worker[] = [];
  #config: Record<string, unknown>;
  #stopping = false;
  #rid = 0;

  constructor(opts: { log: Logger; dataDir: string; count: number; config: Record<string, unknown> }) {
    this.#log = opts.log;
    this.#config = opts.config;
    this.host = new BackendHost({ log: opts.log, dataDir: opts.dataDir });
    setReusePort(true);
    setHostLink(this.host.linkFor('main'));
    for (let id = 1; id < opts.count; id++) this.#workers.push({ id, child: undefined, restarts: 0 });
  }

  get size(): number { return this.#workers.length + 1; }

  /** Forks every worker and waits until each serves. */
  async start(): Promise<void> {
    await Promise.all(this.#workers.map((w) => this.#spawn(w)));
    this.#log.info({ workers: this.size }, 'workers started');
  }

  #spawn(w: Worker): Promise<void> {
    const child = fork(process.argv[1]!, process.argv.slice(2), {
      env: { ...process.env, [WORKER_ENV]: String(w.id) },
      execArgv: process.execArgv,
      serialization: 'advanced',
      stdio: 'inherit',
    });
    w.child = child;
    w.detach = serveIpc(this.host, `worker-${w.id}`, child);
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: any) => { if (m?.qs === TAG && m.op === 'ready') { child.off('message', onMessage); resolve(); } };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`worker ${w.id} exited with ${code} before it served`)));
    });
    child.once('exit', (code, signal) => {
      w.detach?.();
      w.child = undefined;
      void this.host.drop(`worker-${w.id}`);
      if (this.#stopping) return;
      const delay = Math.min(5000, 100 * 2 ** w.restarts++);
      this.#log.error({ worker: w.id, code, signal, restart_in_ms: delay }, 'worker exited; restarting it');
      setTimeout(() => { if (!this.#stopping) this.#spawn(w).then(() => { w.restarts = 0; }, (err) => this.#log.error({ err, worker: w.id }, 'worker failed to start')); }, delay).unref();
    });
    return ready;
  }

  #request<T>(w: Worker, op: string, body: object = {}): Promise<T> {
    const child = w.child;
    if (!child?.connected) return Promise.reject(new Error(`worker ${w.id} is not running`));
    const rid = ++this.#rid;
    return new Promise<T>((resolve, reject) => {
      const onMessage = (m: any) => {
        if (m?.qs !== TAG || m.rid !== rid) return;
        cleanup();
        if (m.error) reject(new Error(`worker ${w.id}: ${m.error}`)); else resolve(m.value as T);
      };
      const onExit = () => { cleanup(); reject(new Error(`worker ${w.id} exited`)); };
      const cleanup = () => { child.off('message', onMessage); child.off('exit', onExit); };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ qs: TAG, op, rid, ...body });
    });
  }

  /** Sends a config that the main process loaded to every worker. */
  async reload(config: Record<string, unknown>): Promise<void> {
    this.#config = config;
    const results = await Promise.allSettled(this.#workers.map((w) => this.#request(w, 'reload', { config: workerConfig(config) })));
    for (const r of results) if (r.status === 'rejected') this.#log.error({ err: r.reason }, 'a worker did not take the new config');
  }

  /** Every process's metrics, summed (the admin endpoint's /metrics). */
  async metrics(own: Metrics): Promise<Registry> {
    const theirs = await Promise.allSettled(this.#workers.map((w) => this.#request<Metrics>(w, 'metrics')));
    const all = [own, ...theirs.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))];
    return AggregatorRegistry.aggregate(all);
  }

  /** Stops every worker gracefully (SIGTERM); they finish in-flight requests within their grace period. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#workers.map(async (w) => {
      const child = w.child;
      if (!child || child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }));
  }

  /** Closes the shared backends, once every process stopped using them. */
  async close(): Promise<void> {
    await this.host.close();
    setHostLink(undefined);
  }

  /** The worker processes' PIDs (tests and the bench kill them). */
  pids(): number[] {
    return this.#workers.flatMap((w) => (w.child?.pid ? [w.child.pid] : []));
  }
}

/** In a forked worker: reach the main process's backends, answer the supervisor. */
export function joinWorkerGroup(handlers: {
  reload(config: Record<string, unknown>): Promise<void>;
  metrics(): Promise<Metrics>;
}): void {
  setReusePort(true);
  setHostLink(new IpcHostLink(process as unknown as ConstructorParameters<typeof IpcHostLink>[0]));
  process.on('message', (m: any) => {
    if (m?.qs !== TAG) return;
    const answer = (p: Promise<unknown>) => p.then(
      (value) => process.send?.({ qs: TAG, rid: m.rid, value }),
      (err) => process.send?.({ qs: TAG, rid: m.rid, error: (err as Error).message }),
    );
    if (m.op === 'reload') void answer(handlers.reload(m.config));
    else if (m.op === 'metrics') void answer(handlers.metrics());
  });
  // The main process going away ends the worker: it must not outlive its group.
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

/** A worker tells the supervisor it serves. */
export function workerReady(): void {
  process.send?.({ qs: TAG, op: 'ready' });
}
