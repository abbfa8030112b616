/**
 * A real php-fpm (Debian's php-fpm) for php_fastcgi tests: its own master in
 * the foreground as our child, in a temp dir, listening on a free TCP port or
 * a unix socket; ready when it logs "ready to handle connections" (no sleep).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export function phpFpmBinary(): string | undefined {
  const found = existsSync('/usr/sbin') ? readdirSync('/usr/sbin').filter((f) => /^php-fpm[\d.]*$/.test(f)).sort().reverse() : [];
  return found[0] ? join('/usr/sbin', found[0]) : undefined;
}

/** undefined when php-fpm can run here, else why the test is skipped. */
export function phpFpmSkipReason(): string | undefined {
  return phpFpmBinary() ? undefined : 'php-fpm not installed (apt-get install php-fpm; scripts/services.sh does it)';
}

export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  return port;
}

export interface PhpFpmServer {
  /** The reverse_proxy upstream: `127.0.0.1:<port>` or `unix//path`. */
  upstream: string;
  proc: ChildProcess;
  /** What the master wrote to its error log (stderr). */
  log: string[];
  stop(): Promise<void>;
}

export async function startPhpFpm(opts: { unix?: boolean; workers?: number } = {}): Promise<PhpFpmServer> {
  const bin = phpFpmBinary();
  if (!bin) throw new Error(phpFpmSkipReason());
  const dir = mkdtempSync(join(tmpdir(), 'qs-fpm-test-'));
  const listen = opts.unix ? join(dir, 'fpm.sock') : `127.0.0.1:${await freePort()}`;
  const conf = [
    '[global]', `pid = ${join(dir, 'fpm.pid')}`, `error_log = ${join(dir, 'fpm.log')}`, 'daemonize = no',
    '[test]', `listen = ${listen}`, 'pm = static', `pm.max_children = ${opts.workers ?? 4}`,
    'catch_workers_output = yes', 'clear_env = no',
    'php_admin_value[post_max_size] = 64M', 'php_admin_value[upload_max_filesize] = 64M', 'php_admin_value[output_buffering] = 0',
  ].join('\n');
  writeFileSync(join(dir, 'php-fpm.conf'), conf + '\n');
  const args = ['--nodaemonize', '--force-stderr', '--fpm-config', join(dir, 'php-fpm.conf')];
  if (process.getuid?.() === 0) args.push('--allow-to-run-as-root');
  // Its own process group, so stop() also ends the workers (a killed master would leave them running).
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const log: string[] = [];
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: proc.stderr! }).on('line', (l) => { log.push(l); if (l.includes('ready to handle connections')) resolve(); });
    proc.once('exit', (code) => reject(new Error(`php-fpm exited with ${code}: ${log.join('\n')}`)));
  });
  return {
    upstream: opts.unix ? `unix/${listen}` : listen,
    proc,
    log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = once(proc, 'exit');
        process.kill(-proc.pid!, 'SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
