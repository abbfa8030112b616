import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize } from '../../grammar/lexer.ts';

/** [text, quote, caddyLine, span line, span column]; newline tokens left out. */
type Row = [string, string, number, number, number];

function lex(input: string, env: Record<string, string> = {}): { rows: Row[]; kinds: string[]; errors: string[] } {
  const r = tokenize(input, { file: 'Caddyfile', env });
  const real = r.tokens.filter((t) => t.kind !== 'eol');
  return {
    rows: real.map((t) => [t.text, t.quote, t.caddyLine, t.span.line, t.span.column]),
    kinds: r.tokens.map((t) => t.kind),
    errors: r.errors.map((e) => e.message),
  };
}

// caddy.md §1.9, plus line AND column of each token.
const vectors: { name: string; input: string; rows: Row[] }[] = [
  {
    name: 'block', input: 'host:123 {\n  dir arg\n}',
    rows: [['host:123', '', 1, 1, 1], ['{', '', 1, 1, 10], ['dir', '', 2, 2, 3], ['arg', '', 2, 2, 7], ['}', '', 3, 3, 1]],
  },
  {
    name: 'escaped quotes', input: 'A "quoted \\"value\\" inside" B',
    rows: [['A', '', 1, 1, 1], ['quoted "value" inside', '"', 1, 1, 3], ['B', '', 1, 1, 29]],
  },
  {
    name: 'backticks', input: 'nested `"quotes inside" backticks` string',
    rows: [['nested', '', 1, 1, 1], ['"quotes inside" backticks', '`', 1, 1, 8], ['string', '', 1, 1, 36]],
  },
  { name: 'empty quoted', input: 'empty "" string', rows: [['empty', '', 1, 1, 1], ['', '"', 1, 1, 7], ['string', '', 1, 1, 10]] },
  {
    name: 'line continuation', input: 'line1\\\nescaped\nline2',
    // Caddy keeps the first line's number; the span holds the physical position
    rows: [['line1', '', 1, 1, 1], ['escaped', '', 1, 2, 1], ['line2', '', 3, 3, 1]],
  },
  {
    name: 'multi-line quote', input: 'A "multi\nline" {\nx\n}',
    rows: [['A', '', 1, 1, 1], ['multi\nline', '"', 1, 1, 3], ['{', '', 2, 2, 7], ['x', '', 3, 3, 1], ['}', '', 4, 4, 1]],
  },
  {
    name: 'heredoc', input: 'heredoc <<EOF\n\tcontent\n\tEOF next',
    rows: [['heredoc', '', 1, 1, 1], ['content', '<', 1, 1, 9], ['next', '', 3, 3, 6]],
  },
  { name: 'not a heredoc', input: 'not-a-heredoc <<HERE SAME', rows: [['not-a-heredoc', '', 1, 1, 1], ['<<HERE', '', 1, 1, 15], ['SAME', '', 1, 1, 22]] },
  { name: 'escaped heredoc', input: 'escaped \\<< >>', rows: [['escaped', '', 1, 1, 1], ['<<', '', 1, 1, 9], ['>>', '', 1, 1, 13]] },
  { name: 'comment', input: 'foo#bar # comment', rows: [['foo#bar', '', 1, 1, 1]] },
];

for (const v of vectors) {
  test(`lexer §1.9: ${v.name}`, () => {
    const { rows, errors } = lex(v.input);
    assert.deepEqual(rows, v.rows);
    assert.deepEqual(errors, []);
  });
}

const more: { name: string; input: string; rows: Row[] }[] = [
  { name: 'windows paths keep backslashes', input: '"C:\\php\\php-cgi.exe"', rows: [['C:\\php\\php-cgi.exe', '"', 1, 1, 1]] },
  { name: '\\\\ inside quotes keeps both', input: '"don\'t\\\\escape"', rows: [["don't\\\\escape", '"', 1, 1, 1]] },
  { name: 'quote ends the token', input: '"a"b', rows: [['a', '"', 1, 1, 1], ['b', '', 1, 1, 4]] },
  { name: 'mid-token quote is literal', input: 'ab"c', rows: [['ab"c', '', 1, 1, 1]] },
  { name: 'backticks keep backslashes and newlines', input: '`a\\`', rows: [['a\\', '`', 1, 1, 1]] },
  { name: 'backtick inside double quotes', input: '"a`b"', rows: [['a`b', '"', 1, 1, 1]] },
  { name: 'other escapes stay verbatim', input: 'un\\escapable \\{x\\}', rows: [['un\\escapable', '', 1, 1, 1], ['\\{x\\}', '', 1, 1, 14]] },
  { name: 'hash inside a path', input: 'redir / /some/#/path', rows: [['redir', '', 1, 1, 1], ['/', '', 1, 1, 7], ['/some/#/path', '', 1, 1, 9]] },
  { name: 'comment after a closing quote', input: '"a"#b c\nd', rows: [['a', '"', 1, 1, 1], ['d', '', 2, 2, 1]] },
  { name: 'hash inside quotes', input: '"#x"', rows: [['#x', '"', 1, 1, 1]] },
  { name: 'continuation with spaces before the newline', input: 'a \\  \nb', rows: [['a', '', 1, 1, 1], ['b', '', 1, 2, 1]] },
  { name: 'CRLF behaves like LF', input: 'a b\r\nc\r\n', rows: [['a', '', 1, 1, 1], ['b', '', 1, 1, 3], ['c', '', 2, 2, 1]] },
  { name: 'CR kept inside quotes', input: '"x\r\ny"', rows: [['x\r\ny', '"', 1, 1, 1]] },
  { name: 'BOM dropped', input: '\ufeffa b', rows: [['a', '', 1, 1, 1], ['b', '', 1, 1, 3]] },
  { name: 'heredoc strips the closing indentation', input: 'r <<END\n    a\n\n      b\n    END x', rows: [['r', '', 1, 1, 1], ['a\n\n  b', '<', 1, 1, 3], ['x', '', 5, 5, 9]] },
  { name: 'heredoc with CRLF', input: 'r <<END\r\n\tline\r\n\tEND', rows: [['r', '', 1, 1, 1], ['line', '<', 1, 1, 3]] },
  { name: 'braces inside a heredoc are text', input: 'r <<E\n{\n}\nE', rows: [['r', '', 1, 1, 1], ['{\n}', '<', 1, 1, 3]] },
  { name: 'empty heredoc', input: 'r <<E\nE', rows: [['r', '', 1, 1, 1], ['', '<', 1, 1, 3]] },
  { name: '<<  followed by a space', input: 'a << b', rows: [['a', '', 1, 1, 1], ['<<', '', 1, 1, 3], ['b', '', 1, 1, 6]] },
  { name: 'env value lines map to the placeholder', input: 'x {$V} y\nz', rows: [['x', '', 1, 1, 1], ['p', '', 1, 1, 3], ['q', '', 2, 1, 3], ['y', '', 2, 1, 8], ['z', '', 3, 2, 1]] },
];

for (const v of more) {
  test(`lexer: ${v.name}`, () => {
    const { rows, errors } = lex(v.input, { V: 'p\nq' });
    assert.deepEqual(rows, v.rows);
    assert.deepEqual(errors, []);
  });
}

test('bare braces are structural; glued or quoted ones are words', () => {
  const r = tokenize('{ } {path} {} foo{bar} "{" }} `}`', { file: 'Caddyfile' });
  assert.deepEqual(r.tokens.map((t) => [t.kind, t.text, t.quote]), [
    ['open', '{', ''], ['close', '}', ''], ['word', '{path}', ''], ['word', '{}', ''], ['word', 'foo{bar}', ''],
    ['word', '{', '"'], ['word', '}}', ''], ['word', '}', '`'],
  ]);
});

test('newlines are tokens; continuations and comments are not', () => {
  const { kinds } = lex('a # c\nb \\\nc\n\nd');
  assert.deepEqual(kinds, ['word', 'eol', 'word', 'word', 'eol', 'eol', 'word']);
});

const errorVectors: [input: string, errors: string[]][] = [
  ['x <<\nfoo', ['Caddyfile:1:3: missing opening heredoc marker on line #1; must contain only alphanumeric characters, dashes and underscores; got empty string']],
  ['x <<<EOF\nfoo', ["Caddyfile:1:3: too many '<' for heredoc on line #1; only use two, for example <<END"]],
  ['x\ny <<END!\nfoo', ["Caddyfile:2:3: heredoc marker on line #2 must contain only alphanumeric characters, dashes and underscores; got 'END!'"]],
  ['respond <<EOF\nhello', ['Caddyfile:1:9: incomplete heredoc <<EOF on line #1, expected ending marker EOF']],
  [':80\n\nrespond <<END\n  ok\n\tline1\n  END', ['Caddyfile:5:1: mismatched leading whitespace in heredoc <<END on line #5 [\tline1], expected whitespace [  ] to match the closing marker']],
  // the early-end quirk: the body line containing EOF ends the heredoc there
  ['respond <<EOF\n    Hello\n    # missing EOF marker\n', ['Caddyfile:2:1: mismatched leading whitespace in heredoc <<EOF on line #2 [    Hello], expected whitespace [    # missing ] to match the closing marker']],
  ['a "open', ['Caddyfile:1:3: unclosed double quote; expected a closing " before the end of the file']],
  ['a `open', ['Caddyfile:1:3: unclosed backtick; expected a closing ` before the end of the file']],
];

for (const [input, errors] of errorVectors) {
  test(`lexer error: ${JSON.stringify(input)}`, () => {
    assert.deepEqual(lex(input).errors, errors);
  });
}

test('errors carry the ERR_CFG_SYNTAX code and the import chain of the file', () => {
  const r = tokenize('a "x', { file: 'sub.caddy', imports: ['Caddyfile:3 (import sub.caddy)'] });
  assert.equal(r.errors[0]!.code, 'ERR_CFG_SYNTAX');
  assert.deepEqual(r.errors[0]!.span, { file: 'sub.caddy', line: 1, column: 3, imports: ['Caddyfile:3 (import sub.caddy)'] });
  assert.deepEqual(r.tokens[0]!.span.imports, ['Caddyfile:3 (import sub.caddy)']);
});
