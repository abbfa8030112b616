/**
 * The update body the harness publishes, and its allocation-free decoder.
 *
 * Format (ASCII, one line): `<seq> <sentMs>[ <padding>]`, where `seq` is a
 * non-negative integer and `sentMs` is the publisher's `performance.now()` at
 * send time with 3 decimals. Subscribers live in the same process, so the two
 * clocks are the same clock and `now - sentMs` is the end-to-end latency.
 */

/** Reusable decode result; `seq` is -1 when the bytes are not a harness payload. */
export interface Decoded {
  seq: number;
  sentMs: number;
}

/** Builds a payload of at least `size` bytes (padding with `x`). */
export function encodePayload(seq: number, sentMs: number, size = 0): string {
  const head = `${seq} ${sentMs.toFixed(3)}`;
  return head.length + 1 < size ? `${head} ${'x'.repeat(size - head.length - 1)}` : head;
}

/**
 * Decodes `buf[start..end)` into `out` without allocating. Stops at the
 * first byte after the timestamp, so padding costs nothing.
 */
export function decodePayload(buf: Uint8Array, start: number, end: number, out: Decoded): void {
  out.seq = -1;
  out.sentMs = 0;
  let i = start;
  let seq = 0;
  const seqStart = i;
  while (i < end) {
    const c = buf[i]!;
    if (c < 48 || c > 57) break;
    seq = seq * 10 + (c - 48);
    i++;
  }
  if (i === seqStart || i - seqStart > 15 || i >= end || buf[i] !== 32) return;
  i++;
  let whole = 0;
  const wholeStart = i;
  while (i < end) {
    const c = buf[i]!;
    if (c < 48 || c > 57) break;
    whole = whole * 10 + (c - 48);
    i++;
  }
  if (i === wholeStart) return;
  let frac = 0;
  let scale = 1;
  if (i < end && buf[i] === 46) {
    i++;
    while (i < end) {
      const c = buf[i]!;
      if (c < 48 || c > 57) break;
      if (scale < 1e9) { frac = frac * 10 + (c - 48); scale *= 10; }
      i++;
    }
  }
  if (i < end && buf[i] !== 32) return;
  out.seq = seq;
  out.sentMs = whole + frac / scale;
}
