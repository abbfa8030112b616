/**
 * Origin lists (`publish_origins`, `cors_origins`): validation at start-up
 * and matching at request time.
 */

/**
 * Whether entry is an acceptable origin: `*`, `null`, or `scheme://host[:port]`
 * with no path (not even `/`), query, fragment or userinfo. The host may be
 * empty (`capacitor://`) and may hold one `*` wildcard (`https://*.example.com`).
 */
export function isValidOrigin(entry: string): boolean {
  if (entry === '*' || entry === 'null') return true;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#@\s]*)$/.exec(entry);
  if (!m) return false;
  const hostPort = m[2]!;
  const port = /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostPort)?.[1];
  if (port !== undefined && port !== '' && !/^\d+$/.test(port)) return false;
  return true;
}

/** Throws a message naming the first invalid entry. */
export function validateOrigins(list: readonly string[], what: string): void {
  for (const o of list) {
    if (!isValidOrigin(o)) throw new Error(`invalid ${what} "${o}": must be "*", "null" or scheme://host[:port] without path, query, fragment or userinfo`);
  }
}

/** A compiled origin list: exact entries, one-`*` wildcards, and the "all" flag. */
export class OriginList {
  readonly all: boolean;
  readonly #exact: Set<string>;
  readonly #wild: { prefix: string; suffix: string }[] = [];

  /** lowerCase: whether the request origin is lower-cased before comparing (rs/cors does; the publish check does not). */
  readonly #lowerRequest: boolean;

  constructor(list: readonly string[], lowerRequest: boolean) {
    this.all = list.includes('*');
    this.#lowerRequest = lowerRequest;
    this.#exact = new Set();
    for (const raw of list) {
      const o = raw.toLowerCase();
      const star = o.indexOf('*');
      if (star >= 0 && o !== '*') this.#wild.push({ prefix: o.slice(0, star), suffix: o.slice(star + 1) });
      else this.#exact.add(o);
    }
  }

  get empty(): boolean { return !this.all && this.#exact.size === 0 && this.#wild.length === 0; }

  /** Whether origin is allowed. */
  allows(origin: string): boolean {
    if (this.all) return true;
    const o = this.#lowerRequest ? origin.toLowerCase() : origin;
    if (this.#exact.has(o)) return true;
    return this.#wild.some((w) => o.length >= w.prefix.length + w.suffix.length && o.startsWith(w.prefix) && o.endsWith(w.suffix));
  }
}
