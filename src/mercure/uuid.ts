/**
 * Identifiers: update IDs are `urn:uuid:` + UUID v7 (time-ordered, monotonic
 * within one process), subscriber IDs are `urn:uuid:` + UUID v4.
 */
import { randomFillSync, randomUUID } from 'node:crypto';

let lastMs = 0;
let counter = 0;

// Random bytes are drawn 4 KiB at a time: a randomBytes() call per ID cost
// ~6 µs, more than the rest of the ID (randomUUID() pools the same way).
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;

/** n fresh random bytes (a copy: the pool is refilled in place). */
function random(n: number): Buffer {
  if (poolAt + n > POOL.length) { randomFillSync(POOL); poolAt = 0; }
  const b = Buffer.from(POOL.subarray(poolAt, poolAt + n));
  poolAt += n;
  return b;
}

/** A RFC 9562 UUID v7: 48-bit Unix ms, a 12-bit monotonic counter, 62 random bits. */
export function uuidv7(now = Date.now()): string {
  const b = random(16);
  if (now <= lastMs) {
    counter++;
    if (counter > 0xfff) { lastMs++; counter = 0; }
    now = lastMs;
  } else {
    lastMs = now;
    counter = random(1)[0]! & 0x3f; // small random start leaves room to count up
  }
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A new update ID. */
export function newUpdateId(): string {
  return 'urn:uuid:' + uuidv7();
}

/**
 * A new subscriber ID. randomUUID() builds its text from ~20 concatenations,
 * which V8 keeps as a rope (~0.5 KB) for as long as the subscriber lives;
 * the round trip stores it flat (~64 B).
 */
export function newSubscriberId(): string {
  return Buffer.from('urn:uuid:' + randomUUID(), 'latin1').toString('latin1');
}
