import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ServerBlock } from '../../grammar/ast.ts';
import { parseCaddyfile, type ParseOptions } from '../../grammar/index.ts';
import { globFiles } from '../../grammar/imports.ts';

let dir = '';
const write = (path: string, text: string): void => {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
};

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'qs-grammar-'));
  write('sites/a.caddy', 'a.example {\n\trespond a\n}\n');
  write('sites/b.caddy', 'b.example {\n\trespond {$B_BODY:b}\n}\n');
  write('sites/.hidden.caddy', 'hidden.example {\n}\n');
  write('conf/common.caddy', 'import nested/deep.caddy\nencode gzip\n');
  write('conf/nested/deep.caddy', 'header X-Deep yes\n');
  write('snippets.caddy', '(site) {\n\thttp://{args[0]} {\n\t\trespond "before"\n\t\t{block}\n\t}\n}\n');
  write('cycle1.caddy', 'import cycle2.caddy\n');
  write('cycle2.caddy', 'import cycle1.caddy\n');
  write('empty.caddy', '  \n\n');
  write('bad.caddy', 'respond "unterminated\n');
  mkdirSync(join(dir, 'adir'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

function parse(text: string, opts: Partial<ParseOptions> = {}) {
  const r = parseCaddyfile(text, { file: join(dir, 'Caddyfile'), env: {}, ...opts });
  const strip = (s: string): string => s.replaceAll(dir + '/', '');
  return { ...r, errors: r.errors.map((e) => strip(e.message)), warnings: r.warnings.map((w) => strip(w.message)) };
}
const shape = (b: ServerBlock): unknown => ({ keys: b.keys.map((k) => k.text), body: b.body.map((d) => [d.name.text, ...d.args.map((a) => a.text)]) });

test('a glob imports every match in order, skipping dotfiles for a leading *', () => {
  const r = parse('import sites/*', { env: { B_BODY: 'from env' } });
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.file.blocks.map(shape), [
    { keys: ['a.example'], body: [['respond', 'a']] },
    { keys: ['b.example'], body: [['respond', 'from', 'env']] }, // imported files get their own (textual) {$VAR} pass
  ]);
  const key = r.file.blocks[1]!.keys[0]!;
  assert.deepEqual(key.span, { file: join(dir, 'sites/b.caddy'), line: 1, column: 1, imports: [`${join(dir, 'Caddyfile')}:1 (import sites/*)`] });
});

test('a dotfile matches when the pattern names it', () => {
  const r = parse('import sites/.h*');
  assert.deepEqual(r.file.blocks.map(shape), [{ keys: ['hidden.example'], body: [] }]);
});

test('nested imports resolve against the importing file and stack the chain', () => {
  const r = parse(':80 {\n\timport conf/common.caddy\n}');
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.file.blocks.map(shape), [{ keys: [':80'], body: [['header', 'X-Deep', 'yes'], ['encode', 'gzip']] }]);
  assert.deepEqual(r.file.blocks[0]!.body[0]!.name.span.imports, [
    `${join(dir, 'Caddyfile')}:2 (import conf/common.caddy)`,
    `${join(dir, 'conf/common.caddy')}:1 (import nested/deep.caddy)`,
  ]);
});

test('snippet definitions in an imported file keep their placeholders until used', () => {
  const r = parse('import snippets.caddy\nimport site test.domain {\n\tredir https://example.net\n}');
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.file.blocks.map(shape), [{ keys: ['http://test.domain'], body: [['respond', 'before'], ['redir', 'https://example.net']] }]);
});

test('a cycle between files is reported once', () => {
  const r = parse('import cycle1.caddy');
  assert.deepEqual(r.errors, [
    'cycle2.caddy:1:1: a cycle of imports exists between cycle2.caddy and cycle1.caddy [import chain: Caddyfile:1 (import cycle1.caddy) <- cycle1.caddy:1 (import cycle2.caddy)]',
  ]);
});

test('import failures use Caddy\'s messages, and empty files or globs only warn', () => {
  const r = parse(':80 {\n\timport missing.caddy\n\timport adir\n\timport a*b*\n\timport empty.caddy\n\timport none/*.caddy\n}');
  assert.deepEqual(r.errors, [
    'Caddyfile:2:9: File to import not found: missing.caddy',
    'Caddyfile:3:9: Could not import adir: is a directory',
    'Caddyfile:4:9: Glob pattern may only contain one wildcard (*), but has others: a*b*',
  ]);
  assert.deepEqual(r.warnings, ['Import file is empty: empty.caddy', 'No files matching import glob pattern: none/*.caddy']);
});

test('lexer errors inside an imported file carry the import chain', () => {
  const r = parse(':80 {\n\timport bad.caddy\n}');
  assert.deepEqual(r.errors.slice(0, 1), [
    'bad.caddy:1:9: unclosed double quote; expected a closing " before the end of the file [import chain: Caddyfile:2 (import bad.caddy)]',
  ]);
});

test('an injected reader and glob replace the file system', () => {
  const files: Record<string, string> = {
    '/virtual/Caddyfile.d/one.caddy': 'one.example {\n}\n',
    '/virtual/Caddyfile.d/two.caddy': 'two.example {\n}\n',
  };
  const readFile = (p: string): string => {
    const text = files[p];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    return text;
  };
  const glob = (pattern: string): string[] => {
    const re = new RegExp(`^${pattern.replace(/\./g, '\\.').replace('*', '[^/]*')}$`);
    return Object.keys(files).filter((p) => re.test(p)).sort();
  };
  const r = parseCaddyfile('import Caddyfile.d/*.caddy\nimport nope.caddy', { file: '/virtual/Caddyfile', env: {}, readFile, glob });
  assert.deepEqual(r.file.blocks.map((b) => b.keys.map((k) => k.text)), [['one.example'], ['two.example']]);
  assert.deepEqual(r.errors.map((e) => e.message), ['/virtual/Caddyfile:2:8: File to import not found: nope.caddy']);
});

test('globFiles matches one path segment like Go\'s filepath.Glob', () => {
  assert.deepEqual(globFiles(join(dir, 'sites/*.caddy')), [
    join(dir, 'sites/.hidden.caddy'), join(dir, 'sites/a.caddy'), join(dir, 'sites/b.caddy'),
  ]);
  assert.deepEqual(globFiles(join(dir, 'conf/*/deep.caddy')), [join(dir, 'conf/nested/deep.caddy')]);
  assert.deepEqual(globFiles(join(dir, 'sites/?.caddy')), [join(dir, 'sites/a.caddy'), join(dir, 'sites/b.caddy')]);
  assert.deepEqual(globFiles(join(dir, 'nothing/*')), []);
});
