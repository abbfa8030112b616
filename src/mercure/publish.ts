/**
 * `POST /.well-known/mercure`: authorise, parse the form, validate, dispatch.
 * Every status and body follows Mercure v0.24.2's PublishHandler, in its order:
 * 401 (token) → 400 (form, topic, retry) → 401 (topic selectors) → 403/400
 * (Update.Validate) → 503 (transport backend unavailable, or no answer within
 * `dispatch_timeout`; the reference answers 500 there) or 500 (any other transport error) → 200 with the update ID.
 * An `id` already retained by a transport with history is answered 200 with
 * that ID and not stored again (idempotent publish; README "Retrying a publish").
 */
import type { ServerResponse } from 'node:http';
import type { HttpContext } from '../http/handler.ts';
import type { TopicSelectorStore } from '../topics/topic-selector.ts';
import type { Update } from '../transports/core/contract.ts';
import { extractToken } from './authorize.ts';
import { parsePostForm } from './form.ts';
import { httpError, sniffContentType, statusError } from './http-util.ts';
import type { MercureClaims } from './jwt.ts';
import type { HubRequest, HubRuntime } from './runtime.ts';
import { newUpdateId } from './uuid.ts';
import { encodeString } from '../transports/core/byte-string.ts';
import { withDeadline } from './deadline.ts';

/** Maximum `topic` fields in one update. */
export const MAX_PUBLISH_TOPICS = 1000;
const RESERVED = '/.well-known/mercure';
const FORBIDDEN = /[\0\r\n]/;
/**
 * Leading or trailing space or tab: HTTP trims them from a `Last-Event-ID`
 * header, so a client could never resume from such an ID (its reconnect would
 * ask for another one). Refused at publish rather than matched after
 * trimming, which would make two IDs equal. Inner whitespace is fine.
 */
const UNTRIMMED = /^[ \t]|[ \t]$/;
const UINT64_MAX = 18446744073709551615n;

/** Whether every topic matches some publish selector (`*` short-circuits). */
export function canDispatch(store: TopicSelectorStore, topics: readonly string[], selectors: readonly string[]): boolean {
  if (selectors.includes('*')) return true;
  return topics.every((t) => selectors.some((s) => store.match(t, s)));
}

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols, and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/**
 * Go's strconv.Quote (`%q`), for the 403 body: printable characters, ASCII
 * or not, are kept; invisible ones (controls, format characters such as
 * U+200B or U+FEFF, spaces other than U+0020, private use, unassigned) are
 * escaped as \a \b \f \n \r \t \v, \xNN, \uNNNN or \UNNNNNNNN; a byte
 * that is not UTF-8 (kept as U+DC80–U+DCFF, see go-json.ts) as \xNN.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c >= 0xdc80 && c <= 0xdcff) out += '\\x' + (c & 0xff).toString(16).padStart(2, '0');
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else if (c === 0x20 || (c < 0x7f) || PRINTABLE.test(ch)) out += ch;
    else out += c > 0xffff ? '\\U' + c.toString(16).padStart(8, '0') : '\\u' + c.toString(16).padStart(4, '0');
  }
  return out + '"';
}

function first(form: Map<string, string[]>, key: string): string {
  return form.get(key)?.[0] ?? '';
}

async function authorise(hub: HubRuntime, c: HttpContext, r: HubRequest): Promise<MercureClaims | undefined> {
  const ex = extractToken(c.req, r.query.get('authorization'), hub.cookieName, hub.publishOrigins);
  if (ex.kind !== 'token') return undefined;
  try {
    const claims = await hub.publisherVerifier!.verify(ex.token);
    return claims.publish === null ? undefined : claims;
  } catch (err) {
    hub.log.debug({ err }, 'publisher token rejected');
    return undefined;
  }
}

function ok(res: ServerResponse, id: string): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', sniffContentType(id)); // Go sniffs: text/plain; charset=utf-8 for any usual ID
  res.end(encodeString(id)); // an ID that is not UTF-8 goes back byte for byte (byte-string.ts)
}

/** Handles one publish request. */
export async function handlePublish(hub: HubRuntime, c: HttpContext, r: HubRequest): Promise<void> {
  const { req, res } = c;
  const claims = await authorise(hub, c, r);
  if (!claims) return statusError(res, 401);

  const parsed = await parsePostForm(req, r.rawQuery);
  if (!parsed.ok) {
    if (parsed.tooLarge) res.setHeader('Connection', 'close');
    return statusError(res, 400);
  }
  const form = parsed.form;
  const topics = form.get('topic');
  if (!topics || topics.length === 0) return httpError(res, 400, 'Missing "topic" parameter');
  if (topics.length > MAX_PUBLISH_TOPICS) return httpError(res, 400, 'too many topics in update');

  let retry: number | bigint = 0;
  const retryText = first(form, 'retry');
  if (retryText !== '') {
    if (!/^\d+$/.test(retryText) || BigInt(retryText) > UINT64_MAX) return httpError(res, 400, 'Invalid "retry" parameter');
    const n = BigInt(retryText);
    retry = n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n; // no float rounding above 2^53
  }

  const isPrivate = form.has('private');
  if (!canDispatch(hub.selectors, topics, claims.publish!)) {
    if (isPrivate || !hub.compat7) return statusError(res, 401);
    hub.log.info('Deprecated: posting public updates to topics not listed in the "mercure.publish" JWT claim is deprecated since the version 7 of the protocol, use \'["*"]\' as value to allow publishing on all topics.');
  }

  for (const t of topics) {
    if (t.includes(RESERVED)) {
      return httpError(res, 403, `${goQuote(t)}: topic value references the reserved "/.well-known/mercure" namespace`);
    }
  }
  const id = first(form, 'id');
  if (FORBIDDEN.test(id)) return httpError(res, 400, '"id" field contains a forbidden control character');
  if (UNTRIMMED.test(id)) return httpError(res, 400, '"id" field must not start or end with a space or a tab');
  const type = first(form, 'type');
  if (FORBIDDEN.test(type)) return httpError(res, 400, '"type" field contains a forbidden control character');

  const update: Update = { id: id === '' ? newUpdateId() : id, topics, data: first(form, 'data'), private: isPrivate };
  if (type !== '') update.type = type;
  if (retry !== 0) update.retry = retry;
  let result;
  try {
    result = await withDeadline(hub.transport.dispatch(update), hub.stream.dispatchTimeoutMs, 'publish');
  } catch (err) {
    hub.log.error({ err }, 'Failed to dispatch update');
    // An outage of the backend is a 503 (retry later); any other dispatch error
    // stays the reference hub's 500.
    return statusError(res, (err as { code?: string }).code === 'ERR_TRANSPORT_UNAVAILABLE' ? 503 : 500);
  }
  if (result.duplicate) {
    // Idempotent publish: a retry of an update already retained is answered like the first time, and not stored again.
    hub.log.debug({ id: result.id, topics }, 'Update already published; not stored again');
    return ok(res, result.id);
  }
  hub.metrics.updatePublished();
  hub.log.debug({ id: update.id, topics }, 'Update published');
  ok(res, result.id);
}
