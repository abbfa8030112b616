/**
 * How updates are stored in the Redis stream, and how stream entry IDs map to
 * the core's sequence numbers. The field layouts are documented in redis.ts.
 */
import type { Update } from '../core/contract.ts';
import { decodeBytes, encodeString } from '../core/byte-string.ts';
import { decodeUpdateJson, encodeUpdateJson } from '../core/update-json.ts';

/** Entry field holding the JSON encoding (the default; readable by third parties). */
export const JSON_FIELD = 'update';
/** Entry field holding our compact binary encoding (`gob` option; private format). */
export const BINARY_FIELD = 'bin';

const BINARY_VERSION = 1;
const FLAG_PRIVATE = 1;

/** Encodes an update as stream entry fields ([name, value]): Mercure's JSON (core/update-json.ts), or our binary form. */
export function encodeUpdate(u: Update, binary: boolean): [string, string | Buffer] {
  return binary ? [BINARY_FIELD, encodeBinary(u)] : [JSON_FIELD, encodeUpdateJson(u)];
}

/**
 * Decodes an entry's flat field list ([name, value, name, value, …]).
 * Either encoding is accepted whatever the `gob` setting, so changing it
 * does not strand the retained history. Returns undefined for entries that
 * are not ours (another writer on the same stream); the caller skips them.
 */
export function decodeEntry(fields: (Buffer | string)[]): Update | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString();
    const value = fields[i + 1]!;
    if (name === BINARY_FIELD) return decodeBinary(Buffer.isBuffer(value) ? value : Buffer.from(value, 'latin1'));
    if (name === JSON_FIELD) return decodeUpdateJson(value.toString());
  }
  return undefined;
}


/*
 * Binary layout, version 1 (all integers unsigned LEB128 varints, strings UTF-8
 * prefixed by their byte length):
 *   u8 version(=1) | u8 flags (bit 0 = private) | varint retry | str id | str type
 *   | varint topic count | str topic … | data bytes to the end of the value
 * It avoids JSON escaping of the payload; only Quicksilver reads it.
 */
function encodeBinary(u: Update): Buffer {
  // The ID keeps bytes that are not UTF-8 (byte-string.ts).
  const strings = [encodeString(u.id), ...[u.type ?? '', ...u.topics].map((s) => Buffer.from(s, 'utf8'))];
  const data = Buffer.from(u.data, 'utf8');
  let size = 2 + 10 + 5 + data.length;
  for (const s of strings) size += 5 + s.length;
  const out = Buffer.allocUnsafe(size);
  out[0] = BINARY_VERSION;
  out[1] = u.private ? FLAG_PRIVATE : 0;
  let at = writeVarint(out, 2, u.retry ?? 0);
  for (let i = 0; i < strings.length; i++) {
    if (i === 2) at = writeVarint(out, at, u.topics.length);
    at = writeVarint(out, at, strings[i]!.length);
    at += strings[i]!.copy(out, at);
  }
  if (strings.length === 2) at = writeVarint(out, at, 0);
  at += data.copy(out, at);
  return out.subarray(0, at);
}

function decodeBinary(b: Buffer): Update | undefined {
  if (b[0] !== BINARY_VERSION) return undefined;
  const r = { at: 2 };
  const retry = readVarint64(b, r);
  const str = () => { const n = readVarint(b, r); const s = b.toString('utf8', r.at, r.at + n); r.at += n; return s; };
  const idLength = readVarint(b, r);
  const id = decodeBytes(b.subarray(r.at, r.at + idLength));
  r.at += idLength;
  const type = str();
  const count = readVarint(b, r);
  const topics: string[] = [];
  for (let i = 0; i < count; i++) topics.push(str());
  const u: Update = { id, topics, data: b.toString('utf8', r.at), private: (b[1]! & FLAG_PRIVATE) !== 0 };
  if (type !== '') u.type = type;
  if (retry > 0) u.retry = retry;
  return u;
}

function writeVarint(b: Buffer, at: number, n: number | bigint): number {
  if (typeof n === 'bigint') {
    while (n >= 0x80n) { b[at++] = Number(n & 0x7fn) | 0x80; n >>= 7n; }
    b[at++] = Number(n);
    return at;
  }
  while (n >= 0x80) { b[at++] = (n % 0x80) | 0x80; n = Math.floor(n / 0x80); }
  b[at++] = n;
  return at;
}

/** A varint up to 2^64 − 1: a number when safe, else a bigint (the retry field). */
function readVarint64(b: Buffer, r: { at: number }): number | bigint {
  let n = 0n;
  let shift = 0n;
  for (;;) {
    const byte = b[r.at++];
    if (byte === undefined) throw new Error('truncated varint in stream entry');
    n |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
    shift += 7n;
  }
}

function readVarint(b: Buffer, r: { at: number }): number {
  let n = 0;
  let mul = 1;
  for (;;) {
    const byte = b[r.at++];
    if (byte === undefined) throw new Error('truncated varint in stream entry');
    n += (byte & 0x7f) * mul;
    if (byte < 0x80) return n;
    mul *= 0x80;
  }
}

/**
 * Stream entry ID (`<ms>-<n>`) → the core's seq. ms in the high 64 bits, n in
 * the low 64: exact, and strictly increasing because entry IDs are.
 */
export function entryIdToSeq(id: string): bigint {
  const dash = id.indexOf('-');
  return (BigInt(id.slice(0, dash)) << 64n) | BigInt(id.slice(dash + 1));
}

/** The inverse of entryIdToSeq. */
export function seqToEntryId(seq: bigint): string {
  return `${seq >> 64n}-${seq & 0xffff_ffff_ffff_ffffn}`;
}
