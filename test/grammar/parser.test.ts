import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Directive, ServerBlock } from '../../grammar/ast.ts';
import { parseCaddyfile } from '../../grammar/index.ts';

type Env = Record<string, string>;

function parse(text: string, env: Env = {}) {
  return parseCaddyfile(text, { file: 'Caddyfile', env, readFile: () => { throw Object.assign(new Error('no files here'), { code: 'ENOENT' }); } });
}

/** A directive as [name, ...args] plus its block, for compact assertions. */
type Shape = [string, ...string[]] | { line: string[]; block: Shape[] };
function shape(d: Directive): Shape {
  const line = [d.name.text, ...d.args.map((a) => a.text)] as [string, ...string[]];
  return d.block === null ? line : { line, block: d.block.map(shape) };
}
const body = (b: ServerBlock): Shape[] => b.body.map(shape);
const keys = (b: ServerBlock): string[] => b.keys.map((k) => k.text);
const messages = (text: string, env: Env = {}): string[] => parse(text, env).errors.map((e) => e.message);

test('site blocks, keys, nested blocks and positions', () => {
  const { file, errors } = parse('{\n\tdebug\n}\n\na.com b.com, c.com ,  d.com {\n\thandle /x {\n\t\trespond "hi" 200\n\t}\n\tfile_server\n}\n');
  assert.deepEqual(errors, []);
  assert.equal(file.blocks.length, 2);
  const [global, site] = file.blocks as [ServerBlock, ServerBlock];
  assert.deepEqual(keys(global), []);
  assert.deepEqual(body(global), [['debug']]);
  assert.deepEqual(global.span, { file: 'Caddyfile', line: 1, column: 1 });
  assert.deepEqual(keys(site), ['a.com', 'b.com', 'c.com', 'd.com']);
  assert.deepEqual(site.keys.map((k) => k.span.column), [1, 7, 14, 23]);
  assert.deepEqual(body(site), [{ line: ['handle', '/x'], block: [['respond', 'hi', '200']] }, ['file_server']]);
  const handle = site.body[0]!;
  assert.deepEqual(handle.name.span, { file: 'Caddyfile', line: 6, column: 2 });
  assert.deepEqual(handle.block![0]!.args[0], { text: 'hi', quote: '"', span: { file: 'Caddyfile', line: 7, column: 11 } });
  assert.deepEqual(handle.end, { file: 'Caddyfile', line: 8, column: 2 });
  assert.equal(site.braceless, undefined);
});

test('a trailing comma continues the keys on the next line', () => {
  const { file, errors } = parse('http://h1,\nhttps://h2 {\n\trespond x\n}');
  assert.deepEqual(errors, []);
  assert.deepEqual(keys(file.blocks[0]!), ['http://h1', 'https://h2']);
});

test('the site block brace may sit on the next line', () => {
  const { file, errors } = parse('example.com\n{\n\trespond x\n}');
  assert.deepEqual(errors, []);
  assert.deepEqual(keys(file.blocks[0]!), ['example.com']);
  assert.deepEqual(body(file.blocks[0]!), [['respond', 'x']]);
});

test('a braceless single site takes every following line', () => {
  const { file, errors } = parse('localhost\nrespond "hi"\nexample.com\nrespond x');
  assert.deepEqual(errors, []);
  assert.equal(file.blocks.length, 1);
  assert.equal(file.blocks[0]!.braceless, true);
  assert.deepEqual(body(file.blocks[0]!), [['respond', 'hi'], ['example.com'], ['respond', 'x']]);
});

test('a file of keys only is one braceless block', () => {
  const { file, errors } = parse('localhost');
  assert.deepEqual(errors, []);
  assert.deepEqual(file.blocks.map(keys), [['localhost']]);
});

test('quoted braces are ordinary arguments; {} and placeholders are words', () => {
  const { file, errors } = parse(':80 {\n\tdir1 "{" a b "}"\n\trespond {} 200\n\theader {path} foo{bar}\n}');
  assert.deepEqual(errors, []);
  assert.deepEqual(body(file.blocks[0]!), [['dir1', '{', 'a', 'b', '}'], ['respond', '{}', '200'], ['header', '{path}', 'foo{bar}']]);
});

test('an empty block is [] and no block is null', () => {
  const { file } = parse(':80 {\n\troute {\n\t}\n\tfile_server\n}');
  assert.deepEqual(file.blocks[0]!.body.map((d) => d.block), [[], null]);
});

test('an empty global options block is dropped, as Caddy does', () => {
  const { file, errors } = parse('{\n}\n{\n\tdebug\n}');
  assert.deepEqual(errors, []);
  assert.deepEqual(file.blocks.map(body), [[['debug']]]);
});

// caddy.md §2.1 and §2.3, with file:line:col and the expected part.
const errorTable: [name: string, input: string, errors: string[]][] = [
  ['{ not last on its line', 'localhost {\n\tdir1 { a b }\n}', ["Caddyfile:2:7: Unexpected next token after '{' on same line"]],
  ['{ on a new line', 'localhost {\n\tdir1\n\t{\n\t}\n}', ["Caddyfile:3:2: Unexpected '{' on a new line; did you mean to place the '{' on the previous line?"]],
  ['{} at the end of a line', 'localhost {\n\tdir1 {}\n}', [`Caddyfile:2:7: Unexpected '{}' at end of line; expected "{}" in quotes for a literal {}`]],
  ['stray } on one line', 'localhost { respond hi }', ["Caddyfile:1:24: Unexpected '}' because no matching opening brace"]],
  ['stray } at top level', 'a {\n}\n}', ["Caddyfile:3:1: Unexpected '}' because no matching opening brace"]],
  ['unclosed blocks', 'localhost {\n\tdir {\n\t\tfoo', ["Caddyfile:3:3: unexpected EOF; expected '}' to close the block opened at Caddyfile:2:6"]],
  ['global matcher', '@foo path /x', ['Caddyfile:1:1: request matchers may not be defined globally, they must be in a site block; found @foo']],
  ['key glued to {', 'localhost{\n\trespond x\n}', ["Caddyfile:1:1: Site addresses cannot end with a curly brace: 'localhost{' - put a space between the token and the brace"]],
  ['quoted brace as the only key', '"{"\n\trespond x\n}', ["Caddyfile:1:1: Site addresses cannot end with a curly brace: '{' - put a space between the token and the brace"]],
  ['inner comma', 'a.com,b.com {\n}', ["Caddyfile:1:1: Site addresses cannot contain a comma ',': 'a.com,b.com' - put a space after the comma to separate site addresses"]],
  ['trailing comma then {', 'a.com, {\n}', ["Caddyfile:1:8: Expected another address but had '{' - check for extra comma"]],
  ['trailing comma then EOF', 'a.com,', ['Caddyfile:1:1: unexpected EOF; expected another site address after the trailing comma']],
  ['a lone comma', ',', ['Caddyfile:1:1: unexpected EOF; expected another site address after the trailing comma']],
  ['snippet without a brace', '(snip)\nrespond x', ["Caddyfile:2:1: syntax error: unexpected token 'respond', expecting '{'"]],
  ['second global block', ':80 {\n}\n{\n\tdebug\n}', ['Caddyfile:3:1: server block without any key is global configuration, and if used, it must be first']],
  ['snippet redeclared', '(a) {\n\tx\n}\n(a) {\n\ty\n}', ['Caddyfile:4:1: redeclaration of previously declared snippet a']],
  ['named route redeclared', '&(api) {\n\trespond 1\n}\n&(api) {\n\trespond 2\n}', ['Caddyfile:4:1: cannot have duplicate named_routes: api']],
  ['token after }', ':80 {\n\troute {\n\t} x\n}', ["Caddyfile:3:4: Unexpected next token after '}' on same line"]],
  ['import without a path', ':80 {\n\timport\n}', ["Caddyfile:2:2: wrong argument count or unexpected line ending after 'import'"]],
  ['import with an empty path', ':80 {\n\timport ""\n}', ['Caddyfile:2:9: Import requires a non-empty filepath']],
  ['unknown snippet is read as a file', ':80 {\n\timport later\n}\n(later) {\n}', ['Caddyfile:2:9: File to import not found: later']],
  ['unclosed import block', '(s) {\n}\n:80 {\n\timport s {\n\t\tfoo', ["Caddyfile:5:3: unexpected EOF; expected '}' to close the block opened at Caddyfile:4:11"]],
  ['anonymous passed block', '(s) {\n\t{block}\n}\n:80 {\n\timport s {\n\t\t{\n\t\t}\n\t}\n}', ['Caddyfile:6:3: anonymous blocks are not supported']],
];

for (const [name, input, errors] of errorTable) {
  test(`parse error: ${name}`, () => {
    assert.deepEqual(messages(input), errors);
  });
}

test('error codes: structure is ERR_CFG_SYNTAX, imports are ERR_CFG_IMPORT', () => {
  const { errors } = parse(':80 {\n\timport nope\n\tdir {}\n}');
  assert.deepEqual(errors.map((e) => e.code), ['ERR_CFG_IMPORT', 'ERR_CFG_SYNTAX']);
  assert.equal(errors[1]!.detail, "Unexpected '{}' at end of line");
  assert.equal(errors[1]!.expected, '"{}" in quotes for a literal {}');
});

test('every error in a file is reported, not only the first', () => {
  const input = [
    'a.com {',
    '\tdir1 { a b }',
    '\treverse_proxy x',
    '\tdir2',
    '\t{',
    '\t}',
    '}',
    'b.com,c.com {',
    '\trespond <<EOF',
    '\t\tunterminated',
  ].join('\n');
  assert.deepEqual(messages(input), [
    "Caddyfile:2:7: Unexpected next token after '{' on same line",
    "Caddyfile:5:2: Unexpected '{' on a new line; did you mean to place the '{' on the previous line?",
    "Caddyfile:8:1: Site addresses cannot contain a comma ',': 'b.com,c.com' - put a space after the comma to separate site addresses",
    'Caddyfile:9:10: incomplete heredoc <<EOF on line #9, expected ending marker EOF',
    "Caddyfile:9:10: unexpected EOF; expected '}' to close the block opened at Caddyfile:8:13",
  ]);
});

test('recovery keeps the tree usable around errors', () => {
  const { file, errors } = parse('localhost {\n\tdir1 { a b }\n\tnext 1\n}\n:81 {\n\tok\n}');
  assert.equal(errors.length, 1);
  assert.deepEqual(body(file.blocks[0]!), [{ line: ['dir1'], block: [['a', 'b']] }, ['next', '1']]);
  assert.deepEqual(body(file.blocks[1]!), [['ok']]);
});

test('import is only special at the start of a line', () => {
  const { file, errors } = parse('(pw) {\n\tsecret\n}\n:80 {\n\tbasic_auth / import pw\n\troute {\n\t\timport pw\n\t}\n\timport pw\n}');
  assert.deepEqual(errors, []);
  assert.deepEqual(body(file.blocks[0]!), [['basic_auth', '/', 'import', 'pw'], { line: ['route'], block: [['secret']] }, ['secret']]);
});

test('import in key position expands into site blocks', () => {
  const { file, errors } = parse('(two) {\n\ta.com {\n\t\trespond a\n\t}\n\tb.com {\n\t}\n}\nimport two');
  assert.deepEqual(errors, []);
  assert.deepEqual(file.blocks.map(keys), [['a.com'], ['b.com']]);
  assert.deepEqual(file.blocks[0]!.keys[0]!.span, { file: 'Caddyfile', line: 2, column: 2, imports: ['Caddyfile:8 (import two)'] });
});

test('global options after snippet-only imports get the helpful message', () => {
  const files: Record<string, string> = { 'm1.caddy': '(matcher1)', 'm2.caddy': '(matcher2)' };
  const r = parseCaddyfile('import m1.caddy\nimport m2.caddy\n{\n\tdebug\n}', { file: 'Caddyfile', env: {}, readFile: (p) => files[p]! });
  assert.deepEqual(r.errors.map((e) => e.message), [
    'Caddyfile:2:1: global options block must appear before import directives; move the global options block to the top of the Caddyfile',
  ]);
});

test('snippets: {args[N]}, variadic {args[i:j]}, deprecated {args.N}, out of range left alone', () => {
  const input = '(s) {\n\trespond {args[:]}\n\theader {args[1:]}\n\tx{args[0]}y "{args.1}" {args[2:3]}\n\tkeep {args[7]}\n}\n:80 {\n\timport s a "b c" d\n}';
  const r = parse(input);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(body(r.file.blocks[0]!), [
    ['respond', 'a', 'b c', 'd'], ['header', 'b c', 'd'], ['xay', 'b c', 'd'], ['keep', '{args[7]}'],
  ]);
  const header = r.file.blocks[0]!.body[1]!;
  assert.equal(header.args[0]!.quote, '"'); // a variadic arg keeps its own quoting
  assert.deepEqual(header.args[0]!.span, { file: 'Caddyfile', line: 3, column: 9, imports: ['Caddyfile:8 (import s)'] });
  assert.deepEqual(r.warnings.map((w) => w.message), [
    'Placeholder {args.1} deprecated, use {args[1]} instead',
    'Placeholder {args[7]} index is out of bounds, only 3 argument(s) exist',
  ]);
});

test('{args[N]} outside a snippet stays a runtime placeholder', () => {
  const { file } = parse(':80 {\n\trespond {args[0]}\n}');
  assert.deepEqual(body(file.blocks[0]!), [['respond', '{args[0]}']]);
});

test('block passing: {block} and {blocks.NAME}', () => {
  const input = [
    '(s) {',
    '\troute {',
    '\t\t{blocks.first}',
    '\t}',
    '\t{blocks.second}',
    '\t{blocks.none}',
    '\t{block}',
    '}',
    ':80 {',
    '\timport s {',
    '\t\tfirst a b {',
    '\t\t\tc d',
    '\t\t}',
    '\t\tsecond x',
    '\t}',
    '}',
  ].join('\n');
  const r = parse(input);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(body(r.file.blocks[0]!), [
    { line: ['route'], block: [['a', 'b'], ['c', 'd']] },
    ['x'],
    { line: ['first', 'a', 'b'], block: [['c', 'd']] },
    ['second', 'x'],
  ]);
  // passed tokens keep the position where the user wrote them
  assert.deepEqual(r.file.blocks[0]!.body[1]!.name.span, { file: 'Caddyfile', line: 14, column: 10 });
});

test('a cycle of snippet imports is reported with Caddy\'s message', () => {
  const r = parse('(import1) {\n\timport import2\n}\n(import2) {\n\timport import1\n}\n:80 {\n\timport import1\n}');
  assert.deepEqual(r.errors.map((e) => e.detail), ['a cycle of imports exists between Caddyfile:import2 and Caddyfile:import1']);
  assert.equal(r.errors[0]!.code, 'ERR_CFG_IMPORT');
  assert.deepEqual(r.errors[0]!.span!.imports, ['Caddyfile:8 (import import1)', 'Caddyfile:2 (import import2)']);
});

test('a snippet importing itself is a cycle, not a hang', () => {
  const r = parse('(a) {\n\timport a\n}\n:80 {\n\timport a\n}');
  assert.deepEqual(r.errors.map((e) => e.detail), ['a cycle of imports exists between Caddyfile:a and Caddyfile:a']);
});

test('named routes are returned by name and not as blocks', () => {
  const { file, errors } = parse('&(api) {\n\trespond "api" 200\n}\n:80 {\n\tinvoke api\n}');
  assert.deepEqual(errors, []);
  assert.deepEqual(file.blocks.map(keys), [[':80']]);
  const route = file.namedRoutes.api!;
  assert.deepEqual(keys(route), ['api']);
  assert.deepEqual(body(route), [['respond', 'api', '200']]);
  assert.deepEqual(route.span, { file: 'Caddyfile', line: 1, column: 1 });
});

test('snippet and named-route definitions may precede the global options block', () => {
  const { file, errors } = parse('(s) {\n\tx\n}\n&(r) {\n\ty\n}\n{\n\tdebug\n}\n:80 {\n\timport s\n}');
  assert.deepEqual(errors, []);
  assert.deepEqual(file.blocks.map(keys), [[], [':80']]);
});

test('worked example of caddy.md §2.6', () => {
  const input = [
    '(cors) {',
    '\t@origin header Origin {args[0]}',
    '\theader @origin Access-Control-Allow-Origin "{args[0]}"',
    '\t{block}',
    '}',
    '',
    '{$SERVER_NAME:localhost}, :8080 {',
    '\timport cors https://app.example {',
    '\t\theader Vary Origin',
    '\t}',
    '\t@api path /api/*',
    '\thandle @api {',
    '\t\treverse_proxy 127.0.0.1:9000 127.0.0.1:9001 {',
    '\t\t\tlb_policy round_robin',
    '\t\t}',
    '\t}',
    '\thandle_path /static/* {',
    '\t\troot * /srv/static',
    '\t\tfile_server',
    '\t}',
    '}',
  ].join('\n');
  const { file, errors } = parse(input);
  assert.deepEqual(errors, []);
  assert.equal(file.blocks.length, 1);
  assert.deepEqual(keys(file.blocks[0]!), ['localhost', ':8080']);
  assert.deepEqual(body(file.blocks[0]!), [
    ['@origin', 'header', 'Origin', 'https://app.example'],
    ['header', '@origin', 'Access-Control-Allow-Origin', 'https://app.example'],
    ['header', 'Vary', 'Origin'],
    ['@api', 'path', '/api/*'],
    { line: ['handle', '@api'], block: [{ line: ['reverse_proxy', '127.0.0.1:9000', '127.0.0.1:9001'], block: [['lb_policy', 'round_robin']] }] },
    { line: ['handle_path', '/static/*'], block: [['root', '*', '/srv/static'], ['file_server']] },
  ]);
  assert.equal(file.blocks[0]!.body[1]!.args[2]!.quote, '"');
});

test('env: a multi-line value injects directives into a nested block', () => {
  const input = ':80 {\n\tmercure {\n\t\tpublisher_jwt key\n\t\t{$MERCURE_EXTRA_DIRECTIVES}\n\t}\n\trespond x\n}';
  const { file, errors } = parse(input, { MERCURE_EXTRA_DIRECTIVES: 'anonymous\ncors_origins https://a.example' });
  assert.deepEqual(errors, []);
  assert.deepEqual(body(file.blocks[0]!), [
    { line: ['mercure'], block: [['publisher_jwt', 'key'], ['anonymous'], ['cors_origins', 'https://a.example']] },
    ['respond', 'x'],
  ]);
  // injected tokens are reported at their placeholder; later lines keep their own numbers
  const mercure = file.blocks[0]!.body[0]!;
  assert.deepEqual(mercure.block![2]!.name.span, { file: 'Caddyfile', line: 4, column: 3 });
  assert.deepEqual(file.blocks[0]!.body[1]!.name.span, { file: 'Caddyfile', line: 6, column: 2 });
});

test('env: a one-line value becomes one directive with extra arguments', () => {
  const { file } = parse(':80 {\n\tmercure {\n\t\t{$X}\n\t}\n}', { X: 'cors_origins * anonymous' });
  assert.deepEqual(body(file.blocks[0]!), [{ line: ['mercure'], block: [['cors_origins', '*', 'anonymous']] }]);
});

test('env: GLOBAL_OPTIONS injects a nested block', () => {
  const { file, errors } = parse('{\n\t{$GLOBAL_OPTIONS}\n}\n:80 {\n\trespond x\n}', { GLOBAL_OPTIONS: 'servers {\n\tenable_full_duplex\n}' });
  assert.deepEqual(errors, []);
  assert.deepEqual(file.blocks.map(body), [[{ line: ['servers'], block: [['enable_full_duplex']] }], [['respond', 'x']]]);
});

test('env: SERVER_NAME="" defeats its default and leaves a keyless second block', () => {
  const input = ':8080 {\n\trespond "x"\n}\n\n{$SERVER_NAME:localhost} {\n\trespond "y"\n}';
  assert.deepEqual(messages(input, { SERVER_NAME: '' }), [
    'Caddyfile:5:26: server block without any key is global configuration, and if used, it must be first',
  ]);
  assert.deepEqual(messages(input), []); // unset: the default applies
});

test('env: an unset variable removes the token, a quoted one keeps an empty token', () => {
  const { file } = parse(':80 {\n\tpublisher_jwt {$KEY}\n\tsubscriber_jwt "{$KEY}"\n}');
  assert.deepEqual(body(file.blocks[0]!), [['publisher_jwt'], ['subscriber_jwt', '']]);
});

test('env: errors after a multi-line value keep the line of the original file', () => {
  // Caddy would say line 6 (it counts the substituted text); we point at the file as written.
  const errs = messages(':80 {\n\t{$THREE}\n\tdir {}\n}', { THREE: 'a\nb\nc' });
  assert.deepEqual(errs, [`Caddyfile:3:6: Unexpected '{}' at end of line; expected "{}" in quotes for a literal {}`]);
});

test('env: a value commented out only loses its first line', () => {
  const { file } = parse(':80 {\n\t# {$V}\n}', { V: 'one\ntwo three' });
  assert.deepEqual(body(file.blocks[0]!), [['two', 'three']]);
});
