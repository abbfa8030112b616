/**
 * bind <hosts...>
 *
 * The interfaces the site's listeners bind to (class `bind`, a list of
 * hosts, e.g. `127.0.0.1 [::1]`; `tcp/`/`unix/` prefixes kept as written).
 */
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import type { ConfigValue } from './registry.ts';

export function parseBind(d: Dispenser): ConfigValue[] {
  d.noBlock();
  const hosts = d.strings(1, Infinity);
  return [{ class: 'bind', value: hosts, directive: 'bind', span: d.span }];
}
