import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ERROR_CODES, didYouMean, unknownName } from '../../src/host/errors.ts';

test('README error table lists exactly the codes in src/host/errors.ts', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Error codes'));
  const table = section.slice(0, section.indexOf('\n## ', 5));
  const listed = [...table.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(listed, Object.keys(ERROR_CODES).sort());
});

test('config errors render file:line:col, what was wrong, what was expected', () => {
  const e = new ConfigError('ERR_CFG_ARGS', { file: 'Caddyfile', line: 3, column: 5 }, 'invalid port', { expected: 'a number', hint: 'did you mean x?' });
  assert.equal(e.message, 'Caddyfile:3:5: invalid port; expected a number (did you mean x?)');
  assert.equal(e.code, 'ERR_CFG_ARGS');
});

test('did-you-mean finds close names and ignores far ones', () => {
  assert.equal(didYouMean('tranport', ['transport', 'anonymous']), 'transport');
  assert.equal(didYouMean('zzzz', ['transport', 'anonymous']), undefined);
  const e = unknownName('subdirective in mercure', 'anonymus', { file: 'F', line: 1, column: 2 }, ['anonymous', 'ui']);
  assert.equal(e.message, 'F:1:2: unknown subdirective in mercure "anonymus"; expected one of anonymous, ui (did you mean "anonymous"?)');
});
