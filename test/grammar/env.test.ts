import { test } from 'node:test';
import assert from 'node:assert/strict';
import { substituteEnv, substituteEnvMapped } from '../../grammar/env.ts';

// Caddy's own vectors (caddy.md §1.2) with FOOBAR=foobar and CHAINED=$FOOBAR.
const env = { FOOBAR: 'foobar', CHAINED: '$FOOBAR', EMPTY: '', NESTED: '{$FOOBAR}', MULTI: 'a\nb\nc' };

const vectors: [input: string, expected: string][] = [
  ['foo{$NOT_SET}bar', 'foobar'],
  ['{$CHAINED}', '$FOOBAR'],
  ['{$FOO:default}', 'default'],
  ['{$FOOBAR', '{$FOOBAR'],
  ['{$LONGER_NAME $FOOBAR}', ''],
  ['{$}', '{$}'],
  ['{$$}', ''],
  ['{$ADDR::8080}', ':8080'],
  ['{$FOOBAR:ignored}', 'foobar'],
  ['{$EMPTY:localhost} {', ' {'],
  ['{$NESTED}', '{$FOOBAR}'],
  ['{$}{$FOOBAR}', '{$}foobar'],
  ['a {$FOOBAR} b {$FOOBAR}', 'a foobar b foobar'],
  ['{$NOT_SET:a:b:c}', 'a:b:c'],
  ['x {$FOOBAR} {$UNCLOSED', 'x foobar {$UNCLOSED'],
  ['# comment {$FOOBAR}', '# comment foobar'],
  ['"{$FOOBAR}"', '"foobar"'],
  ['{$MULTI}', 'a\nb\nc'],
];

for (const [input, expected] of vectors) {
  test(`substituteEnv ${JSON.stringify(input)}`, () => {
    assert.equal(substituteEnv(input, env), expected);
  });
}

test('a key present with an undefined value counts as unset', () => {
  assert.equal(substituteEnv('{$X:fallback}', { X: undefined }), 'fallback');
});

test('offsets map back to the source; a value maps to its placeholder', () => {
  const src = 'ab {$MULTI} cd';
  const out = substituteEnvMapped(src, env);
  assert.equal(out.text, 'ab a\nb\nc cd');
  assert.equal(out.toSource(0), 0); // 'a' of ab
  assert.equal(out.toSource(3), 3); // first char of the value -> '{' of the placeholder
  assert.equal(out.toSource(7), 3); // 'c' inside the value -> still the placeholder
  assert.equal(out.toSource(9), 12); // 'c' of cd: after the placeholder (ends at 10), shifted back
  assert.equal(out.toSource(out.text.length), src.length);
});

test('a removed (empty) value leaves no segment behind', () => {
  const out = substituteEnvMapped('{$UNSET}x', env);
  assert.equal(out.text, 'x');
  assert.equal(out.toSource(0), 8);
});
