/**
 * Golden adapt tests: every test/fixtures/adapt/*.caddyfiletest holds a Caddyfile,
 * a line of dashes, then either the expected JSON or `error: <expected message part>`
 * (several `error:` lines = several errors expected, in any order).
 * Optional first lines `# env NAME=value` set parse-time variables (`\n` in a value is a newline).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adaptCaddyfile } from '../../src/runtime/load-config.ts';
import { ConfigErrors } from '../../src/host/errors.ts';

const dir = join(import.meta.dirname, '..', 'fixtures', 'adapt');
const files = readdirSync(dir).filter((f) => f.endsWith('.caddyfiletest')).sort();

export function readGolden(path: string): { input: string; expected: string; env: Record<string, string> } {
  const text = readFileSync(path, 'utf8');
  const sep = /^-{10,}$/m.exec(text);
  if (!sep) throw new Error(`${path}: no separator line of dashes`);
  const input = text.slice(0, sep.index);
  const expected = text.slice(sep.index + sep[0].length).trim();
  const env: Record<string, string> = {};
  for (const m of input.matchAll(/^# env ([A-Z_][A-Z0-9_]*)=(.*)$/gm)) env[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  return { input, expected, env };
}

test('golden fixtures exist', () => {
  assert.ok(files.length > 0, 'no golden files found');
});

for (const f of files) {
  test(`adapt ${f}`, () => {
    const { input, expected, env } = readGolden(join(dir, f));
    if (expected.startsWith('error:')) {
      const wanted = expected.split('\n').map((l) => l.replace(/^error:\s*/, '').trim()).filter(Boolean);
      let err: unknown;
      try { adaptCaddyfile(input, { file: 'Caddyfile', env }); } catch (e) { err = e; }
      assert.ok(err instanceof ConfigErrors, `expected a config error, got ${err === undefined ? 'success' : String(err)}`);
      const messages = err.errors.map((e) => e.message);
      for (const w of wanted) assert.ok(messages.some((m) => m.includes(w)), `no error contains ${JSON.stringify(w)}; got:\n${messages.join('\n')}`);
      assert.equal(messages.length, wanted.length, `expected ${wanted.length} error(s), got:\n${messages.join('\n')}`);
    } else {
      const { config } = adaptCaddyfile(input, { file: 'Caddyfile', env });
      assert.deepEqual(config, JSON.parse(expected));
    }
  });
}
