/**
 * The record format on the topic, readable by any Kafka client:
 *
 *   key      the update's ID, UTF-8 (also what the ID → offset index reads)
 *   value    JSON, Mercure's own shape of an update:
 *            {"ID":"urn:uuid:…","Topics":["https://…",…],"Data":"…","Private":false,"Type":"","Retry":0}
 *            (Topics[0] is the canonical topic; Type "" and Retry 0 mean none)
 *   headers  content-type: application/json
 *   timestamp the producer's time (CreateTime)
 *
 * The record's offset in the topic's single partition is the update's position
 * in the stream. Records whose value is not such JSON (another writer on the
 * topic) are skipped by every node.
 */
import type { Update } from '../../pubsub/transport.ts';

export const CONTENT_TYPE = 'application/json';

interface Wire {
  ID: string;
  Topics: string[];
  Data: string;
  Private: boolean;
  Type: string;
  Retry: number;
}

export function encodeValue(u: Update): Buffer {
  const w: Wire = { ID: u.id, Topics: u.topics, Data: u.data, Private: u.private, Type: u.type ?? '', Retry: u.retry ?? 0 };
  return Buffer.from(JSON.stringify(w));
}

/** The update in a record value; throws when the value is not one. */
export function decodeValue(value: Buffer): Update {
  const w = JSON.parse(value.toString('utf8')) as Partial<Wire>;
  if (typeof w !== 'object' || w === null || typeof w.ID !== 'string' || !Array.isArray(w.Topics) || w.Topics.length === 0
    || !w.Topics.every((t) => typeof t === 'string') || typeof w.Data !== 'string') {
    throw new Error('not a Mercure update record');
  }
  const u: Update = { id: w.ID, topics: w.Topics, data: w.Data, private: w.Private === true };
  if (typeof w.Type === 'string' && w.Type !== '') u.type = w.Type;
  if (typeof w.Retry === 'number' && w.Retry > 0) u.retry = w.Retry;
  return u;
}
