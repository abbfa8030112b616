/**
 * The protocol's protobuf messages, loaded with protobufjs from our trimmed
 * copy of Pulsar's schema (pulsar-api.proto next to this file). 64-bit
 * integers decode as Long objects (protobufjs's `long` dependency); toBig()
 * turns them into bigint.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';

const root = protobuf.parse(readFileSync(join(import.meta.dirname, 'pulsar-api.proto'), 'utf8'), { keepCase: true }).root;
const type = (name: string) => root.lookupType(`pulsar.proto.${name}`);

export const BaseCommand = type('BaseCommand');
export const MessageMetadata = type('MessageMetadata');
export const SingleMessageMetadata = type('SingleMessageMetadata');
export const MessageIdData = type('MessageIdData');

const enumOf = (name: string): Record<string, number> => root.lookupEnum(`pulsar.proto.${name}`).values;
/** BaseCommand.Type name → number. */
export const T = enumOf('BaseCommand.Type');
const serverErrors = enumOf('ServerError');
const serverErrorNames = new Map(Object.entries(serverErrors).map(([k, v]) => [v, k]));
export function serverErrorName(n: number | undefined): string {
  return serverErrorNames.get(n ?? 0) ?? `ServerError${n}`;
}

/** A decoded command: the oneof-like field named after the type holds the body. */
export type Command = Record<string, any> & { type: number };

/** 64-bit protobuf value (Long, number or string) → bigint. */
export function toBig(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' || typeof v === 'string') return BigInt(v);
  const l = v as { low: number; high: number; unsigned?: boolean };
  const big = (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
  return l.unsigned === false && l.high < 0 ? big - (1n << 64n) : big;
}

/** bigint → a value protobufjs writes as a 64-bit integer (two's complement for negatives). */
export function fromBig(v: bigint): { low: number; high: number; unsigned: boolean } {
  const u = BigInt.asUintN(64, v);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: true };
}
