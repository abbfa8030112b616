/**
 * Provision-time placeholders for the Redis storage options. Caddy resolves
 * them with a replacer that knows only global values (no request), in
 * ReplaceAll mode with a per-field fallback: `{env.REDIS_HOST}` unset gives the
 * default host, not an empty string. Kept here, not in src/http/replacer.ts,
 * because storage is provisioned before (and without) the HTTP app.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

function globalValue(key: string): string | undefined {
  if (key.startsWith('env.')) return process.env[key.slice(4)];
  if (key.startsWith('file.')) {
    try { return readFileSync(key.slice(5)).subarray(0, 1 << 20).toString('utf8').replace(/\r?\n$/, ''); } catch { return undefined; }
  }
  switch (key) {
    case 'system.hostname': return hostname();
    case 'system.os': return process.platform;
    case 'system.wd': return process.cwd();
    case 'system.slash': return '/';
  }
  return undefined;
}

/**
 * Replaces `{env.X}`, `{file./path}` and `{system.*}` in s. An unknown
 * placeholder (or an unset variable) becomes `fallback`; `\{` and `\}` stay literal braces.
 */
export function replaceGlobal(s: string, fallback = ''): string {
  if (!s.includes('{')) return s;
  return s.replace(/\\([{}])|\{([^{}]*)\}/g, (m, escaped: string | undefined, key: string | undefined) => {
    if (escaped) return escaped;
    if (!key) return m;
    return globalValue(key) ?? fallback;
  });
}
