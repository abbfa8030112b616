/**
 * The bytes a flush hands to a stream, built once and shared. Loopback write
 * syscalls cost ~10 µs each here, far more than building bytes, so a stream
 * gets everything queued since its last flush in ONE write; and since a
 * broadcast gives every subscriber the same events in the same tick, the
 * batch is built once for all of them (a one-entry memo, reset each round).
 *
 * HTTP/1.1 chunked streams are written straight to their socket, so their
 * batch carries the chunk framing itself: `<hex length>\r\n<events>\r\n`.
 */

/** The heartbeat comment as one HTTP/1.1 chunk. */
export const HEARTBEAT_CHUNK: Buffer = Buffer.from('2\r\n:\n\r\n', 'latin1');

/** Remembers the last batch built, by the identity of its parts. */
class BatchMemo {
  readonly #framed: boolean;
  #parts: Buffer[] = [];
  #out: Buffer | undefined;

  constructor(framed: boolean) { this.#framed = framed; }

  get(parts: readonly Buffer[], bytes: number): Buffer {
    if (!this.#framed && parts.length === 1) return parts[0]!;
    if (this.#out !== undefined && same(parts, this.#parts)) return this.#out;
    const out = this.#framed ? frame(parts, bytes) : Buffer.concat(parts as Buffer[], bytes);
    this.#parts = parts.slice();
    this.#out = out;
    return out;
  }

  reset(): void {
    if (this.#out === undefined) return;
    this.#parts = [];
    this.#out = undefined;
  }
}

function same(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One HTTP/1.1 chunk holding every part. */
export function frame(parts: readonly Buffer[], bytes: number): Buffer {
  const head = bytes.toString(16);
  const out = Buffer.allocUnsafe(head.length + bytes + 4);
  let o = out.write(head, 0, 'latin1');
  out[o++] = 13; out[o++] = 10;
  for (const p of parts) o += p.copy(out, o);
  out[o++] = 13; out[o] = 10;
  return out;
}

const framedMemo = new BatchMemo(true);
const plainMemo = new BatchMemo(false);

/** The parts as one chunk-framed Buffer (shared with other streams given the same parts). */
export function framedBatch(parts: readonly Buffer[], bytes: number): Buffer {
  return framedMemo.get(parts, bytes);
}

/** The parts as one Buffer, unframed (for writes through ServerResponse). */
export function plainBatch(parts: readonly Buffer[], bytes: number): Buffer {
  return plainMemo.get(parts, bytes);
}

/** Forgets the memoised batches (end of a flush round), so they are not retained. */
export function resetBatches(): void {
  framedMemo.reset();
  plainMemo.reset();
}
