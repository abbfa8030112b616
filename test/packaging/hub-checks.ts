/**
 * Probe-style checks shared by the packaging tests: launch a packaged hub
 * (binary or image root file system), wait for its IPC "ready" message, then
 * publish, subscribe and replay through it, check its health endpoint, and
 * stop it with SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { SignJWT } from 'jose';
import { SseClient } from '../helpers/sse.ts';

export const DEV_KEY = '!ChangeThisMercureHubJWTSecretKey!';

export interface Launched {
  child: ChildProcess;
  exited: Promise<number | string>;
  stderr(): string;
  /** SIGTERM, then the exit code (or signal name). */
  stop(): Promise<number | string>;
}

/** Spawns cmd with an IPC channel and resolves once the hub reports ready; rejects with its stderr if it exits first. */
export async function launch(cmd: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<Launched> {
  const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => { err += c; });
  child.stdout!.resume();
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('error', reject);
    exited.then((code) => reject(new Error(`${cmd} exited (${code}) before ready:\n${err}`)));
  });
  return {
    child, exited,
    stderr: () => err,
    stop: async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); return exited; },
  };
}

export function token(key: string, claim: { publish?: string[]; subscribe?: string[] }): Promise<string> {
  return new SignJWT({ mercure: claim }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(key));
}

export interface Endpoints {
  /** e.g. http://127.0.0.1:PORT/.well-known/mercure */
  hub: string;
  /** e.g. http://127.0.0.1:PORT (the admin endpoint) */
  admin: string;
  publisherKey: string;
  subscriberKey: string;
}

/** Health, publish, live delivery and Last-Event-ID replay (the transport must keep history, e.g. bolt). */
export async function hubChecks(e: Endpoints): Promise<void> {
  const ready = await fetch(`${e.admin}/mercure/health/ready`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { status: 'ok' });
  const live = await fetch(`${e.admin}/mercure/health/live`);
  assert.equal(live.status, 200);
  await live.arrayBuffer();

  const topic = `https://example.com/packaging/${Date.now()}`;
  const pub = await token(e.publisherKey, { publish: ['*'] });
  const sub = await token(e.subscriberKey, { subscribe: ['*'] });
  const unauthorised = await fetch(e.hub, { method: 'POST', body: new URLSearchParams({ topic, data: 'x' }) });
  assert.equal(unauthorised.status, 401, 'publishing without a token is refused');
  await unauthorised.arrayBuffer();

  const stream = await SseClient.open(`${e.hub}?topic=${encodeURIComponent(topic)}`, { Authorization: `Bearer ${sub}` });
  try {
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const res = await fetch(e.hub, {
        method: 'POST',
        headers: { Authorization: `Bearer ${pub}` },
        body: new URLSearchParams({ topic, data: `update ${n}`, id: `urn:qs:packaging:${n}` }),
      });
      assert.equal(res.status, 200);
      ids.push(await res.text());
    }
    assert.deepEqual(ids, ['urn:qs:packaging:1', 'urn:qs:packaging:2', 'urn:qs:packaging:3']);
    const got = await stream.count(3);
    assert.deepEqual(got.map((ev) => [ev.id, ev.data]), ids.map((id, i) => [id, `update ${i + 1}`]));
  } finally {
    stream.close();
  }

  const replay = await SseClient.open(`${e.hub}?topic=${encodeURIComponent(topic)}`, {
    Authorization: `Bearer ${sub}`, 'Last-Event-ID': 'urn:qs:packaging:1',
  });
  try {
    assert.equal(replay.res.headers['last-event-id'], 'urn:qs:packaging:1');
    const got = await replay.count(2);
    assert.deepEqual(got.map((ev) => ev.data), ['update 2', 'update 3']);
  } finally {
    replay.close();
  }
}

/** SIGTERM stops the hub gracefully: an open stream ends and the process exits 0. */
export async function gracefulStop(hub: Launched, e: Endpoints): Promise<void> {
  const sub = await token(e.subscriberKey, { subscribe: ['*'] });
  const stream = await SseClient.open(`${e.hub}?topic=${encodeURIComponent('https://example.com/stop')}`, { Authorization: `Bearer ${sub}` });
  const code = await hub.stop();
  assert.equal(code, 0, `exit code after SIGTERM; stderr:\n${hub.stderr()}`);
  await stream.closed;
  assert.ok(stream.ended, 'the open stream ends on SIGTERM');
}
