/**
 * A managed php-fpm master (Debian's php-fpm) for `php`/`php_server`
 * without an upstream: a private runtime directory (0700) holds the
 * generated config, the FastCGI socket, the mercure_publish() prepend file
 * and its channel socket. Workers: `pm = dynamic`, `num_threads` started,
 * at most `max_threads` (FrankenPHP's defaults: twice the CPUs). `php_ini`
 * lines become php_admin_value, the server's environment is passed
 * (clear_env = no) plus the handler's `env`. The master is restarted when it
 * dies (backoff up to 5 s) and stopped (SIGQUIT, then SIGKILL) on destruct.
 * Instances live in the usage pool keyed by their settings, so a reload that
 * keeps the settings keeps the master.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { ConfigError } from '../host/errors.ts';

export interface FpmSettings {
  num_threads?: number;
  max_threads?: number | 'auto';
  max_requests?: number;
  max_idle_time?: string | number;
  php_ini?: Record<string, string>;
  env?: Record<string, string>;
}

/** The php-fpm binary: $QS_PHP_FPM, else the newest /usr/sbin/php-fpm*. */
export function findPhpFpm(): string {
  const env = process.env.QS_PHP_FPM;
  if (env) {
    if (!existsSync(env)) throw new ConfigError('ERR_CFG_VALUE', undefined, `php-fpm not found at QS_PHP_FPM=${env}; install the Debian package php-fpm (apt-get install php-fpm) or correct QS_PHP_FPM`);
    return env;
  }
  const found = existsSync('/usr/sbin') ? readdirSync('/usr/sbin').filter((f) => /^php-fpm[\d.]*$/.test(f)).sort().reverse() : [];
  if (!found.length) {
    throw new ConfigError('ERR_CFG_VALUE', undefined,
      'php_server/php need php-fpm to run PHP, and none was found in /usr/sbin; install the Debian package php-fpm (apt-get install php-fpm) or set QS_PHP_FPM');
  }
  return join('/usr/sbin', found[0]!);
}

function iniValue(v: string): string {
  return /^[\w./:-]*$/.test(v) ? v : `"${v.replace(/"/g, '\\"')}"`;
}

/** SIGKILL to a whole process group (the master's workers); a group already gone is fine. */
function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
}

export class FpmMaster {
  readonly dir: string;
  readonly socket: string;
  readonly publishSocket: string;
  readonly prependFile: string;
  readonly maxChildren: number;
  #bin: string;
  #log: Logger;
  #child: ChildProcess | undefined;
  #stopping = false;
  #backoff = 100;
  #restartTimer: NodeJS.Timeout | undefined;
  /** Resolves when the current master reported it is ready. */
  #ready: Promise<void> = Promise.resolve();
  restarts = 0;

  constructor(settings: FpmSettings, log: Logger, prependSource: string) {
    this.#bin = findPhpFpm();
    this.#log = log;
    this.dir = mkdtempSync(join(tmpdir(), 'qs-php-'));
    this.socket = join(this.dir, 'fpm.sock');
    this.publishSocket = join(this.dir, 'mercure.sock');
    this.prependFile = join(this.dir, 'prepend.php');
    const cpus = availableParallelism();
    const max = settings.max_threads === undefined || settings.max_threads === 'auto' ? Math.max(2 * cpus, settings.num_threads ?? 0) : settings.max_threads;
    const start = Math.min(settings.num_threads ?? 2 * cpus, max);
    this.maxChildren = Math.max(1, max);
    // A php_ini auto_prepend_file of the user's is chained from ours, so both run.
    const { auto_prepend_file: userPrepend, ...ini } = settings.php_ini ?? {};
    const chain = userPrepend ? `\nrequire_once ${JSON.stringify(userPrepend)};\n` : '';
    writeFileSync(this.prependFile, prependSource.replaceAll('@@SOCKET@@', this.publishSocket) + chain, { mode: 0o600 });
    const lines = [
      '[global]',
      `pid = ${join(this.dir, 'fpm.pid')}`,
      `error_log = ${join(this.dir, 'fpm.log')}`,
      'log_level = notice',
      'daemonize = no',
      '[app]',
      `listen = ${this.socket}`,
      'listen.mode = 0600',
      'pm = dynamic',
      `pm.max_children = ${this.maxChildren}`,
      `pm.start_servers = ${Math.max(1, start)}`,
      'pm.min_spare_servers = 1',
      `pm.max_spare_servers = ${Math.max(1, start)}`,
      ...(settings.max_requests ? [`pm.max_requests = ${settings.max_requests}`] : []),
      'clear_env = no',
      'catch_workers_output = yes',
      'decorate_workers_output = no',
      `php_admin_value[auto_prepend_file] = ${this.prependFile}`,
      'php_admin_value[output_buffering] = 0',
      ...Object.entries(ini).map(([k, v]) => `php_admin_value[${k}] = ${iniValue(v)}`),
      ...Object.entries(settings.env ?? {}).map(([k, v]) => `env[${k}] = ${iniValue(v)}`),
    ];
    writeFileSync(join(this.dir, 'php-fpm.conf'), lines.join('\n') + '\n', { mode: 0o600 });
  }

  /** Starts the master; resolves once it accepts connections. */
  start(): Promise<void> {
    this.#spawn();
    return this.#ready;
  }

  /** Waits for the running (or restarting) master to be ready. */
  ready(): Promise<void> { return this.#ready; }

  get pid(): number | undefined { return this.#child?.pid; }

  #spawn(): void {
    const args = ['--nodaemonize', '--force-stderr', '--fpm-config', join(this.dir, 'php-fpm.conf')];
    if (process.getuid?.() === 0) args.push('--allow-to-run-as-root');
    // A process group of its own: when the master dies its workers are ended with it, never orphaned.
    const child = spawn(this.#bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.#child = child;
    let onReady!: () => void;
    let onFail!: (e: Error) => void;
    this.#ready = new Promise<void>((res, rej) => { onReady = res; onFail = rej; });
    this.#ready.catch(() => undefined);
    const lines = createInterface({ input: child.stderr! });
    lines.on('line', (line) => {
      if (/ready to handle connections/.test(line)) {
        this.#backoff = 100;
        if (this.restarts) this.#log.info({ pid: child.pid, restarts: this.restarts }, 'php-fpm restarted');
        onReady();
      }
      if (/ERROR|ALERT|WARNING|Fatal|Warning/.test(line)) this.#log.warn({ pid: child.pid }, line);
      else this.#log.debug({ pid: child.pid }, line);
    });
    child.stdout!.resume();
    child.once('error', (e) => onFail(e));
    child.once('exit', (code, signal) => {
      onFail(new Error(`php-fpm exited (code ${code}, signal ${signal}) before it was ready`));
      if (this.#child === child) this.#child = undefined;
      killGroup(child.pid);
      if (this.#stopping) return;
      this.restarts++;
      this.#log.error({ code, signal, restart_in_ms: this.#backoff }, 'php-fpm master died; restarting it');
      this.#restartTimer = setTimeout(() => { this.#restartTimer = undefined; if (!this.#stopping) this.#spawn(); }, this.#backoff);
      this.#backoff = Math.min(this.#backoff * 2, 5000);
    });
  }

  /** Stops the master (graceful SIGQUIT, SIGKILL after graceMs) and removes the runtime directory. */
  async destruct(graceMs = 3000): Promise<void> {
    this.#stopping = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGQUIT');
      const t = setTimeout(() => killGroup(child.pid), graceMs);
      await exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
