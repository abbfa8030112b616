/**
 * Bounded config reading: hostile Caddyfiles end in clean `file:line:col`
 * errors, never in a stack overflow, a hang or an exhausted memory. Deep
 * nesting is capped; `import` reads only regular files of bounded size;
 * imports and snippets expand to a bounded number of tokens.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCaddyfile } from '../../grammar/index.ts';
import { MAX_NESTING } from '../../grammar/parser.ts';
import { MAX_EXPANDED_TOKENS } from '../../grammar/expand.ts';
import { MAX_IMPORT_BYTES } from '../../grammar/imports.ts';
import { adaptCaddyfile } from '../../directives/adapter.ts';

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'qs-limits-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

const parse = (text: string) => {
  const r = parseCaddyfile(text, { file: join(dir, 'Caddyfile'), env: {} });
  return r.errors.map((e) => e.message.replaceAll(dir + '/', ''));
};
const nested = (levels: number, close = true) => ':80 {\n' + 'route {\n'.repeat(levels) + (close ? '}\n'.repeat(levels) : '') + '}\n';

test('20,000 nested blocks: one clean file:line:col error, no stack overflow', () => {
  const errors = parse(nested(20_000));
  assert.deepEqual(errors, [`Caddyfile:${MAX_NESTING + 1}:7: blocks are nested more than ${MAX_NESTING} levels deep; expected at most ${MAX_NESTING} nested blocks`]);
  // Unclosed, too: the error, then the end of input inside the outer block.
  const unclosed = parse(nested(20_000, false));
  assert.equal(unclosed[0], `Caddyfile:${MAX_NESTING + 1}:7: blocks are nested more than ${MAX_NESTING} levels deep; expected at most ${MAX_NESTING} nested blocks`);
  assert.match(unclosed[1]!, /unexpected EOF/);
  // Through the whole adapter (what `adapt`, `run` and `validate` do): a ConfigError, not a RangeError.
  assert.throws(() => adaptCaddyfile(nested(20_000), { file: join(dir, 'Caddyfile') } as never), (err: Error) => err.name !== 'RangeError' && /nested more than/.test(err.message));
  // As deep as allowed still parses.
  assert.deepEqual(parse(nested(MAX_NESTING - 1)), []);
});

test('import refuses devices, FIFOs and oversized files; a directory keeps its message', () => {
  assert.deepEqual(parse('import /dev/zero'), ["Caddyfile:1:8: Could not import /dev/zero: not a regular file (a device, FIFO or socket)"]);
  assert.deepEqual(parse('import /dev/null'), ["Caddyfile:1:8: Could not import /dev/null: not a regular file (a device, FIFO or socket)"]);
  const fifo = join(dir, 'pipe.caddy');
  execFileSync('mkfifo', [fifo]);
  assert.deepEqual(parse('import pipe.caddy'), [`Caddyfile:1:8: Could not import pipe.caddy: not a regular file (a device, FIFO or socket)`]);
  const big = join(dir, 'big.caddy');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, MAX_IMPORT_BYTES + 1); // sparse: no disk used
  closeSync(fd);
  assert.deepEqual(parse('import big.caddy'), [`Caddyfile:1:8: Could not import big.caddy: larger than ${MAX_IMPORT_BYTES} bytes`]);
  mkdirSync(join(dir, 'adir'));
  assert.deepEqual(parse('import adir'), ['Caddyfile:1:8: Could not import adir: is a directory']);
  assert.ok(existsSync(fifo));
});

test('snippets that double at every level stop at the expansion bound with a clear error', () => {
  // (s0) is 4 tokens; (sN) imports (sN-1) twice: s30 would be 2^30 copies.
  let text = '(s0) {\n\trespond "x"\n}\n';
  for (let i = 1; i <= 30; i++) text += `(s${i}) {\n\timport s${i - 1}\n\timport s${i - 1}\n}\n`;
  text += ':80 {\n\timport s30\n}\n';
  const errors = parse(text);
  assert.equal(errors.length, 1, "reported once");
  assert.match(errors[0]!, new RegExp(`^Caddyfile:\\d+:\\d+: imports and snippets expand to more than ${MAX_EXPANDED_TOKENS} tokens \\(import s\\d+\\)`));
});
