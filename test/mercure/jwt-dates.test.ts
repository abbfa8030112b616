/**
 * JWT `exp` / `nbf` / `iat` that no date can hold are refused (an infinite
 * `exp` would never expire), and a far but valid `exp` does not break the
 * stream clock (setTimeout's 2^31-1 ms cap).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { decodeClaims } from '../../src/mercure/jwt.ts';
import { deadlines, type Deadlined } from '../../src/mercure/stream-clock.ts';
import { HUB, S, baseConfig, http, startHub } from './harness.ts';

const NOW = Date.UTC(2026, 0, 1);

test('NumericDates out of any date range are refused; the largest usual ones pass', () => {
  for (const [name, payload] of [
    ['exp Infinity (JSON 1e309)', { exp: Infinity }],
    ['exp 1e300', { exp: 1e300 }],
    ['exp "1e400" (json.Number form)', { exp: '1e400' }],
    ['nbf -1e300', { nbf: -1e300 }],
    ['nbf -Infinity', { nbf: -Infinity }],
    ['iat 1e20', { iat: 1e20 }],
  ] as const) {
    assert.throws(() => decodeClaims(payload, NOW), /NumericDate out of range/, name);
  }
  assert.equal(decodeClaims({ exp: 4102444800 }, NOW).exp, 4102444800); // 2100, the dev token's
  assert.equal(decodeClaims({ exp: 8.64e12 }, NOW).exp, 8.64e12); // the last second a Date can hold
  assert.doesNotThrow(() => decodeClaims({ nbf: 0, iat: '1700000000' }, NOW));
});

/** An HS256 token over a raw JSON payload (to carry numbers JSON.stringify cannot write). */
function rawToken(key: string, payloadJson: string): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  const input = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(payloadJson)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

test('a subscriber token with exp 1e309 is refused with 401', async (t) => {
  const h = await startHub(baseConfig());
  t.after(() => h.close());
  for (const claim of ['"exp":1e309', '"exp":1e300', '"nbf":-1e309']) {
    const token = rawToken(S, `{${claim},"mercure":{"subscribe":["*"]}}`);
    // An accepted token would open a stream that never ends: fail instead of hanging.
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      http(`${h.url}${HUB}?topic=x`, { headers: { Authorization: `Bearer ${token}` } }),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${claim}: the token was accepted (a stream opened)`)), 20_000); }),
    ]).finally(() => clearTimeout(timer));
    assert.deepEqual([r.status, r.body], [401, 'Unauthorized\n'], claim);
  }
});

test('a deadline weeks away arms a capped timer: no TimeoutOverflowWarning, not fired early', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  let fired = 0;
  const far: Deadlined = { deadlineAt: 0, deadlineIndex: -1, deadline: () => { fired++; } };
  try {
    deadlines.add(far, performance.now() + 40 * 24 * 3600 * 1000);
    // Warnings are emitted on the next tick; a 1 ms timer (what an overflowing delay becomes) fires within a few turns.
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 2));
    assert.deepEqual(warnings.filter((w) => w === 'TimeoutOverflowWarning'), []);
    assert.equal(fired, 0);
  } finally {
    deadlines.remove(far);
    process.off('warning', onWarning);
  }
});
