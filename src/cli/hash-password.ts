/**
 * `quicksilver hash-password`: as `caddy hash-password`, hashes a password for
 * Caddy's basic_auth: bcrypt (cost 14) by default, or argon2id
 * (`$argon2id$v=19$m=47104,t=1,p=1$<salt>$<hash>`, Caddy's defaults). The
 * password comes from --plaintext, else standard input: on a terminal it is
 * asked twice without echo, otherwise the first line is read.
 */
import { argon2, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { QsError } from '../host/errors.ts';
import type { Flags } from './args.ts';

function intFlag(f: Flags, name: string, dflt: number, min: number, max: number): number {
  const v = f[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new QsError('ERR_CLI_USAGE', `invalid argument "${String(v)}" for "--${name}" flag: expected an integer from ${min} to ${max}`);
  return n;
}

/** Reads lines from a terminal with echo off (raw mode); keeps what follows a line for the next one. */
class HiddenReader {
  #buffer = '';
  #wake: (() => void) | undefined;
  #ended = false;
  #onData = (chunk: string) => { this.#buffer += chunk; this.#wake?.(); };

  constructor() {
    process.stdin.setRawMode(true);
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', this.#onData);
    process.stdin.resume();
  }

  async line(prompt: string): Promise<string> {
    process.stderr.write(prompt);
    let text = '';
    for (;;) {
      while (this.#buffer.length) {
        const ch = this.#buffer[0]!;
        this.#buffer = this.#buffer.slice(1);
        if (ch === '\r' || ch === '\n') {
          if (ch === '\r' && this.#buffer[0] === '\n') this.#buffer = this.#buffer.slice(1);
          process.stderr.write('\n');
          return text;
        }
        if (ch === '\u0003' || ch === '\u0004') { this.#ended = true; throw new QsError('ERR_CLI_USAGE', 'interrupted'); }
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1); else text += ch;
      }
      if (this.#ended) throw new QsError('ERR_CLI_USAGE', 'interrupted');
      await new Promise<void>((r) => { this.#wake = r; });
    }
  }

  close(): void {
    process.stdin.off('data', this.#onData);
    process.stdin.setRawMode(false);
    process.stdin.pause();
  }
}

async function readFirstLine(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    const nl = text.indexOf('\n');
    if (nl >= 0) return text.slice(0, nl).replace(/\r$/, '');
  }
  return text;
}

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) return readFirstLine();
  const r = new HiddenReader();
  try {
    const a = await r.line('Enter password: ');
    const b = await r.line('Confirm password: ');
    if (a !== b) throw new QsError('ERR_CLI_USAGE', 'password does not match');
    return a;
  } finally { r.close(); }
}

export async function hashPasswordCommand(f: Flags): Promise<number> {
  const algorithm = (f.algorithm as string | undefined) ?? 'bcrypt';
  if (algorithm !== 'bcrypt' && algorithm !== 'argon2id') throw new QsError('ERR_CLI_USAGE', `unrecognized hash algorithm: ${algorithm}`);
  const cost = intFlag(f, 'bcrypt-cost', 14, 4, 31);
  const time = intFlag(f, 'argon2id-time', 1, 1, 2 ** 32 - 1);
  const memory = intFlag(f, 'argon2id-memory', 46 * 1024, 8, 2 ** 32 - 1);
  const threads = intFlag(f, 'argon2id-threads', 1, 1, 255);
  const keylen = intFlag(f, 'argon2id-keylen', 32, 4, 2 ** 32 - 1);
  const plaintext = typeof f.plaintext === 'string' && f.plaintext !== '' ? f.plaintext : await readPassword();
  if (plaintext === '') throw new QsError('ERR_CLI_USAGE', 'plaintext is required');
  let hash: string;
  if (algorithm === 'bcrypt') {
    if (Buffer.byteLength(plaintext) > 72) throw new QsError('ERR_CLI_USAGE', 'bcrypt: password length exceeds 72 bytes');
    hash = bcrypt.hashSync(plaintext, cost);
  } else {
    const salt = randomBytes(16);
    const key = await new Promise<Buffer>((resolve, reject) => argon2('argon2id', {
      message: plaintext, nonce: salt, parallelism: threads, tagLength: keylen, memory, passes: time,
    }, (err, k) => (err ? reject(new QsError('ERR_CLI_USAGE', `argon2id: ${err.message}`)) : resolve(k))));
    const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
    hash = `$argon2id$v=19$m=${memory},t=${time},p=${threads}$${b64(salt)}$${b64(key)}`;
  }
  process.stdout.write(hash + '\n');
  return 0;
}
