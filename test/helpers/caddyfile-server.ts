/**
 * Starts a Caddyfile in-process the way `quicksilver run` would, with every
 * listener moved to 127.0.0.1:0: adapt (all directives, the Mercure modules),
 * then provision and start through test/http/helpers.ts. Stopped in t.after.
 */
import type { TestContext } from 'node:test';
import { adaptCaddyfile } from '../../src/runtime/load-config.ts';
import { start, type Running } from '../http/helpers.ts';
import { registerStandardModules } from '../../src/runtime/standard.ts';

registerStandardModules();

/** The running config, and the name of its first server (for app.server()). */
export async function startCaddyfile(t: TestContext, text: string): Promise<Running & { serverName: string }> {
  const r = adaptCaddyfile(text, { file: 'Caddyfile', env: {}, readFile: () => '' });
  const apps = r.config.apps as { http: { servers: Record<string, { listen: string[] }> } };
  for (const s of Object.values(apps.http.servers)) s.listen = ['127.0.0.1:0'];
  const srv = await start(t, apps);
  return Object.assign(srv, { serverName: Object.keys(apps.http.servers)[0]! });
}

/** A hub site on https://localhost with the internal CA (bolt transport, anonymous), plus `extra` mercure lines. */
export function tlsHubCaddyfile(extra: string[]): string {
  const lines = ['anonymous', 'transport bolt', ...extra].map((l) => `\t\t${l}\n`).join('');
  return `{\n\tlocal_certs\n\tskip_install_trust\n}\nhttps://localhost:8443 {\n\ttls internal\n\tmercure {\n${lines}\t}\n}\n`;
}
