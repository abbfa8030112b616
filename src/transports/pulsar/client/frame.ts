/**
 * Framing of the binary protocol:
 *   simple   [total u32][cmdSize u32][BaseCommand]
 *   payload  [total u32][cmdSize u32][BaseCommand][0x0e01][crc32c u32][metaSize u32][MessageMetadata][payload]
 * total counts everything after itself; the CRC32C covers metaSize, metadata
 * and payload. A broker with broker-entry metadata enabled may put
 * [0x0e02][size u32][BrokerEntryMetadata] before the checksum magic; it is skipped.
 */
import { crc32c } from './crc32c.ts';
import { PulsarError } from './errors.ts';
import { BaseCommand, MessageMetadata, type Command } from './proto.ts';

const MAGIC_CRC = 0x0e01;
const MAGIC_BROKER_ENTRY = 0x0e02;

export function encodeCommand(cmd: Command): Buffer {
  const body = BaseCommand.encode(BaseCommand.fromObject(cmd)).finish();
  const out = Buffer.allocUnsafe(8 + body.length);
  out.writeUInt32BE(4 + body.length, 0);
  out.writeUInt32BE(body.length, 4);
  out.set(body, 8);
  return out;
}

export function encodePayloadCommand(cmd: Command, metadata: Record<string, unknown>, payload: Uint8Array): Buffer {
  const body = BaseCommand.encode(BaseCommand.fromObject(cmd)).finish();
  const meta = MessageMetadata.encode(MessageMetadata.fromObject(metadata)).finish();
  const total = 4 + body.length + 2 + 4 + 4 + meta.length + payload.length;
  const out = Buffer.allocUnsafe(4 + total);
  let at = 0;
  out.writeUInt32BE(total, at); at += 4;
  out.writeUInt32BE(body.length, at); at += 4;
  out.set(body, at); at += body.length;
  out.writeUInt16BE(MAGIC_CRC, at); at += 2;
  const crcAt = at; at += 4;
  const from = at;
  out.writeUInt32BE(meta.length, at); at += 4;
  out.set(meta, at); at += meta.length;
  out.set(payload, at); at += payload.length;
  out.writeUInt32BE(crc32c(out, from, at), crcAt);
  return out;
}

/** One decoded frame. metadata/payload only on payload commands (MESSAGE). */
export interface Frame {
  command: Command;
  metadata?: Record<string, any>;
  payload?: Buffer;
  /** False when the checksum did not match (the consumer discards the message). */
  checksumOk?: boolean;
}

/** Splits a byte stream into frames. */
export class FrameReader {
  #chunks: Buffer[] = [];
  #size = 0;
  readonly #maxFrame: number;

  constructor(maxFrame = 16 << 20) {
    this.#maxFrame = maxFrame;
  }

  push(chunk: Buffer): Frame[] {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    const out: Frame[] = [];
    for (;;) {
      if (this.#size < 4) break;
      let buf = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#size);
      this.#chunks = [buf];
      const total = buf.readUInt32BE(0);
      if (total > this.#maxFrame) throw new PulsarError('ProtocolError', `frame of ${total} bytes exceeds ${this.#maxFrame}`);
      if (this.#size < 4 + total) break;
      const frame = buf.subarray(4, 4 + total);
      buf = buf.subarray(4 + total);
      this.#chunks = buf.length ? [buf] : [];
      this.#size = buf.length;
      out.push(decodeFrame(frame));
    }
    return out;
  }
}

function decodeFrame(frame: Buffer): Frame {
  const cmdSize = frame.readUInt32BE(0);
  const command = BaseCommand.toObject(BaseCommand.decode(frame.subarray(4, 4 + cmdSize)), { defaults: false }) as Command;
  let at = 4 + cmdSize;
  if (at >= frame.length) return { command };
  if (frame.readUInt16BE(at) === MAGIC_BROKER_ENTRY) {
    at += 2;
    at += 4 + frame.readUInt32BE(at);
  }
  if (frame.readUInt16BE(at) !== MAGIC_CRC) throw new PulsarError('ProtocolError', 'payload frame without checksum magic');
  at += 2;
  const crc = frame.readUInt32BE(at);
  at += 4;
  const checksumOk = crc32c(frame, at, frame.length) === crc;
  const metaSize = frame.readUInt32BE(at);
  at += 4;
  const metadata = MessageMetadata.toObject(MessageMetadata.decode(frame.subarray(at, at + metaSize)), { defaults: false });
  at += metaSize;
  return { command, metadata, payload: frame.subarray(at), checksumOk };
}
