import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatEvent, serializeUpdate, STREAM_START, HEARTBEAT } from '../../../src/transports/core/event.ts';
import type { Update } from '../../../src/transports/core/contract.ts';

const u = (over: Partial<Update>): Update => ({ id: 'id', topics: ['t'], data: '', private: false, ...over });

test('§2.2 vector: type, retry, id and CR/LF/CRLF split', () => {
  const bytes = serializeUpdate(u({ data: 'several\nlines\rwith\r\neol', id: 'custom-id', type: 'type', retry: 5 }));
  assert.ok(Buffer.isBuffer(bytes));
  assert.equal(bytes.toString(), 'event: type\nretry: 5\nid: custom-id\ndata: several\ndata: lines\ndata: with\ndata: eol\n\n');
});

test('§2.2: empty data gives exactly one empty data line', () => {
  assert.equal(formatEvent(u({ id: 'a', data: '' })), 'id: a\ndata: \n\n');
});

test('§2.2: trailing newline yields a final empty data line', () => {
  assert.equal(formatEvent(u({ id: 'a', data: 'x\n' })), 'id: a\ndata: x\ndata: \n\n');
  assert.equal(formatEvent(u({ id: 'a', data: '\r\n\r\n' })), 'id: a\ndata: \ndata: \ndata: \n\n');
});

test('§2.2 transcripts: plain, typed and retried events', () => {
  assert.equal(formatEvent(u({ id: 'b', data: 'Hello World' })), 'id: b\ndata: Hello World\n\n');
  assert.equal(formatEvent(u({ id: 'b', data: 'Hello World', type: 'test' })), 'event: test\nid: b\ndata: Hello World\n\n');
  assert.equal(formatEvent(u({ id: 'c', data: 'Great', retry: 1 })), 'retry: 1\nid: c\ndata: Great\n\n');
  assert.equal(formatEvent(u({ id: 'c', data: 'Great', retry: 0, type: '' })), 'id: c\ndata: Great\n\n');
});

test('UTF-8 payloads are encoded once into bytes', () => {
  const bytes = serializeUpdate(u({ id: 'é', data: '😀' }));
  assert.deepEqual(bytes, Buffer.from('id: é\ndata: 😀\n\n', 'utf8'));
});

test('§2.1/§2.3: stream start and heartbeat are a bare comment', () => {
  assert.equal(STREAM_START.toString(), ':\n');
  assert.equal(HEARTBEAT.toString(), ':\n');
});
