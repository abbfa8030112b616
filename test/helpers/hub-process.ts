/**
 * Starts real `quicksilver run` processes for end-to-end tests: writes the
 * Caddyfile to a temp dir, forks src/cli/main.ts on the current Node (24) with
 * an IPC channel, and resolves once the process reports it is ready.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

/**
 * A free TCP port for a hub to listen on. Picked below Linux's ephemeral range
 * (32768+), so a client socket of this or another test cannot take it between
 * this check and the hub's bind; checked free on all interfaces.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const s = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.listen(port, () => resolve(true));
    });
    if (ok) { await new Promise<void>((r) => s.close(() => r())); return port; }
  }
}

export interface HubProcess {
  child: ChildProcess;
  pid: number;
  dir: string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<number | string>;
}

export interface StartOptions {
  env?: Record<string, string>; args?: string[]; dir?: string; file?: string;
  /** The CLI arguments instead of `run --config <file> …args` (e.g. `run --adapter mercure`); the file is still written. */
  command?: string[];
}

/** Starts a hub with the given Caddyfile text; rejects with its stderr if it exits before ready. */
export async function startHub(caddyfile: string, opts: StartOptions = {}): Promise<HubProcess> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'qs-hub-'));
  const file = join(dir, opts.file ?? 'Caddyfile');
  writeFileSync(file, caddyfile);
  const child = fork(MAIN, opts.command ?? ['run', '--config', file, ...(opts.args ?? [])], {
    cwd: dir,
    env: { ...process.env, XDG_DATA_HOME: join(dir, 'data'), QS_LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    execArgv: ['--disable-warning=ExperimentalWarning'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  child.stdout!.resume();
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  const ready = new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    exited.then((code) => reject(new Error(`hub exited (${code}) before ready:\n${err}`)));
  });
  await ready;
  return {
    child, pid: child.pid!, dir, exited,
    stderr: () => err,
    kill: (signal = 'SIGKILL') => { child.kill(signal); },
    stop: async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); return exited; },
  };
}

/** Runs `quicksilver <args>` to its end in cwd; the exit code and both outputs (never throws on a non-zero exit). */
export async function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = { ...process.env }): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN, ...args], { cwd, env });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}
