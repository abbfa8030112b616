/**
 * A minimal X.509 v3 certificate writer (DER/ASN.1 by hand, signed with
 * node:crypto), enough for the internal issuer: a self-signed root CA and
 * leaf certificates with subjectAltName DNS/IP entries. ECDSA P-256 keys,
 * ecdsa-with-SHA256 signatures. No openssl binary needed.
 */
import { type KeyObject, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import net from 'node:net';

type Der = Buffer;

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
function tlv(tag: number, body: Buffer): Der { return Buffer.concat([Buffer.from([tag]), len(body.length), body]); }
const seq = (...items: Der[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Der[]) => tlv(0x31, Buffer.concat(items));
const ctx = (n: number, body: Der, constructed = true) => tlv((constructed ? 0xa0 : 0x80) | n, body);
const octets = (b: Buffer) => tlv(0x04, b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
function int(b: Buffer): Der {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  let v = b.subarray(i);
  if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return tlv(0x02, v);
}
function oid(text: string): Der {
  const parts = text.split('.').map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const stack: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) stack.unshift((v & 0x7f) | 0x80);
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}
function bits(b: Buffer): Der { return tlv(0x03, Buffer.concat([Buffer.from([0]), b])); }
function time(d: Date): Der {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}
function name(cn: string, org: string): Der {
  return seq(set(seq(oid('2.5.4.10'), utf8(org))), set(seq(oid('2.5.4.3'), utf8(cn))));
}
function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  const [h, t] = ip.split('::') as [string, string | undefined];
  const g = (s?: string) => (s ? s.split(':').map((x) => parseInt(x, 16)) : []);
  const head = g(h);
  const tail = g(t);
  const all = t === undefined ? head : [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  const b = Buffer.alloc(16);
  all.forEach((v, i) => b.writeUInt16BE(v, i * 2));
  return b;
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

/** A certificate with its key, PEM-encoded. */
export interface KeyPair { cert: string; key: string; der: Buffer; keyObject: KeyObject }

export interface CertOptions {
  commonName: string;
  /** DNS names and IP addresses for subjectAltName (leaf only). */
  sans?: string[];
  isCA?: boolean;
  /** Signing CA; self-signed when absent. */
  issuer?: { keyPair: KeyPair; commonName: string };
  days: number;
}

/** Creates a certificate and a fresh P-256 key. */
export function createCertificate(o: CertOptions): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const now = Date.now();
  const org = 'Quicksilver Local Authority';
  const exts: Der[] = [];
  if (o.isCA) {
    exts.push(seq(oid('2.5.29.19'), bool(true), octets(seq(bool(true)))));
    exts.push(seq(oid('2.5.29.15'), bool(true), octets(bits(Buffer.from([0x06]))))); // keyCertSign | cRLSign
  } else {
    exts.push(seq(oid('2.5.29.15'), bool(true), octets(bits(Buffer.from([0x80]))))); // digitalSignature
    exts.push(seq(oid('2.5.29.37'), octets(seq(oid('1.3.6.1.5.5.7.3.1')))));
    const alt = (o.sans ?? []).map((s) => (net.isIP(s) ? ctx(7, ipBytes(s), false) : ctx(2, Buffer.from(s, 'ascii'), false)));
    if (alt.length) exts.push(seq(oid('2.5.29.17'), octets(seq(...alt))));
  }
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const tbs = seq(
    ctx(0, int(Buffer.from([2]))),
    int(serial),
    ECDSA_SHA256,
    name(o.issuer?.commonName ?? o.commonName, org),
    seq(time(new Date(now - 3600_000)), time(new Date(now + o.days * 86400_000))),
    name(o.commonName, org),
    spki,
    ctx(3, seq(...exts)),
  );
  const signer = o.issuer?.keyPair.keyObject ?? privateKey;
  const der = seq(tbs, ECDSA_SHA256, bits(sign('sha256', tbs, signer)));
  return {
    der,
    cert: toPem(der, 'CERTIFICATE'),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    keyObject: privateKey,
  };
}

/** DER → PEM. */
export function toPem(der: Buffer, label: string): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** The public key of a PEM certificate (for verification in tests). */
export function certificatePublicKey(pem: string): KeyObject { return createPublicKey(pem); }
