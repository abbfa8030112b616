/**
 * How updates travel on the Pulsar topic, and how message ids map to the
 * core's stream positions.
 *
 * Message (one update per message, never batched by us, uncompressed):
 *   payload     Mercure's JSON of an update, UTF-8:
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
import type { Update } from '../../pubsub/transport.ts';
import type { MessageId } from './client/index.ts';

export const ID_PROPERTY = 'mercure_id';
export const TOPIC_PROPERTY = 'mercure_topic';

export function encodeUpdate(u: Update): { payload: Buffer; properties: Record<string, string> } {
  const payload = Buffer.from(JSON.stringify({ ID: u.id, Topics: u.topics, Data: u.data, Private: u.private, Type: u.type ?? '', Retry: u.retry ?? 0 }), 'utf8');
  return { payload, properties: { [ID_PROPERTY]: u.id, [TOPIC_PROPERTY]: u.topics[0] ?? '' } };
}

/** The update in a message payload, or undefined when it is not one of ours. */
export function decodeUpdate(payload: Buffer): Update | undefined {
  let o: Record<string, unknown>;
  try { o = JSON.parse(payload.toString('utf8')) as Record<string, unknown>; } catch { return undefined; }
  if (typeof o !== 'object' || o === null || typeof o.ID !== 'string' || !Array.isArray(o.Topics) || typeof o.Data !== 'string') return undefined;
  const u: Update = { id: o.ID, topics: o.Topics.map(String), data: o.Data, private: o.Private === true };
  if (typeof o.Type === 'string' && o.Type !== '') u.type = o.Type;
  if (typeof o.Retry === 'number' && o.Retry > 0) u.retry = o.Retry;
  return u;
}

export function seqOf(id: MessageId): bigint {
  return (id.ledgerId << 64n) | (id.entryId << 16n) | BigInt(id.batchIndex + 1);
}

/** The inverse of seqOf. */
export function idOfSeq(seq: bigint): MessageId {
  return { ledgerId: seq >> 64n, entryId: (seq >> 16n) & 0xffff_ffff_ffffn, batchIndex: Number(seq & 0xffffn) - 1, partition: -1 };
}
