/**
 * `quicksilver start`: as `caddy start`, runs `quicksilver run` with the same
 * flags in the background, its logs on this terminal, and returns once it
 * serves (exit 0, with its pid) or once it fails (exit 1, its error logged).
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { QsError } from '../host/errors.ts';
import type { Flags } from './args.ts';

export async function startCommand(f: Flags): Promise<number> {
  const args = ['run'];
  for (const [k, v] of Object.entries(f)) {
    if (v === true) args.push(`--${k}`);
    else if (typeof v === 'string') args.push(`--${k}=${v}`);
  }
  const child = fork(join(import.meta.dirname, 'main.ts'), args, {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  const outcome = await new Promise<{ ready: true } | { code: number | null; signal: string | null }>((resolve) => {
    child.once('message', () => resolve({ ready: true }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  if (!('ready' in outcome)) {
    throw new QsError('ERR_CLI_USAGE', `quicksilver process exited with error: ${outcome.signal ? `signal ${outcome.signal}` : `exit status ${outcome.code}`}`);
  }
  child.disconnect();
  child.unref();
  process.stdout.write(`Successfully started Quicksilver (pid=${child.pid}) - Quicksilver is running in the background\n`);
  return 0;
}
