/**
 * A minimal, allocation-light `text/event-stream` parser for the harness.
 *
 * It understands exactly what a benchmark needs: `data:` (the first data line
 * of an event is decoded as a harness payload, see payload.ts), `id:` (kept
 * as bytes, decoded only when asked), comments (`:` heartbeats) and the blank
 * line that ends an event. Other fields (`event:`, `retry:`) are skipped.
 * Lines end with LF or CRLF (Mercure hubs write LF); a lone CR is not a line
 * end here. Input arrives as byte ranges of a shared read buffer; only a line
 * split across two reads is copied, into a per-connection carry buffer.
 */
import { decodePayload, type Decoded } from './payload.ts';

/** Receives every complete event; `seq` is -1 for events that carry no harness payload. */
export interface SseSink {
  onEvent(sub: number, seq: number, sentMs: number): void;
}

const MAX_CARRY = 1 << 20; // longer lines are truncated: only their start is ever decoded
const scratch: Decoded = { seq: -1, sentMs: 0 };

/** Incremental SSE parser for one stream. */
export class SseParser {
  /** Index of the subscriber this stream belongs to, passed back to the sink. */
  readonly sub: number;
  readonly sink: SseSink;
  /** Events dispatched (with at least one data line). */
  events = 0;
  /** Comment lines (heartbeats, the initial `:`). */
  comments = 0;
  #carry: Buffer | null = null;
  #carryLen = 0;
  #hasData = false;
  #seq = -1;
  #sent = 0;
  #id: Buffer | null = null;
  #idLen = -1;

  constructor(sub: number, sink: SseSink) {
    this.sub = sub;
    this.sink = sink;
  }

  /** The last `id:` seen (SSE's last event ID), or undefined. */
  get lastEventId(): string | undefined {
    return this.#idLen < 0 || !this.#id ? undefined : this.#id.toString('utf8', 0, this.#idLen);
  }

  /** Feeds `buf[start..end)`. */
  push(buf: Buffer, start: number, end: number): void {
    let pos = start;
    while (pos < end) {
      let nl = buf.indexOf(10, pos);
      if (nl === -1 || nl >= end) {
        this.#append(buf, pos, end);
        return;
      }
      if (this.#carryLen > 0) {
        this.#append(buf, pos, nl);
        const carry = this.#carry!;
        const len = this.#carryLen;
        this.#carryLen = 0;
        this.#line(carry, 0, len);
      } else {
        this.#line(buf, pos, nl);
      }
      pos = nl + 1;
    }
  }

  #append(buf: Buffer, start: number, end: number): void {
    const need = this.#carryLen + (end - start);
    if (!this.#carry || this.#carry.length < Math.min(need, MAX_CARRY)) {
      const next = Buffer.allocUnsafe(Math.min(MAX_CARRY, Math.max(256, need * 2)));
      if (this.#carry) this.#carry.copy(next, 0, 0, this.#carryLen);
      this.#carry = next;
    }
    const room = this.#carry.length - this.#carryLen;
    const n = Math.min(room, end - start);
    if (n > 0) buf.copy(this.#carry, this.#carryLen, start, start + n);
    this.#carryLen += n;
  }

  #line(buf: Buffer, start: number, end: number): void {
    if (end > start && buf[end - 1] === 13) end--;
    if (end === start) {
      if (this.#hasData) {
        this.events++;
        const seq = this.#seq;
        const sent = this.#sent;
        this.#hasData = false;
        this.#seq = -1;
        this.sink.onEvent(this.sub, seq, sent);
      }
      return;
    }
    const c = buf[start];
    if (c === 58) { // ':'
      this.comments++;
      return;
    }
    if (c === 100 && end - start >= 5 && buf[start + 1] === 97 && buf[start + 2] === 116 && buf[start + 3] === 97 && buf[start + 4] === 58) { // 'data:'
      if (this.#hasData) return; // only the first data line carries the payload
      this.#hasData = true;
      let v = start + 5;
      if (v < end && buf[v] === 32) v++;
      decodePayload(buf, v, end, scratch);
      this.#seq = scratch.seq;
      this.#sent = scratch.sentMs;
      return;
    }
    if (c === 105 && end - start >= 3 && buf[start + 1] === 100 && buf[start + 2] === 58) { // 'id:'
      let v = start + 3;
      if (v < end && buf[v] === 32) v++;
      const len = Math.min(end - v, 1024);
      if (!this.#id || this.#id.length < len) this.#id = Buffer.allocUnsafe(Math.max(64, len));
      buf.copy(this.#id, 0, v, v + len);
      this.#idLen = len;
    }
  }
}
