/**
 * How updates travel on the Pulsar topic, and how message ids map to the
 * core's stream positions.
 *
 * Message (one update per message, never batched by us, uncompressed):
 *   payload     Mercure's JSON of an update, UTF-8 (core/update-json.ts):
 *               {"ID":"urn:uuid:…","Topics":["https://…",…],"Data":"…",
 *                "Private":false,"Type":"","Retry":0}
 *               (Topics[0] is the canonical topic; Type "" and Retry 0 mean none)
 *   properties  mercure_id     the update ID
 *               mercure_topic  the canonical topic
 * Messages that do not decode as such a payload (another writer on the same
 * topic) are skipped, but still advance the stream position.
 *
 * Position: seq = ledgerId << 64 | entryId << 16 | (batchIndex + 1), exact
 * and strictly increasing along the topic (entry ids below 2^48, batch indexes
 * below 65 535).
 */
import type { Update } from '../core/contract.ts';
import { decodeUpdateJson, encodeUpdateJson } from '../core/update-json.ts';
import type { MessageId } from './client/index.ts';

export const ID_PROPERTY = 'mercure_id';
export const TOPIC_PROPERTY = 'mercure_topic';

export function encodeUpdate(u: Update): { payload: Buffer; properties: Record<string, string> } {
  return { payload: Buffer.from(encodeUpdateJson(u), 'utf8'), properties: { [ID_PROPERTY]: u.id, [TOPIC_PROPERTY]: u.topics[0] ?? '' } };
}

/** The update in a message payload, or undefined when it is not one of ours. */
export function decodeUpdate(payload: Buffer): Update | undefined {
  try { return decodeUpdateJson(payload.toString('utf8')); } catch { return undefined; }
}

export function seqOf(id: MessageId): bigint {
  return (id.ledgerId << 64n) | (id.entryId << 16n) | BigInt(id.batchIndex + 1);
}

/** The inverse of seqOf. */
export function idOfSeq(seq: bigint): MessageId {
  return { ledgerId: seq >> 64n, entryId: (seq >> 16n) & 0xffff_ffff_ffffn, batchIndex: Number(seq & 0xffffn) - 1, partition: -1 };
}
