/**
 * Durations in configs. The Caddyfile writes Go-style strings (`40s`, `1h30m`,
 * `0`, plus `d` for days); JSON configs may hold either such a string or an
 * integer of nanoseconds, as Caddy's JSON does. Modules read them with toMs().
 */
const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };

/** Parses a duration string to milliseconds; undefined when malformed. */
export function parseDurationString(text: string): number | undefined {
  let s = text.trim();
  if (s === '0') return 0;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) { sign = s[0] === '-' ? -1 : 1; s = s.slice(1); }
  if (s === '') return undefined;
  const re = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h|d)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  return sign * total;
}

/** Reads a config duration (string or nanoseconds) as milliseconds, or the fallback when absent. */
export function toMs(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number') return value / 1e6;
  if (typeof value === 'string') {
    const ms = parseDurationString(value);
    if (ms !== undefined) return ms;
  }
  throw new TypeError(`invalid duration ${JSON.stringify(value)}`);
}

/** Formats milliseconds as a Go-style duration string (`1h2m3s`, `250ms`, `0s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  const h = Math.floor(rest / 3600e3); if (h) { parts.push(`${h}h`); rest -= h * 3600e3; }
  const m = Math.floor(rest / 60e3); if (m) { parts.push(`${m}m`); rest -= m * 60e3; }
  if (rest) parts.push(rest % 1000 === 0 ? `${rest / 1000}s` : `${rest}ms`);
  return parts.join('');
}
