/**
 * Message ids: where a message sits in a topic. Ordered by ledger, entry,
 * then index inside a batch (-1 = not batched). `earliest`/`latest` are the
 * protocol's special start positions.
 */
import { fromBig, toBig } from './proto.ts';

export interface MessageId {
  ledgerId: bigint;
  entryId: bigint;
  /** Index inside a batch entry; -1 when the entry holds one message. */
  batchIndex: number;
  partition: number;
}

export const EARLIEST: MessageId = { ledgerId: -1n, entryId: -1n, batchIndex: -1, partition: -1 };
export const LATEST: MessageId = { ledgerId: (1n << 63n) - 1n, entryId: (1n << 63n) - 1n, batchIndex: -1, partition: -1 };

export function compareIds(a: MessageId, b: MessageId): number {
  if (a.ledgerId !== b.ledgerId) return a.ledgerId < b.ledgerId ? -1 : 1;
  if (a.entryId !== b.entryId) return a.entryId < b.entryId ? -1 : 1;
  return a.batchIndex - b.batchIndex;
}

export function idFromProto(p: Record<string, unknown>): MessageId {
  return {
    ledgerId: BigInt.asIntN(64, toBig(p.ledgerId)),
    entryId: BigInt.asIntN(64, toBig(p.entryId)),
    batchIndex: typeof p.batch_index === 'number' ? p.batch_index : -1,
    partition: typeof p.partition === 'number' ? p.partition : -1,
  };
}

export function idToProto(id: MessageId): Record<string, unknown> {
  const p: Record<string, unknown> = { ledgerId: fromBig(id.ledgerId), entryId: fromBig(id.entryId) };
  if (id.partition >= 0) p.partition = id.partition;
  if (id.batchIndex >= 0) p.batch_index = id.batchIndex;
  return p;
}

export function formatId(id: MessageId): string {
  return `${id.ledgerId}:${id.entryId}${id.batchIndex >= 0 ? ':' + id.batchIndex : ''}`;
}
