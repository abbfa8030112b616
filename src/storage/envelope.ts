/**
 * The value envelope caddy-storage-redis writes at `<prefix>/<key>`:
 * `{"value": base64, "modified": RFC3339, "size": n, "compression": 0|1|2, "encryption": 0|1}`.
 * Writes compress first (kept only when smaller), then encrypt with AES-256-GCM
 * (12-byte nonce prepended, 16-byte tag appended, as Go's gcm.Seal lays it out),
 * so values stay readable by the Go plugin and vice versa.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deflateRawSync, deflateSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { CompressionMode } from './config.ts';

/** Loads refuse to inflate beyond this (a corrupt or hostile value must not exhaust memory). */
export const MAX_DECOMPRESSED = 4 << 20;

/** The stored JSON document. */
export interface Envelope {
  value: string;
  modified: string;
  size: number;
  compression: CompressionMode;
  encryption: 0 | 1;
}

export interface Codec {
  compression: CompressionMode;
  encryptionKey?: Buffer;
}

function compress(data: Uint8Array, mode: CompressionMode): Buffer {
  return mode === 2 ? deflateSync(data) : deflateRawSync(data);
}

function decompress(data: Buffer, mode: number): Buffer {
  const opts = { maxOutputLength: MAX_DECOMPRESSED };
  if (mode === 1) return inflateRawSync(data, opts);
  if (mode === 2) return inflateSync(data, opts);
  throw new Error(`unknown compression mode ${mode}`);
}

function encrypt(data: Uint8Array, key: Buffer): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  return Buffer.concat([nonce, cipher.update(data), cipher.final(), cipher.getAuthTag()]);
}

function decrypt(data: Buffer, key: Buffer): Buffer {
  if (data.length < 12 + 16) throw new Error('ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
  decipher.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
}

/** Builds the envelope for value; `now` is the modification time. */
export function seal(value: Uint8Array, codec: Codec, now = new Date()): Envelope {
  let body: Uint8Array = value;
  let compression: CompressionMode = 0;
  if (codec.compression) {
    const packed = compress(value, codec.compression);
    if (packed.length < value.length) { body = packed; compression = codec.compression; }
  }
  let encryption: 0 | 1 = 0;
  if (codec.encryptionKey) { body = encrypt(body, codec.encryptionKey); encryption = 1; }
  return { value: Buffer.from(body).toString('base64'), modified: now.toISOString(), size: value.length, compression, encryption };
}

/** Parses a stored document; throws when it is not an envelope. */
export function parseEnvelope(raw: Buffer | string): Envelope {
  const e = JSON.parse(raw.toString()) as Partial<Envelope> | null;
  if (!e || typeof e !== 'object' || (typeof e.value !== 'string' && e.value !== null)) throw new Error('not a storage envelope');
  return {
    value: e.value ?? '', modified: String(e.modified ?? ''), size: Number(e.size ?? 0),
    compression: (e.compression ?? 0) as CompressionMode, encryption: e.encryption ? 1 : 0,
  };
}

/** Returns the original bytes of an envelope: decrypt, then decompress. */
export function open(e: Envelope, codec: Codec): Buffer {
  let body: Buffer = Buffer.from(e.value, 'base64');
  if (e.encryption) {
    if (!codec.encryptionKey) throw new Error('value is encrypted but no encryption_key is configured');
    body = decrypt(body, codec.encryptionKey);
  }
  if (e.compression) body = decompress(body, e.compression);
  return body;
}
