import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchSelector, TopicSelectorStore } from '../../src/topics/topic-selector.ts';
import { parseTemplate, templateRegexpSource } from '../../src/topics/uri-template.ts';

// Mercure reference §3.2, every row, plus the §3.1 steps.
const TABLE: [selector: string, topic: string, match: boolean][] = [
  ['https://example.com/books/{id}', 'https://example.com/books/1', true],
  ['https://example.com/books/{id}', 'https://example.com/books/', true],
  ['https://example.com/books/{id}', 'https://example.com/books/1/2', false],
  ['https://example.com/books/{id}', 'https://example.com/books/a%2Fb', true],
  ['https://example.com/books/{id}', 'https://example.com/books/a,b', true],
  ['https://example.com/books/{id}', 'https://example.com/books/é', false],
  ['https://example.com/books/{id}', 'https://example.com/books/a+b', false],
  ['https://example.com/books/{id}', 'https://example.com/books/a b', false],
  ['https://example.com/{foo}/bar', 'https://example.com/foo/bar/baz', false],
  ['https://example.com/{fistname}/{lastname}', 'https://example.com/kevin/dunglas', true],
  ['https://example.com/{+path}', 'https://example.com/a/b/c?x=1', true],
  ['https://example.com/users/foo/{?topic}', 'https://example.com/users/foo/?topic=https%3A%2F%2Fexample.com%2Fbooks%2F1', true],
  ['https://example.com/users/foo/{?topic}', 'https://example.com/users/foo/?other=1', true],
  ['https://example.com/users/foo/{?topic}', 'https://example.com/users/foo/?topic=a&x=b', false],
  ['https://example.com/{a,b}', 'https://example.com/x,y,z', true],
  ['https://example.com{/seg*}', 'https://example.com/a/b/c', true],
  ['https://example.com{/seg*}', 'https://example.com', true],
  ['/.well-known/mercure/subscriptions{/topic}{/subscriber}', '/.well-known/mercure/subscriptions', true],
  ['/.well-known/mercure/subscriptions{/topic}{/subscriber}', '/.well-known/mercure/subscriptions/x', true],
  ['/.well-known/mercure/subscriptions{/topic}{/subscriber}', '/.well-known/mercure/subscriptions/x/y', true],
  ['{scheme}://{+host}/demo/books/{id}.jsonld', 'https://localhost:8443/demo/books/1.jsonld', true],
  ['https://example.com/hub?topic=faulty{iri', 'https://example.com/hub?topic=faulty{iri', true],
  ['https://example.com/hub?topic=faulty{iri', 'https://example.com/hub?topic=faultyx', false],
  // §3.1 steps
  ['*', 'anything at all', true],
  ['string', 'string', true],
  ['string', 'strin', false],
  ['https://example.com/books/{id}', 'https://example.com/books/{id}', true], // a template matches itself literally
];

for (const [selector, topic, expected] of TABLE) {
  test(`§3.2 ${selector} ~ ${topic} → ${expected}`, () => {
    assert.equal(matchSelector(topic, selector), expected);
    assert.equal(new TopicSelectorStore(0).match(topic, selector), expected, 'without cache');
    assert.equal(new TopicSelectorStore(20).match(topic, selector), expected, 'tiny cache');
    const source = templateRegexpSource(selector);
    if (source && selector.includes('{') && topic !== selector) assert.equal(new RegExp(source).test(topic), expected, `regex ${source}`);
  });
}

test('operator table: prefixes, separators and allowed characters', () => {
  const rows: [string, string, boolean][] = [
    ['x{#f}', 'x#a/b?c', true], ['x{#f}', 'xa', false], ['x{#f}', 'x', true],
    ['x{.f}', 'x.a', true], ['x{.f}', 'x.a.b', true], ['x{.f}', 'x.a=b', false],
    ['x{.f,g}', 'x.a.b', true], ['x{/f,g}', 'x/a/b', true], ['x{/f,g}', 'x/a/b/c', false],
    ['x{;f}', 'x;a=1', true], ['x{;f}', 'x;a=1;b', false], ['x{;f,g}', 'x;a=1;b=2', true],
    ['x{?f,g}', 'x?a=1&b=2', true], ['x{?f,g}', 'x?a=1&b=2&c=3', false], ['x{?f*}', 'x?a=1&b=2&c=3', true],
    ['x{&f}', 'x&a=1', true], ['x{&f}', 'x?a=1', false],
    ['x{f}', 'x=', false], ['x{f*}', 'x=', true], ['x{f,g*}', 'xa,b=c', true], ['x{f,g*}', 'xa=,b', false],
    ['x{+f}', "x!#$&'()*+,/:;=?@[]", true], ['x{f}', 'x-._~AZaz09', true], ['x{f}', 'x%zz', false], ['x{f}', 'x%4', false],
    ['x{f:3}', 'xabcdef', true], // prefix modifiers are ignored
    ['x{f.g}', 'xa', true], ['x{f%41}', 'xa', true],
  ];
  for (const [selector, topic, expected] of rows) {
    assert.equal(matchSelector(topic, selector), expected, `${selector} ~ ${topic}`);
    assert.equal(new RegExp(templateRegexpSource(selector)!).test(topic), expected, `regex for ${selector}`);
  }
});

test('invalid templates only match themselves', () => {
  const invalid = ['x{', 'x{}', 'x{=a}', 'x{,a}', 'x{!a}', 'x{@a}', 'x{|a}', 'x{a-b}', 'x{.a.}', 'x{a..b}', 'x{a:0}', 'x{a:}',
    'x{a:10000}', 'x{a*b}', 'x{a}}', 'x {a}', 'x"{a}', 'x<{a}', 'x\\{a}', 'x^{a}', 'x`{a}', 'x|{a}', 'x%g0{a}', 'x{a%2}', 'x{a:3*}'];
  for (const selector of invalid) {
    assert.equal(parseTemplate(selector), undefined, selector);
    assert.equal(matchSelector(selector, selector), true);
    assert.equal(matchSelector('xa', selector), false, selector);
  }
  for (const valid of ["x'{a}", 'é{a}', '😀{a}', 'x{a.b.c}', 'x{a:9999}', 'x{a,b:3,c*}']) {
    assert.notEqual(parseTemplate(valid), undefined, valid);
  }
});

test('differential: NFA agrees with the yosida95 regex on random topics', () => {
  const selectors = ['a{b}c', '{a}{b}', 'a{/b*}{?c,d}', 'x{.a,b}{;c*}', '{+a}/{b}', '{#a,b}', 'p{&a}{a,b,c}', '{a*}', 'q%20{a}%2F'];
  const alphabet = ['a', 'b', 'c', '/', '?', '&', '=', ',', '.', ';', '#', '%', '2', 'F', 'x', 'p', 'q', '%20', '%2F', 'é', ' '];
  let seed = 42;
  const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const store = new TopicSelectorStore(0);
  for (const selector of selectors) {
    const re = new RegExp(templateRegexpSource(selector)!);
    for (let i = 0; i < 400; i++) {
      let topic = '';
      const len = rand(9);
      for (let j = 0; j < len; j++) topic += alphabet[rand(alphabet.length)];
      assert.equal(store.match(topic, selector), re.test(topic), `${selector} ~ ${JSON.stringify(topic)}`);
    }
  }
});

test('adjacent expressions stay linear (no catastrophic backtracking)', () => {
  const selector = 'https://example.com/' + '{a}'.repeat(30) + '/end';
  const topic = 'https://example.com/' + 'a,'.repeat(2000) + '!/end';
  const started = performance.now();
  assert.equal(new TopicSelectorStore(0).match(topic, selector), false);
  assert.ok(performance.now() - started < 2000, 'a backtracking engine would not finish');
});

test('store caches results and stays bounded', () => {
  const store = new TopicSelectorStore(100);
  for (let i = 0; i < 1000; i++) assert.equal(store.match(`https://example.com/books/${i}`, 'https://example.com/books/{id}'), true);
  assert.equal(store.match('https://example.com/books/1/x', 'https://example.com/books/{id}'), false);
  assert.equal(store.matchAny(['a', 'https://example.com/books/2'], ['b', 'https://example.com/books/{id}']), true);
  assert.equal(store.matchAny(['a'], []), false);
});
