import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstUnformattedLine, formatCaddyfile } from '../../grammar/index.ts';

// caddy.md §4.1 and Caddy's formatter_test.go vectors. Expected outputs get the final '\n' added.
const vectors: [name: string, input: string, expected: string][] = [
  ['spaces collapse', 'abc   def\n\tg hi jkl\nmn', 'abc def\ng hi jkl\nmn'],
  ['indentation, line breaks and nesting',
    '  a\nb\n\n\tc {\n\t\td\n}\n\ne { f\n}\n\n\n\ng {\nh {\ni\n}\n}\n\nj { k {\nl\n}\n}\n\nm {\n\tn { o\n\t}\n\tp { q r\ns }\n}\n\n\t{\n{ t\n\t\tu\n\n\tv\n\nw\n}\n}',
    'a\nb\n\nc {\n\td\n}\n\ne {\n\tf\n}\n\ng {\n\th {\n\t\ti\n\t}\n}\n\nj {\n\tk {\n\t\tl\n\t}\n}\n\nm {\n\tn {\n\t\to\n\t}\n\tp {\n\t\tq r\n\t\ts\n\t}\n}\n\n{\n\t{\n\t\tt\n\t\tu\n\n\t\tv\n\n\t\tw\n\t}\n}'],
  ['a{ becomes a {', 'a{\n\tb\n}\n\nc{ d\n}', 'a {\n\tb\n}\n\nc {\n\td\n}'],
  ['a ⏎ { becomes a {', 'a\n{\n\tb\n}', 'a {\n\tb\n}'],
  ['tokens after } move down, with a blank line at top level', 'abc {\n\tdef\n}ghi{\n\tjkl mno\npqr}', 'abc {\n\tdef\n}\n\nghi {\n\tjkl mno\n\tpqr\n}'],
  ['no blank line is added before a block already on its own line', 'a {\n}\nb {\n}', 'a {\n}\nb {\n}'],
  ['env placeholders', '{$A}\n\nb {\n{$C}\n}\n\nd { {$E}\n}\n\n{ {$F}\n}\n', '{$A}\n\nb {\n\t{$C}\n}\n\nd {\n\t{$E}\n}\n\n{\n\t{$F}\n}'],
  ['env placeholder with port', ':{$PORT}', ':{$PORT}'],
  ['comments', '#a "\\n"\n\n #b {\n\tc\n}\n\nd {\ne#f\n# g\n}\n\nh { # i\n}', '#a "\\n"\n\n#b {\nc\n}\n\nd {\n\te#f\n\t# g\n}\n\nh {\n\t# i\n}'],
  ['quotes and escaping',
    '"a \\"b\\" "#c\n\td\n\ne {\n"f"\n}\n\ng { "h"\n}\n\ni {\n\t"foo\nbar"\n}\n\nj {\n"\\"k\\" l m"\n}',
    '"a \\"b\\" "#c\nd\n\ne {\n\t"f"\n}\n\ng {\n\t"h"\n}\n\ni {\n\t"foo\nbar"\n}\n\nj {\n\t"\\"k\\" l m"\n}'],
  ['too many open braces', 'a\n{\n\t{\n}', 'a {\n\t{\n\t}'],
  ['too many close braces', 'a\n{\n\t{\n}}}', 'a {\n\t{\n\t}\n}\n}'],
  ['json in quotes', 'foo\nbar      "{\\"key\\":34}"\n', 'foo\nbar "{\\"key\\":34}"'],
  ['escapes after spaces', 'foo \\"literal\\"', 'foo \\"literal\\"'],
  ['placeholders as tokens', 'foo {bar}', 'foo {bar}'],
  ['placeholders within tokens', 'foo{bar} foo{bar}baz', 'foo{bar} foo{bar}baz'],
  ['malformed braces make a block', 'foo{bar} foo{ bar}baz', 'foo{bar} foo {\n\tbar\n}\n\nbaz'],
  ['hash inside a token', 'redir / /some/#/path', 'redir / /some/#/path'],
  ['brace does not fold into a comment', '# comment\n{\n\tfoo\n}', '# comment\n{\n\tfoo\n}'],
  ['global options re-indented', '{\n\temail {$ACMEEMAIL}\n\t#debug\n\t}\n\n\tblock {\n\t}\n', '{\n\temail {$ACMEEMAIL}\n\t#debug\n}\n\nblock {\n}'],
  ['heredoc body kept verbatim',
    'block {\n\theredoc <<HEREDOC\n\tHere\'s more than one space       Here\'s more than one space\n\tHEREDOC\n\trespond "x"     200\n}\n',
    'block {\n\theredoc <<HEREDOC\n\tHere\'s more than one space       Here\'s more than one space\n\tHEREDOC\n\trespond "x" 200\n}'],
  ['heredoc re-indents only its opening line', 'a {\n      respond <<E\n  x\n  E\n}', 'a {\n\trespond <<E\n  x\n  E\n}'],
  ['<<MARKER followed by a space is a token', 'block {\n\theredoc <<HEREDOC        "x"\n}', 'block {\n\theredoc <<HEREDOC "x"\n}'],
  ['escaped heredoc', 'block {\n\theredoc \\<<HEREDOC\n\trespond "x"        200\n}', 'block {\n\theredoc \\<<HEREDOC\n\trespond "x" 200\n}'],
  ['braces inside backticks', 'block {respond `All braces should remain: {{now | date "2006"}}`}', 'block {respond `All braces should remain: {{now | date "2006"}}`}'],
  ['quoted backtick and backticked quote', 'block { respond "`" } block { respond `"`}', 'block {\n\trespond "`"\n}\n\nblock {\n\trespond `"`\n}'],
  ['multi-line backtick string', 'h {\n    respond `a\n\n{{x}}\n\nb`\n}', 'h {\n\trespond `a\n\n{{x}}\n\nb`\n}'],
  ['a { after top-level imports stays on its own line', 'import a.caddy\nimport b.caddy\n{\n\torder x first\n}', 'import a.caddy\nimport b.caddy\n{\n\torder x first\n}'],
  ['empty braces', 'route {}', 'route {}'],
  ['empty block', 'route { }', 'route {\n}'],
  ['nested empty braces', 'a { b {} }', 'a {\n\tb {}\n}'],
  ['token after an inner }', 'a {\n\tb {\n\t\tc\n\t} d\n}', 'a {\n\tb {\n\t\tc\n\t}\n\td\n}'],
  ['trailing comment after {', 'h { # i\n\tx\n}', 'h {\n\t# i\n\tx\n}'],
  ['at most one blank line', 'foo # inline\n\n\n\nbar', 'foo # inline\n\nbar'],
  ['blank lines after { and before } removed', 'a {\n\n\tb\n\n}', 'a {\n\tb\n}'],
  ['continuations get a hanging indent', 'route {\n\treverse_proxy \\\n\ta \\\n\tb\n}', 'route {\n\treverse_proxy \\\n\t\ta \\\n\t\tb\n}'],
  ['CRLF input', 'a {\r\n\tb\r\n}\r\n', 'a {\n\tb\n}'],
  ['nesting capped at 10 tabs', 'a {\n'.repeat(12) + 'x\n' + '}\n'.repeat(12),
    Array.from({ length: 12 }, (_, i) => '\t'.repeat(Math.min(i, 10)) + 'a {').join('\n') + '\n' + '\t'.repeat(10) + 'x\n' +
    Array.from({ length: 12 }, (_, i) => '\t'.repeat(Math.min(11 - i, 10)) + '}').join('\n')],
  ['empty input', '  \n\n ', ''],
];

for (const [name, input, expected] of vectors) {
  test(`fmt: ${name}`, () => {
    const out = formatCaddyfile(input);
    assert.equal(out, expected + '\n');
    assert.equal(formatCaddyfile(out), out, 'not idempotent');
  });
}

test('fmt keeps a bare <<MARKER from turning into a heredoc opener', () => {
  const out = formatCaddyfile('a {\n\trespond <<EOF   \n\tfoo\n}');
  assert.equal(out, 'a {\n\trespond <<EOF \n\tfoo\n}\n');
  assert.equal(formatCaddyfile(out), out);
});

test('fmt is idempotent over a few thousand generated inputs', () => {
  const atoms = ['a', 'bc', ' ', '\t', '\n', '\n\n', '{', '}', '{}', '"', '`', '#', '\\', '<<', 'EOF', '<<EOF\n', 'import',
    '\r\n', '{$X}', '{path}', 'x{', '}y', '\\\n', '"q r"', '(s)', ',', '\\<', '\\ '];
  let seed = 7;
  const next = (n: number): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  let checked = 0;
  for (let k = 0; k < 3000; k++) {
    let input = '';
    for (let j = 1 + next(20); j > 0; j--) input += atoms[next(atoms.length)];
    const once = formatCaddyfile(input);
    assert.equal(formatCaddyfile(once), once, `not idempotent for ${JSON.stringify(input)}`);
    checked++;
  }
  assert.equal(checked, 3000);
});

test('firstUnformattedLine finds the first differing line', () => {
  assert.equal(firstUnformattedLine('a {\n\tb\n}\n'), undefined);
  assert.equal(firstUnformattedLine('a {\r\n\tb\r\n}\r\n'), undefined);
  assert.equal(firstUnformattedLine('a {\n\tb\n  c\n}\n'), 3);
  assert.equal(firstUnformattedLine('a{\n}\n'), 1);
  assert.equal(firstUnformattedLine('a {\n}'), 2); // missing final newline
});
