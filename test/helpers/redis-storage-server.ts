/**
 * A Redis Sentinel for the storage's `failover` client type: redis-server in
 * sentinel mode, monitoring one master as `mymaster`, on a free port in its own
 * temp dir. Ready when it logs "+monitor master" (no sleeps). The master itself
 * comes from test/helpers/redis-server.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type RedisServer } from './redis-server.ts';

export interface Sentinel { port: number; address: string; masterName: string; stop(): Promise<void> }

/** Starts a sentinel (quorum 1) watching master. `password` = the master's requirepass, if any. */
export async function startSentinel(master: RedisServer, masterName = 'mymaster', password?: string): Promise<Sentinel> {
  const dir = await mkdtemp(join(tmpdir(), 'qs-sentinel-'));
  const port = await freePort();
  const conf = [
    `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
    `sentinel monitor ${masterName} ${master.host} ${master.port} 1`,
    ...(password ? [`sentinel auth-pass ${masterName} ${password}`] : []),
  ].join('\n') + '\n';
  await writeFile(join(dir, 'sentinel.conf'), conf);
  const child: ChildProcess = spawn('/usr/bin/redis-server', [join(dir, 'sentinel.conf'), '--sentinel'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer) => {
      log += b.toString();
      if (log.includes('+monitor master')) { child.stdout!.off('data', onData); resolve(); }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`sentinel exited (${code}) before ready:\n${log}`)));
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    port, address: `127.0.0.1:${port}`, masterName,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
