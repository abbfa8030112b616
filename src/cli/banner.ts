/**
 * What `run` tells a person once serving, as log entries (logger
 * `http.handlers.mercure`): where the hub is, and a loud warning while a
 * documented development key signs tokens.
 */
const DEV_KEYS = new Set(['!ChangeThisMercureHubJWTSecretKey!', '!ChangeMe!']);

interface Found { listen: string[]; tls: boolean; keys: string[] }

function walk(node: unknown, visit: (o: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) { for (const n of node) walk(n, visit); return; }
  if (!node || typeof node !== 'object') return;
  visit(node as Record<string, unknown>);
  for (const v of Object.values(node)) walk(v, visit);
}

function resolveEnv(s: string): string {
  return s.replace(/\{env\.([^}]+)\}/g, (_m, name: string) => process.env[name] ?? '');
}

/** Servers that contain a mercure handler, with their listeners and configured keys. */
function findHubs(config: Record<string, unknown>): Found[] {
  const servers = ((config.apps as Record<string, unknown> | undefined)?.http as { servers?: Record<string, Record<string, unknown>> } | undefined)?.servers ?? {};
  const out: Found[] = [];
  for (const srv of Object.values(servers)) {
    const keys: string[] = [];
    let hub = false;
    walk(srv.routes, (o) => {
      if (o.handler !== 'mercure') return;
      hub = true;
      for (const k of ['publisher_jwt', 'subscriber_jwt']) {
        const key = (o[k] as { key?: string } | undefined)?.key;
        if (key) keys.push(resolveEnv(key));
      }
    });
    if (hub) out.push({ listen: (srv.listen as string[]) ?? [], tls: Array.isArray(srv.tls_connection_policies), keys });
  }
  return out;
}

/** A log entry `run` writes once serving. */
export interface BannerEntry { level: 'info' | 'warn'; msg: string; fields: Record<string, unknown> }

/** The entries to log after the config loaded: each hub's URL, then the development-key warning. */
export function banner(config: Record<string, unknown>): BannerEntry[] {
  const out: BannerEntry[] = [];
  let dev = false;
  for (const hub of findHubs(config)) {
    for (const l of hub.listen) {
      const m = /^(.*):(\d+)$/.exec(l);
      const host = m?.[1] && m[1] !== '0.0.0.0' && m[1] !== '[::]' ? m[1] : 'localhost';
      const url = `${hub.tls ? 'https' : 'http'}://${host}:${m?.[2] ?? l}/.well-known/mercure`;
      out.push({ level: 'info', msg: `Mercure hub: ${url}`, fields: { url } });
    }
    if (hub.keys.some((k) => DEV_KEYS.has(k))) dev = true;
  }
  if (dev) {
    out.push({
      level: 'warn',
      msg: 'WARNING: the hub verifies JWTs with the PUBLIC development key "!ChangeThisMercureHubJWTSecretKey!". '
        + 'Anyone can publish and read private updates. Set MERCURE_PUBLISHER_JWT_KEY and MERCURE_SUBSCRIBER_JWT_KEY to secrets of your own.',
      fields: { development_key: true },
    });
  }
  return out;
}
