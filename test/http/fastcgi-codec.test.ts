/**
 * The FastCGI codec and the CGI response parser, on bytes: name-value pair
 * lengths (1 and 4 bytes), records cut at the content limit and padded to 8,
 * an incremental reader fed one byte at a time, the version check, and CGI
 * heads with LF or CRLF, Status, repeated headers, a head split across chunks.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { CgiResponseParser } from '../../src/http/reverse-proxy/fastcgi/cgi-response.ts';
import { splitPos, safeJoin } from '../../src/http/reverse-proxy/fastcgi/cgi-env.ts';
import {
  decodeEndRequest, decodeParams, encodeBeginRequest, encodeParams, encodeRecords, MAX_CONTENT, PARAMS, RecordReader, STDIN,
} from '../../src/http/reverse-proxy/fastcgi/codec.ts';

test('fastcgi codec: name-value pairs use 1-byte lengths below 128 and 4-byte lengths above', () => {
  const long = 'v'.repeat(300);
  const buf = encodeParams([['A', 'b'], ['LONG', long], ['', '']]);
  assert.deepEqual([...buf.subarray(0, 4)], [1, 1, 65, 98]);
  assert.equal(buf[6]! & 0x80, 0);
  assert.deepEqual([...buf.subarray(5, 9)], [0x80, 0, 1, 44], 'value length 300 as 4 bytes with the top bit set');
  assert.deepEqual(decodeParams(buf), [['A', 'b'], ['LONG', long], ['', '']]);
  assert.throws(() => decodeParams(buf.subarray(0, buf.length - 100)), { code: 'ERR_FCGI_PROTOCOL' });
});

test('fastcgi codec: records are cut at the content limit, padded to 8, and read back incrementally', () => {
  const content = Buffer.alloc(MAX_CONTENT + 13, 7);
  const records = Buffer.concat([encodeBeginRequest(1, true), ...encodeRecords(STDIN, 1, content), ...encodeRecords(STDIN, 1), ...encodeRecords(PARAMS, 1, Buffer.from('abc'))]);
  const reader = new RecordReader();
  const got = [];
  for (let i = 0; i < records.length; i++) got.push(...reader.push(records.subarray(i, i + 1)));
  assert.equal(reader.pending, 0);
  assert.deepEqual(got.map((r) => [r.type, r.content.length]), [[1, 8], [STDIN, MAX_CONTENT], [STDIN, 13], [STDIN, 0], [PARAMS, 3]]);
  assert.equal(got[0]!.content[2], 1, 'KEEP_CONN flag');
  assert.equal(records.length % 8, 0, 'every record is padded to a multiple of 8');
  assert.ok(Buffer.concat([got[1]!.content, got[2]!.content]).equals(content));
  assert.throws(() => new RecordReader().push(Buffer.from([2, 6, 0, 1, 0, 0, 0, 0])), /invalid header version/);
  const end = Buffer.from([0, 0, 0, 3, 1, 0, 0, 0]);
  assert.deepEqual(decodeEndRequest(end), { appStatus: 3, protocolStatus: 1 });
});

test('CGI response head: LF or CRLF, Status, repeated headers, head split across chunks', () => {
  const p = new CgiResponseParser();
  assert.equal(p.push(Buffer.from('Status: 404 Not Found\r\nSet-Cookie: a=1\r\nSet-')), undefined);
  const h = p.push(Buffer.from('Cookie: b=2\r\nContent-Type: text/plain\r\n\r\nbody'))!;
  assert.equal(h.status, 404);
  assert.deepEqual(h.headers, { 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/plain' });
  assert.equal(h.rest.toString(), 'body');
  const lf = new CgiResponseParser().push(Buffer.from('Location: /x\n\n'))!;
  assert.equal(lf.status, 200);
  assert.equal(lf.headers.location, '/x');
  assert.equal(lf.rest.length, 0);
});

test('CGI env helpers: split extensions are ASCII case-insensitive; joins never leave the root', () => {
  assert.equal(splitPos('/a/index.PHP/x', ['.php']), 12);
  assert.equal(splitPos('/a/İndex.php', ['.php']), 12, 'non-ASCII letters are not folded');
  assert.equal(splitPos('/a/b', ['.php']), -1);
  assert.equal(safeJoin('/srv', '/../../etc/passwd'), '/srv/etc/passwd');
  assert.equal(safeJoin('/srv', '/a/./b'), '/srv/a/b');
});
