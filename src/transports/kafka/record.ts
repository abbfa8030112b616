/**
 * The record format on the topic, readable by any Kafka client:
 *
 *   key      the update's ID, UTF-8 (also what the ID → offset index reads)
 *   value    JSON, Mercure's own shape of an update (core/update-json.ts):
 *            {"ID":"urn:uuid:…","Topics":["https://…",…],"Data":"…","Private":false,"Type":"","Retry":0}
 *            (Topics[0] is the canonical topic; Type "" and Retry 0 mean none)
 *   headers  content-type: application/json
 *   timestamp the producer's time (CreateTime)
 *
 * The record's offset in the topic's single partition is the update's position
 * in the stream. Records whose value is not such JSON (another writer on the
 * topic) are skipped by every node.
 */
import type { Update } from '../core/contract.ts';
import { decodeUpdateJson, encodeUpdateJson } from '../core/update-json.ts';

export const CONTENT_TYPE = 'application/json';

export function encodeValue(u: Update): Buffer {
  return Buffer.from(encodeUpdateJson(u));
}

/** The update in a record value; throws when the value is not one. */
export function decodeValue(value: Buffer): Update {
  const u = decodeUpdateJson(value.toString('utf8'));
  if (!u) throw new Error('not a Mercure update record');
  return u;
}
