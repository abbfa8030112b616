/**
 * Mercure's own JSON of an update (what its bolt transport stores), the
 * readable record format of the stream transports (redis, kafka, pulsar), so
 * tools written for Mercure's stored updates read ours too:
 *   {"ID":"urn:uuid:…","Topics":["https://…",…],"Data":"…","Private":false,"Type":"","Retry":0}
 * Topics[0] is the canonical topic; Type "" and Retry 0 mean none. Retry is a
 * uint64, written and read as its exact digits.
 */
import type { Update } from './contract.ts';

export function encodeUpdateJson(u: Update): string {
  const json = JSON.stringify({ ID: u.id, Topics: u.topics, Data: u.data, Private: u.private, Type: u.type ?? '', Retry: 0 });
  // JSON.stringify cannot write a bigint: Retry is the last key, written as its digits.
  return u.retry ? json.slice(0, -2) + String(u.retry) + '}' : json;
}

/** JSON.parse reviver: a Retry above 2^53 is read from its digits, exactly. */
function exactRetry(this: unknown, key: string, value: unknown, context?: { source?: string }): unknown {
  if (key === 'Retry' && typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^\d+$/.test(context.source)) return BigInt(context.source);
  return value;
}

/** The update in such JSON; undefined when the text is JSON of something else (another writer on the stream). Throws on text that is not JSON. */
export function decodeUpdateJson(text: string): Update | undefined {
  const o = JSON.parse(text, exactRetry as (key: string, value: unknown) => unknown) as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null || typeof o.ID !== 'string' || !Array.isArray(o.Topics)
    || !o.Topics.every((t) => typeof t === 'string') || typeof o.Data !== 'string') return undefined;
  const u: Update = { id: o.ID, topics: o.Topics as string[], data: o.Data, private: o.Private === true };
  if (typeof o.Type === 'string' && o.Type !== '') u.type = o.Type;
  if ((typeof o.Retry === 'number' || typeof o.Retry === 'bigint') && o.Retry > 0) u.retry = o.Retry;
  return u;
}
