/**
 * Helpers for the PHP tests: the fixture app, a Caddyfile adapted with env and
 * run in-process (every listener on 127.0.0.1:0) with a logger whose lines the
 * test can read, and small HTTP clients.
 */
import { EventEmitter, once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { adaptCaddyfile } from '../../src/runtime/load-config.ts';
import { registerAllDirectives } from '../../directives/index.ts';
import { Instance } from '../../src/host/instance.ts';
import { UsagePool } from '../../src/host/usage-pool.ts';
import type { HttpApp } from '../../src/http/app.ts';
import { registerStandardModules } from '../../src/runtime/standard.ts';

registerAllDirectives();
registerStandardModules();

export const APP = fileURLToPath(new URL('../fixtures/php/app', import.meta.url));

export interface PhpRun {
  instance: Instance;
  pool: UsagePool;
  logs: Record<string, unknown>[];
  warnings: string[];
  /** Resolves with the first log line (already written or to come) that pred accepts. */
  waitLog(pred: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  url(path?: string): string;
  stop(): Promise<void>;
}

/** Adapts text with env, provisions and starts it; stopped in t.after. */
export async function runCaddyfile(t: TestContext, text: string, env: Record<string, string> = {}, pool = new UsagePool()): Promise<PhpRun> {
  const r = adaptCaddyfile(text, { file: 'Caddyfile', env });
  const apps = r.config.apps as { http: { servers: Record<string, { listen: string[] }> } };
  for (const s of Object.values(apps.http.servers)) s.listen = ['127.0.0.1:0'];
  const logs: Record<string, unknown>[] = [];
  const events = new EventEmitter();
  const sink = new Writable({
    write(chunk, _e, cb) {
      for (const l of String(chunk).split('\n')) if (l) { const line = JSON.parse(l); logs.push(line); events.emit('line', line); }
      cb();
    },
  });
  const waitLog = (pred: (l: Record<string, unknown>) => boolean) => new Promise<Record<string, unknown>>((resolve) => {
    const found = logs.find(pred);
    if (found) return resolve(found);
    const on = (l: Record<string, unknown>) => { if (pred(l)) { events.off('line', on); resolve(l); } };
    events.on('line', on);
  });
  const log = pino({ level: 'debug' }, sink);
  const instance = new Instance(r.config, { log, pool, dataDir: mkdtempSync(join(tmpdir(), 'qs-php-data-')) });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await instance.stop(0);
    await instance.cleanup();
  };
  try {
    await instance.provision();
    await instance.start();
  } catch (err) {
    await instance.cleanup().catch(() => undefined);
    throw err;
  }
  t.after(stop);
  const app = instance.app.registry.get('apps.http') as HttpApp;
  const name = Object.keys(apps.http.servers)[0]!;
  return {
    instance, pool, logs, waitLog, warnings: r.warnings.map((w) => w.message),
    url: (path = '/') => `http://127.0.0.1:${app.port(name)}${path}`,
    stop,
  };
}

export { request as send, type Reply } from '../http/helpers.ts';
