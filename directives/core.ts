/**
 * Caddy's own global options (caddy.md §3.2). Options that change behaviour
 * here are parsed into typed values; ACME and certificate-automation options
 * are accepted so existing Caddyfiles load, left out of the JSON, and have no
 * effect (this server issues only internal certificates; README says so).
 */
import { unknownName } from '../src/host/errors.ts';
import type { Dispenser } from '../src/caddyfile/dispenser.ts';
import { parseMetricsOption } from './metrics.ts';
import { rawValue } from './raw.ts';
import { getStorage, registerGlobalOption, registerStorage, storageNames } from './registry.ts';
import { parseDuration, parseEnum, parseInt10 } from '../src/caddyfile/values.ts';

/** `order <dir> first|last|before <other>|after <other>`: collected, applied by the adapter. */
export interface OrderRule { directive: string; position: 'first' | 'last' | 'before' | 'after'; other?: string; span: string }

const flag = (d: Dispenser): boolean => { d.args(0); d.noBlock(); return true; };
const raw = (d: Dispenser) => rawValue(d);

/**
 * Options accepted so existing Caddyfiles load, with no effect here. `true`
 * means adapt warns about it (the user may expect something to happen);
 * `false` means the option asks for what this server does anyway (internal
 * certificates, no trust-store install) or only tunes something absent here.
 */
export const INERT_OPTIONS: Record<string, boolean> = {
  acme_ca: true, acme_ca_root: true, acme_dns: true, acme_eab: true, cert_issuer: true, email: true,
  on_demand_tls: true, key_type: true, ocsp_stapling: true, cert_lifetime: true, preferred_chains: true,
  renew_interval: true, ocsp_interval: true, dns: true, ech: true, tls_resolvers: true, renewal_window_ratio: true,
  default_sni: true, fallback_sni: true, pki: true, events: true, filesystem: true, tracing: true,
  skip_install_trust: false, local_certs: false, persist_config: false, storage_check: false,
  storage_clean_interval: false,
};

export function registerCoreDirectives(): void {
  registerGlobalOption('debug', flag);
  registerGlobalOption('http_port', (d) => parseInt10(d.args(1)[0]!, 0, 65535));
  registerGlobalOption('https_port', (d) => parseInt10(d.args(1)[0]!, 0, 65535));
  registerGlobalOption('default_bind', (d) => d.strings(1, Infinity));
  registerGlobalOption('grace_period', (d) => parseDuration(d.args(1)[0]!));
  registerGlobalOption('shutdown_delay', (d) => parseDuration(d.args(1)[0]!));
  registerGlobalOption('auto_https', (d) => parseEnum(d.args(1)[0]!, ['off', 'disable_redirects', 'disable_certs', 'ignore_loaded_certs'] as const));
  registerGlobalOption('servers', (d, prev) => [...((prev as unknown[]) ?? []), raw(d)]);
  registerGlobalOption('log', (d, prev) => [...((prev as unknown[]) ?? []), raw(d)]);
  registerGlobalOption('metrics', parseMetricsOption);
  registerGlobalOption('order', (d, prev) => {
    const [dir, pos, other] = d.args(2, 3);
    const position = parseEnum(pos!, ['first', 'last', 'before', 'after'] as const);
    if ((position === 'before' || position === 'after') !== (other !== undefined)) throw d.argErr();
    const rule: OrderRule = { directive: dir!.text, position, other: other?.text, span: d.where };
    return [...((prev as OrderRule[]) ?? []), rule];
  });
  registerGlobalOption('admin', (d) => {
    const first = d.nextArg();
    if (first?.text === 'off') { d.done(); d.noBlock(); return { disabled: true }; }
    d.done();
    const out: Record<string, unknown> = { listen: first?.text ?? 'localhost:2019' };
    for (const line of d.block()) {
      if (line.name === 'origins') out.origins = line.strings(1, Infinity);
      else if (line.name === 'enforce_origin') { line.args(0); out.enforce_origin = true; }
      else throw unknownName('subdirective in admin', line.name, line.span, ['origins', 'enforce_origin']);
    }
    return out;
  });
  // Quicksilver's own: N processes on the same listeners (src/runtime/workers.ts).
  registerGlobalOption('workers', (d) => {
    const t = d.args(1)[0]!;
    if (t.text === 'auto') return 'auto';
    return parseInt10(t, 1, 1024);
  });
  registerGlobalOption('storage', (d) => {
    const name = d.nextArg();
    if (!name) throw d.argErr();
    const parse = getStorage(name.text);
    if (!parse) throw unknownName('storage module', name.text, name.span, storageNames());
    return { module: name.text, '@span': d.where, ...parse(d) };
  });
  for (const name of Object.keys(INERT_OPTIONS)) registerGlobalOption(name, raw);

  registerStorage('file_system', (d) => {
    const args = d.remaining();
    const out: Record<string, unknown> = {};
    if (args[0]) out.root = args[0].text;
    for (const line of d.block()) {
      if (line.name !== 'root') throw unknownName('subdirective in storage file_system', line.name, line.span, ['root']);
      out.root = line.string();
    }
    return out;
  });
}
