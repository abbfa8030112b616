/**
 * Lua scripts of the Redis transport. Each touches only keys it declares, all
 * in the stream's hash slot, so they run unchanged on Redis Cluster; and each
 * is atomic, so the ID index can never disagree with the stream.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './client.ts';

export interface Script { lua: string; sha: string }

function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * Appends one update and indexes it, unless its ID is already retained
 * (idempotent publish: the check and the XADD are one atomic script, so two
 * nodes retrying the same update cannot both append it).
 * KEYS: stream, ids, order, next, latest.
 * ARGV: max length (0 = unbounded), update ID, field, value.
 * Returns {entry ID, 0} for a new entry, {retained entry ID, 1} for a duplicate.
 *
 * `ids` maps an update ID to its OLDEST retained entry (the history anchor,
 * as in the Go hub). Custom IDs may repeat: the occurrences of one ID are
 * chained through `next` (entry → next entry with the same ID) and `latest`
 * (ID → newest entry, kept only while an ID has several), so trimming the
 * oldest occurrence moves the anchor to the next one in O(1).
 *
 * Trimming is approximate (`MAXLEN ~`: whole radix-tree nodes at once); after
 * it, `order` holds more items than the stream has entries, and popping the
 * surplus from its head visits exactly the trimmed entries, oldest first.
 * (Repeated IDs come only from streams written before idempotent publish.)
 */
export const PUBLISH = script(`
local stream, ids, order, nxt, latest = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local uid = ARGV[2]
local retained = redis.call('HGET', ids, uid)
if retained and #redis.call('XRANGE', stream, retained, retained) > 0 then return {retained, 1} end
local id
if tonumber(ARGV[1]) > 0 then
  id = redis.call('XADD', stream, 'MAXLEN', '~', ARGV[1], '*', ARGV[3], ARGV[4])
else
  id = redis.call('XADD', stream, '*', ARGV[3], ARGV[4])
end
local oldest = redis.call('HGET', ids, uid)
if oldest then
  local prev = redis.call('HGET', latest, uid) or oldest
  redis.call('HSET', nxt, prev, id)
  redis.call('HSET', latest, uid, id)
else
  redis.call('HSET', ids, uid, id)
end
redis.call('RPUSH', order, id .. ' ' .. uid)
local surplus = redis.call('LLEN', order) - redis.call('XLEN', stream)
for _ = 1, surplus do
  local item = redis.call('LPOP', order)
  local sp = string.find(item, ' ', 1, true)
  local eid, tid = string.sub(item, 1, sp - 1), string.sub(item, sp + 1)
  local after = redis.call('HGET', nxt, eid)
  if after then redis.call('HDEL', nxt, eid) end
  if redis.call('HGET', ids, tid) == eid then
    if after then
      redis.call('HSET', ids, tid, after)
      if redis.call('HGET', latest, tid) == after then redis.call('HDEL', latest, tid) end
    else
      redis.call('HDEL', ids, tid)
      redis.call('HDEL', latest, tid)
    end
  end
end
return {id, 0}
`);

/** KEYS: stream. Returns the last entry ID, or false when the stream is empty or absent (no payload on the wire). */
export const HEAD = script(`
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last == 0 then return false end
return last[1][1]
`);

/**
 * KEYS: stream, ids. ARGV: update ID. Looks the ID up in the index and checks
 * the entry is still retained (something else may have trimmed the stream).
 * Returns {entry ID or false, head entry ID or false} in one round trip.
 */
export const LOOKUP = script(`
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local head = false
if #last > 0 then head = last[1][1] end
local eid = redis.call('HGET', KEYS[2], ARGV[1])
if eid and #redis.call('XRANGE', KEYS[1], eid, eid) == 0 then eid = false end
return {eid, head}
`);

/** Runs a script by SHA, loading it on first use (or after a server restart / SCRIPT FLUSH). */
export async function runScript(client: RedisClient, s: Script, keys: string[], args: (string | Buffer | number)[]): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
    return client.eval(s.lua, keys.length, ...keys, ...args);
  }
}
