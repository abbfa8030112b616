/**
 * Provisioning of the transport's topics: the stream topic (1 partition,
 * cleanup.policy=delete) and its presence companion (1 partition, compacted).
 * Missing topics are created; a stream topic with several partitions is
 * refused, because one partition is what gives every node one order and makes
 * the record offset the update's position.
 */
import { Admin, findErrorBy } from '@platformatic/kafka';
import { ConfigError } from '../../host/errors.ts';
import { isUnknownTopic } from './log.ts';
import type { Span } from '../../../grammar/ast.ts';

/** Largest record the created topics accept (topic max.message.bytes): a 1 MB update plus its JSON. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** What decides how long history is kept, for the start-up log line. */
export interface Retention {
  'retention.ms'?: string | null;
  'retention.bytes'?: string | null;
  'cleanup.policy'?: string | null;
}

/**
 * Makes sure `topic` exists with one partition. Returns whether it was
 * created, and its retention settings as the broker reports them.
 */
export async function ensureTopic(admin: Admin, topic: string, kind: 'stream' | 'presence', span?: Span): Promise<{ created: boolean; retention: Retention }> {
  let created = false;
  let partitions = await partitionCount(admin, topic);
  if (partitions === undefined) {
    const configs = [
      { name: 'cleanup.policy', value: kind === 'stream' ? 'delete' : 'compact' },
      { name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) },
    ];
    if (kind === 'presence') configs.push({ name: 'min.compaction.lag.ms', value: '0' }, { name: 'segment.ms', value: String(3_600_000) });
    try {
      await admin.createTopics({ topics: [topic], partitions: 1, replicas: -1, configs });
      created = true;
    } catch (err) {
      // Another node created it first: fine.
      if (!findErrorBy(err as Error, 'apiId', 'TOPIC_ALREADY_EXISTS')) throw err;
    }
    partitions = await waitForTopic(admin, topic);
  }
  if (partitions !== 1) {
    throw new ConfigError('ERR_CFG_VALUE', span,
      `transport kafka: topic "${topic}" has ${partitions} partitions; the hub needs a topic with exactly one partition, `
      + 'so that every node sees every update in one order and the record offset is the update\'s position in the history',
      { expected: `a topic with 1 partition (delete "${topic}" and let the hub create it, or name another topic)` });
  }
  return { created, retention: await retentionOf(admin, topic) };
}

async function partitionCount(admin: Admin, topic: string): Promise<number | undefined> {
  try {
    const md = await admin.metadata({ topics: [topic], forceUpdate: true });
    const t = md.topics.get(topic);
    return t ? (t.partitionsCount ?? t.partitions.length) : undefined;
  } catch (err) {
    if (isUnknownTopic(err)) return undefined;
    throw err;
  }
}

/** Topic creation is asynchronous on the controller: wait until metadata shows it (≤ 10 s). */
async function waitForTopic(admin: Admin, topic: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const n = await partitionCount(admin, topic).catch(() => undefined);
    if (n !== undefined) return n;
    if (Date.now() > deadline) throw new Error(`topic ${topic} was created but does not show in the metadata`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function retentionOf(admin: Admin, topic: string): Promise<Retention> {
  try {
    const [d] = await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: topic, configurationKeys: ['retention.ms', 'retention.bytes', 'cleanup.policy'] }] });
    const out: Retention = {};
    for (const c of d?.configs ?? []) (out as Record<string, string | null>)[c.name] = c.value ?? null;
    return out;
  } catch {
    return {}; // DescribeConfigs may be denied by ACLs; retention is only logged
  }
}
