/**
 * `node bench/php-front.ts [--duration s] [--connections n] [--workers n] [--rounds n] [--caddy [--caddy-bin path]]`
 *
 * Requests/s and latency percentiles of the PHP front: a hello-world PHP page
 * (php_fastcgi → php-fpm over TCP) and a static file (file_server), served by
 * quicksilver (`bin/quicksilver run`) and, with `--caddy`, by Caddy's own
 * php_fastcgi, both in front of the SAME php-fpm, one after the other, in one
 * run. Caddy is a yardstick, never a dependency: `--caddy` builds v2.11.3 with
 * `go install` into .cache/caddy-v2.11.3/ the first time (or takes
 * `--caddy-bin`). If the Go proxy refuses the x509roots/fallback version that
 * Caddy pins, the build retries from a small module that requires Caddy and
 * replaces that module with the proxy's latest version.
 *
 * Load: a closed loop of `--connections` keep-alive HTTP/1.1 connections
 * (undici) from this process, 2 s of warm-up, then `--duration` seconds
 * measured. quicksilver runs twice: as configured for Caddy, and with `max_conns` = the php-fpm
 * workers (its own option, which keeps every FastCGI connection alive). Loopback only. Report: one JSON line on stdout, also written to
 * bench/out/php-front-<time>.json; a summary on stderr.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { Histogram, type LatencySummary } from './histogram.ts';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CADDY_VERSION = 'v2.11.3';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    workers: { type: 'string', default: '8' },
    caddy: { type: 'boolean', default: false },
    'caddy-bin': { type: 'string' },
    rounds: { type: 'string', default: '1' },
  },
});
const DURATION_S = Math.min(Math.max(Number(opts.duration), 1), 300);
const CONNECTIONS = Math.min(Math.max(Number(opts.connections), 1), 1024);
const WORKERS = Math.min(Math.max(Number(opts.workers), 1), 256);
/** Every server is measured once per round, in turn, so a noisy neighbour hits all of them alike; the report keeps each round and the median. */
const ROUNDS = Math.min(Math.max(Number(opts.rounds), 1), 20);

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as { port: number };
  s.close();
  return port;
}

function log(msg: string): void { process.stderr.write(msg + '\n'); }

/** Starts a child and kills it (and its process group) at exit. */
const children: ChildProcess[] = [];
function startChild(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env });
  let err = '';
  c.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
  c.once('exit', (code) => { if (code) log(`${cmd} exited with ${code}: ${err}`); });
  children.push(c);
  return c;
}
function stopChildren(): void {
  for (const c of children) { try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ } }
}
process.once('exit', stopChildren);

/** Polls url until it answers 200 (bounded: 30 s). */
async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try { const r = await fetch(url); await r.arrayBuffer(); if (r.status === 200) return; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within 30 s`);
    await sleep(100);
  }
}

interface Measure { requests: number; errors: number; rps: number; latency_ms: LatencySummary }

/** Closed-loop load on origin+path for ms milliseconds. */
async function load(origin: string, path: string, ms: number): Promise<Measure> {
  const pool = new Pool(origin, { connections: CONNECTIONS, pipelining: 1 });
  const h = new Histogram();
  let requests = 0;
  let errors = 0;
  const start = performance.now();
  const end = start + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const r = await pool.request({ method: 'GET', path });
        await r.body.dump();
        if (r.statusCode !== 200) errors++;
        h.record(Math.round((performance.now() - t0) * 1000));
        requests++;
      } catch { errors++; }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const elapsed = (performance.now() - start) / 1000;
  await pool.close();
  return { requests, errors, rps: Math.round(requests / elapsed), latency_ms: h.summary() };
}

/** Caddy v2.11.3, built on first use. */
function caddyBinary(): string {
  if (opts['caddy-bin']) return opts['caddy-bin'];
  const dir = join(ROOT, '.cache', `caddy-${CADDY_VERSION}`);
  const bin = join(dir, 'bin', 'caddy');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const env = { ...process.env, GOBIN: join(dir, 'bin') };
  log(`building Caddy ${CADDY_VERSION} with go install (once; cached in ${dir})`);
  try {
    execFileSync('go', ['install', `github.com/caddyserver/caddy/v2/cmd/caddy@${CADDY_VERSION}`], { cwd: dir, env, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch {
    log('go install failed; retrying from a module that replaces golang.org/x/crypto/x509roots/fallback with the proxy\'s version');
    const mod = join(dir, 'mod');
    mkdirSync(mod, { recursive: true });
    writeFileSync(join(mod, 'main.go'), 'package main\n\nimport caddycmd "github.com/caddyserver/caddy/v2/cmd"\nimport _ "github.com/caddyserver/caddy/v2/modules/standard"\n\nfunc main() { caddycmd.Main() }\n');
    writeFileSync(join(mod, 'go.mod'), 'module caddybench\n\ngo 1.25\n');
    const go = (...a: string[]) => execFileSync('go', a, { cwd: mod, env, stdio: ['ignore', 'inherit', 'inherit'] });
    go('get', `github.com/caddyserver/caddy/v2@${CADDY_VERSION}`);
    go('mod', 'edit', '-replace', 'golang.org/x/crypto/x509roots/fallback=golang.org/x/crypto/x509roots/fallback@latest');
    go('mod', 'tidy');
    go('build', '-o', bin, '.');
  }
  return bin;
}

function phpFpmBinary(): string {
  const found = readdirSync('/usr/sbin').filter((f) => /^php-fpm[\d.]*$/.test(f)).sort().reverse();
  if (!found[0]) throw new Error('php-fpm not installed (apt-get install php-fpm)');
  return join('/usr/sbin', found[0]);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'qs-php-bench-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const www = join(dir, 'www');
  mkdirSync(www);
  writeFileSync(join(www, 'index.php'), '<?php echo "Hello, world!\\n";\n');
  writeFileSync(join(www, 'static.txt'), 'x'.repeat(1024));
  // php-fpm: one pool on TCP, a fixed number of workers, shared by both servers.
  const fpmPort = await freePort();
  writeFileSync(join(dir, 'fpm.conf'), [
    '[global]', `pid = ${join(dir, 'fpm.pid')}`, `error_log = ${join(dir, 'fpm.log')}`, 'daemonize = no',
    '[bench]', `listen = 127.0.0.1:${fpmPort}`, 'listen.backlog = 4096', 'pm = static', `pm.max_children = ${WORKERS}`,
  ].join('\n') + '\n');
  const fpmArgs = ['--nodaemonize', '--fpm-config', join(dir, 'fpm.conf')];
  if (process.getuid?.() === 0) fpmArgs.push('--allow-to-run-as-root');
  startChild(phpFpmBinary(), fpmArgs);

  const caddyfile = (port: number, extra: string, block = '') => `{\n\tadmin off\n${extra}}\n:${port} {\n\troot * ${www}\n\tphp_fastcgi 127.0.0.1:${fpmPort}${block}\n\tfile_server\n}\n`;
  const quicksilver = (name: string, block: string) => ({
    name,
    start: async () => {
      const port = await freePort();
      const file = join(dir, `${name}.Caddyfile`);
      writeFileSync(file, caddyfile(port, '', block));
      startChild(join(ROOT, 'bin', 'quicksilver'), ['run', '--config', file]);
      return `http://127.0.0.1:${port}`;
    },
  });
  // As written for Caddy; then with max_conns = the pool's workers (quicksilver's own option: all connections kept alive).
  const servers: { name: string; start: () => Promise<string> }[] = [
    quicksilver('quicksilver', ''),
    quicksilver('quicksilver-max_conns', ` {\n\t\tmax_conns ${WORKERS}\n\t}`),
  ];
  if (opts.caddy) {
    const bin = caddyBinary();
    servers.push({
      name: `caddy-${CADDY_VERSION}`,
      start: async () => {
        const port = await freePort();
        const file = join(dir, 'caddy.Caddyfile');
        writeFileSync(file, caddyfile(port, '\tauto_https off\n'));
        startChild(bin, ['run', '--config', file, '--adapter', 'caddyfile'], { ...process.env, XDG_DATA_HOME: join(dir, 'caddy-data'), XDG_CONFIG_HOME: join(dir, 'caddy-config') });
        return `http://127.0.0.1:${port}`;
      },
    });
  }

  const rounds: Record<string, Record<string, Measure>>[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const results: Record<string, Record<string, Measure>> = {};
    for (const s of servers) {
      const origin = await s.start();
      await waitReady(`${origin}/static.txt`);
      await waitReady(`${origin}/index.php`);
      results[s.name] = {};
      for (const [label, path] of [['php_hello', '/index.php'], ['static_1k', '/static.txt']] as const) {
        await load(origin, path, 2000);
        const m = await load(origin, path, DURATION_S * 1000);
        results[s.name]![label] = m;
        log(`#${round + 1} ${s.name.padEnd(22)} ${label.padEnd(10)} ${String(m.rps).padStart(7)} req/s  p50 ${m.latency_ms.p50} ms  p99 ${m.latency_ms.p99} ms  errors ${m.errors}`);
      }
      const c = children.pop()!;
      try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ }
    }
    rounds.push(results);
  }
  const median = (xs: number[]) => { const v = [...xs].sort((a, b) => a - b); return v[Math.floor((v.length - 1) / 2)]!; };
  const summary: Record<string, Record<string, { rps: number; p99_ms: number; errors: number }>> = {};
  for (const s of servers) {
    summary[s.name] = {};
    for (const label of ['php_hello', 'static_1k']) {
      const ms = rounds.map((r) => r[s.name]![label]!);
      summary[s.name]![label] = { rps: median(ms.map((m) => m.rps)), p99_ms: median(ms.map((m) => m.latency_ms.p99)), errors: ms.reduce((a, m) => a + m.errors, 0) };
      log(`median ${s.name.padEnd(22)} ${label.padEnd(10)} ${summary[s.name]![label]!.rps} req/s  p99 ${summary[s.name]![label]!.p99_ms} ms`);
    }
  }
  const report = {
    bench: 'php-front',
    time: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '' },
    params: { duration_s: DURATION_S, connections: CONNECTIONS, php_fpm_workers: WORKERS, rounds: ROUNDS, php_fpm: 'TCP 127.0.0.1, pm static' },
    summary,
    rounds,
  };
  const out = join(ROOT, 'bench', 'out');
  mkdirSync(out, { recursive: true });
  const stamp = report.time.replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  writeFileSync(join(out, `php-front-${stamp}.json`), JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().then(() => process.exit(0), (err: unknown) => { log(String((err as Error)?.stack ?? err)); process.exit(1); });
