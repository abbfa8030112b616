/**
 * The `tls` app (module `apps.tls`): certificates for HTTPS servers.
 *  - `certificates.load_files: [{ certificate, key, subjects? }]` loads PEM pairs
 *    (the `tls cert.pem key.pem` directive);
 *  - `automation.policies: [{ subjects, issuers: [{ module: "internal" }] }]` issues
 *    certificates from the local CA at provision. ACME issuers are not
 *    supported (no outbound network); they fall back to the internal issuer
 *    with a warning.
 * The local CA (root.crt/root.key) is generated once with node:crypto
 * (x509.ts) and kept in `<dataDir>/pki/authorities/local/`, so clients can
 * trust it across restarts; leaf certificates are made in memory.
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls, { type SecureContext } from 'node:tls';
import type { App, ModuleContext } from '../../host/module.ts';
import { QsError } from '../../host/errors.ts';
import { createCertificate, type KeyPair } from './x509.ts';
import { createPrivateKey } from 'node:crypto';

export interface TlsAppConfig {
  certificates?: { load_files?: { certificate: string; key: string; subjects?: string[]; tags?: string[] }[]; load_pem?: { certificate: string; key: string }[] };
  automation?: { policies?: { subjects?: string[]; issuers?: { module: string; [k: string]: unknown }[] }[] };
  [k: string]: unknown;
}

interface Loaded { names: string[]; cert: string; key: string; context: SecureContext }

const CA_NAME = 'Quicksilver Local Authority - Root';

/** Loads or creates the local CA under dir (memory only when dir is ''). */
export function localAuthority(dir: string): KeyPair {
  if (dir) {
    const base = join(dir, 'pki', 'authorities', 'local');
    try {
      const cert = readFileSync(join(base, 'root.crt'), 'utf8');
      const key = readFileSync(join(base, 'root.key'), 'utf8');
      return { cert, key, der: new X509Certificate(cert).raw, keyObject: createPrivateKey(key) };
    } catch { /* create below */ }
    const ca = createCertificate({ commonName: CA_NAME, isCA: true, days: 3650 });
    try {
      mkdirSync(base, { recursive: true });
      writeFileSync(join(base, 'root.crt'), ca.cert);
      writeFileSync(join(base, 'root.key'), ca.key, { mode: 0o600 });
    } catch { /* read-only data dir: keep it in memory */ }
    return ca;
  }
  return createCertificate({ commonName: CA_NAME, isCA: true, days: 3650 });
}

function namesOf(pem: string): string[] {
  const x = new X509Certificate(pem);
  const names = (x.subjectAltName ?? '').split(', ').map((e) => e.replace(/^(DNS|IP Address):/, '')).filter(Boolean);
  const cn = /CN=([^\n,]+)/.exec(x.subject)?.[1];
  return names.length ? names.map((n) => n.toLowerCase()) : cn ? [cn.toLowerCase()] : [];
}

export class TlsApp implements App {
  /** Lifecycle: nothing to check. */
  validate(): void {}
  readonly config: TlsAppConfig;
  #certs: Loaded[] = [];
  #ca: KeyPair | undefined;
  #ctx: ModuleContext | undefined;

  constructor(config: TlsAppConfig) {
    this.config = config;
  }

  async provision(ctx: ModuleContext): Promise<void> {
    this.#ctx = ctx;
    for (const f of this.config.certificates?.load_files ?? []) {
      let cert: string;
      let key: string;
      try {
        cert = readFileSync(f.certificate, 'utf8');
        key = readFileSync(f.key, 'utf8');
      } catch (e) {
        throw new QsError('ERR_MODULE_PROVISION', `loading certificate ${f.certificate}: ${(e as Error).message}`, { cause: e });
      }
      this.#add(cert, key, f.subjects);
    }
    for (const p of this.config.certificates?.load_pem ?? []) this.#add(p.certificate, p.key);
    for (const policy of this.config.automation?.policies ?? []) {
      const issuers = policy.issuers ?? [{ module: 'internal' }];
      if (!issuers.some((i) => i.module === 'internal')) {
        ctx.log.warn({ subjects: policy.subjects, issuers: issuers.map((i) => i.module) }, 'only the internal issuer is supported; issuing from the local CA');
      }
      if (policy.subjects?.length) this.issue(policy.subjects);
    }
  }

  #add(cert: string, key: string, subjects?: string[]): void {
    let context: SecureContext;
    try { context = tls.createSecureContext({ cert, key }); } catch (e) {
      throw new QsError('ERR_MODULE_PROVISION', `invalid certificate or key: ${(e as Error).message}`, { cause: e });
    }
    this.#certs.push({ names: subjects?.length ? subjects.map((s) => s.toLowerCase()) : namesOf(cert), cert, key, context });
  }

  /** The local CA (created on first use). */
  authority(): KeyPair {
    this.#ca ??= localAuthority(this.#ctx?.dataDir ?? '');
    return this.#ca;
  }

  /** Issues one internal certificate covering hosts. */
  issue(hosts: string[]): void {
    const ca = this.authority();
    const leaf = createCertificate({
      commonName: hosts[0] ?? 'localhost', sans: hosts, days: 7,
      issuer: { keyPair: ca, commonName: CA_NAME },
    });
    this.#add(leaf.cert + ca.cert, leaf.key, hosts);
  }

  /** Issues internal certificates for the hosts no loaded certificate covers ('localhost' for catch-all sites). */
  async ensure(hosts: string[]): Promise<void> {
    const want = (hosts.length ? hosts : ['localhost']).filter((h) => !this.#find(h));
    if (!this.#certs.length && !want.length) want.push('localhost');
    if (want.length) this.issue(want);
  }

  #find(name: string): Loaded | undefined {
    const n = name.toLowerCase();
    const dot = n.indexOf('.');
    const wild = dot > 0 ? '*' + n.slice(dot) : undefined;
    return this.#certs.find((c) => c.names.includes(n)) ?? (wild ? this.#certs.find((c) => c.names.includes(wild)) : undefined);
  }

  /** The SecureContext for an SNI name, if any certificate covers it. */
  contextFor(servername: string): SecureContext | undefined {
    return this.#find(servername)?.context;
  }

  /** Options for a TLS server: SNI selection plus a default certificate for clients without SNI. */
  serverOptions(): tls.TlsOptions {
    const def = this.#find('localhost') ?? this.#certs[0];
    return {
      ...(def ? { cert: def.cert, key: def.key } : {}),
      SNICallback: (name, cb) => cb(null, this.contextFor(name) ?? def?.context),
    };
  }

  async start(): Promise<void> { /* certificates are ready after provision */ }
  async stop(): Promise<void> { /* nothing runs */ }
  cleanup(): void { this.#certs = []; }
}
