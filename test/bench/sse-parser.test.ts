import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, type SseSink } from '../../bench/sse-parser.ts';
import { ResponseReader } from '../../bench/http-response.ts';
import { decodePayload, encodePayload, type Decoded } from '../../bench/payload.ts';

function collect(): SseSink & { got: [number, number, number][] } {
  const got: [number, number, number][] = [];
  return { got, onEvent: (sub, seq, sent) => { got.push([sub, seq, sent]); } };
}

/** Feeds `text` to a parser split at every possible single cut and in 1-byte pieces; all must agree. */
function parseAllWays(text: string): [number, number, number][][] {
  const bytes = Buffer.from(text);
  const runs: [number, number, number][][] = [];
  for (let cut = 0; cut <= bytes.length; cut++) {
    const sink = collect();
    const p = new SseParser(7, sink);
    p.push(bytes, 0, cut);
    p.push(bytes, cut, bytes.length);
    runs.push(sink.got);
  }
  const sink = collect();
  const p = new SseParser(7, sink);
  for (let i = 0; i < bytes.length; i++) p.push(bytes, i, i + 1);
  runs.push(sink.got);
  return runs;
}

test('payload round trip and rejection of foreign data', () => {
  const out: Decoded = { seq: 0, sentMs: 0 };
  const b = Buffer.from(encodePayload(42, 1234.5678, 100));
  assert.equal(b.length, 100);
  decodePayload(b, 0, b.length, out);
  assert.equal(out.seq, 42);
  assert.ok(Math.abs(out.sentMs - 1234.568) < 1e-9);
  for (const bad of ['', 'hello', '12', '12 ', '12 x', '{"a":1}', ' 12 3.4', '12 3.4y']) {
    const bb = Buffer.from(bad);
    decodePayload(bb, 0, bb.length, out);
    assert.equal(out.seq, -1, bad);
  }
  const plain = Buffer.from('7 99');
  decodePayload(plain, 0, plain.length, out);
  assert.deepEqual(out, { seq: 7, sentMs: 99 });
});

test('parses Mercure events however the bytes are split', () => {
  const text = ':\nid: urn:uuid:1\ndata: 1 10.5\n\n:\nevent: x\nretry: 5\nid: b\ndata: 2 20.25 xxxx\ndata: more\n\nid: c\ndata: not a payload\n\n';
  for (const got of parseAllWays(text)) {
    assert.deepEqual(got, [[7, 1, 10.5], [7, 2, 20.25], [7, -1, 0]]);
  }
});

test('CRLF line ends, events without data and the last event ID', () => {
  const sink = collect();
  const p = new SseParser(0, sink);
  const b = Buffer.from('id: only-id\r\n\r\ndata: 5 1.0\r\nid: last\r\n\r\n: comment\r\n');
  p.push(b, 0, b.length);
  assert.deepEqual(sink.got, [[0, 5, 1]]);
  assert.equal(p.lastEventId, 'last');
  assert.equal(p.events, 1);
  assert.equal(p.comments, 1);
});

test('long lines are truncated in the carry buffer but still decoded', () => {
  const sink = collect();
  const p = new SseParser(1, sink);
  const line = Buffer.from(`data: ${encodePayload(9, 3.5, 3 << 20)}\n\n`);
  for (let i = 0; i < line.length; i += 1000) p.push(line, i, Math.min(line.length, i + 1000));
  assert.deepEqual(sink.got, [[1, 9, 3.5]]);
});

test('response reader: head, chunked body, zero chunk', () => {
  const body: string[] = [];
  let status = 0;
  let ended = false;
  const r = new ResponseReader({
    onHead: (s) => { status = s; },
    onBody: (buf, s, e) => { body.push(buf.toString('latin1', s, e)); },
    onEnd: () => { ended = true; },
  });
  const wire = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n:\n\r\n1b;ext=1\r\nid: a\ndata: 1 2.5\n\nabcdefgh\r\n0\r\n\r\n');
  for (let i = 0; i < wire.length; i += 3) r.push(wire, i, Math.min(wire.length, i + 3));
  assert.equal(status, 200);
  assert.equal(r.chunked, true);
  assert.equal(body.join(''), ':\nid: a\ndata: 1 2.5\n\nabcdefgh');
  assert.ok(ended);
  assert.ok(r.done);
});

test('response reader: non-chunked body and error statuses', () => {
  let body = '';
  let status = 0;
  const r = new ResponseReader({ onHead: (s) => { status = s; }, onBody: (b, s, e) => { body += b.toString('latin1', s, e); }, onEnd: () => {} });
  const wire = Buffer.from('HTTP/1.0 401 Unauthorized\r\nContent-Length: 13\r\n\r\nUnauthorized\n');
  r.push(wire, 0, wire.length);
  assert.equal(status, 401);
  assert.equal(body, 'Unauthorized\n');
  const bad = new ResponseReader({ onHead: () => {}, onBody: () => {}, onEnd: () => {} });
  assert.throws(() => bad.push(Buffer.from('SSH-2.0\r\n\r\n'), 0, 11), /bad status line/);
  const badChunk = new ResponseReader({ onHead: () => {}, onBody: () => {}, onEnd: () => {} });
  const w = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
  assert.throws(() => badChunk.push(w, 0, w.length), /bad chunk size/);
});
