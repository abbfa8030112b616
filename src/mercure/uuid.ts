/**
 * Identifiers: update IDs are `urn:uuid:` + UUID v7 (time-ordered, monotonic
 * within one process), subscriber IDs are `urn:uuid:` + UUID v4.
 */
import { randomBytes, randomUUID } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/** A RFC 9562 UUID v7: 48-bit Unix ms, a 12-bit monotonic counter, 62 random bits. */
export function uuidv7(now = Date.now()): string {
  if (now <= lastMs) {
    counter++;
    if (counter > 0xfff) { lastMs++; counter = 0; }
    now = lastMs;
  } else {
    lastMs = now;
    counter = randomBytes(1)[0]! & 0x3f; // small random start leaves room to count up
  }
  const b = randomBytes(16);
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

/** A new subscriber ID. */
export function newSubscriberId(): string {
  return 'urn:uuid:' + randomUUID();
}
