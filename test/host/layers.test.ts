/**
 * The layer order, written once and checked on every source file: a file may
 * import from its own area or from an area in a lower layer, never from a
 * higher one, and never from a sibling area of its own layer (transports do
 * not import each other). ARCHITECTURE.md draws the same picture.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** Lowest first. Each inner list is one layer; each entry is an area (a folder prefix). */
export const LAYERS: string[][] = [
  ['src/host'],
  ['grammar'],
  ['src/caddyfile'],
  ['src/topics'],
  ['src/http'],
  ['src/storage'],
  ['src/transports/core'],
  ['src/transports/*'],
  ['src/mercure'],
  ['src/php'],
  ['directives'],
  ['src/adapters'],
  ['src/runtime'],
  ['src/cli'],
];

/** The area of a repository-relative path, and its layer index. */
function areaOf(path: string): { area: string; layer: number } | undefined {
  for (let layer = 0; layer < LAYERS.length; layer++) {
    for (const prefix of LAYERS[layer]!) {
      if (prefix.endsWith('/*')) {
        const base = prefix.slice(0, -1);
        if (path.startsWith(base)) return { area: base + path.slice(base.length).split('/')[0], layer };
      } else if (path === prefix || path.startsWith(prefix + '/')) {
        return { area: prefix, layer };
      }
    }
  }
  return undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** Relative import specifiers of a file (static, dynamic, type-only and re-exports). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) out.push(m[1]!);
  return out;
}

test('every source file belongs to a layer', () => {
  const files = [...sourceFiles('src'), ...sourceFiles('grammar'), ...sourceFiles('directives')];
  const orphans = files.filter((f) => !areaOf(f));
  assert.deepEqual(orphans, [], 'add new folders to LAYERS (and ARCHITECTURE.md)');
});

test('no import runs from a lower layer to a higher one, or between sibling areas', () => {
  const files = [...sourceFiles('src'), ...sourceFiles('grammar'), ...sourceFiles('directives')];
  const bad: string[] = [];
  for (const file of files) {
    const from = areaOf(file)!;
    for (const spec of importsOf(file)) {
      const target = relative(ROOT, resolve(ROOT, dirname(file), spec));
      const to = areaOf(target);
      if (!to || to.area === from.area) continue;
      if (to.layer > from.layer) bad.push(`${file} imports ${target} (${from.area} is below ${to.area})`);
      else if (to.layer === from.layer) bad.push(`${file} imports ${target} (sibling areas ${from.area} and ${to.area})`);
    }
  }
  assert.deepEqual(bad, []);
});

test('the check itself catches an upward import', () => {
  assert.equal(areaOf('src/host/module.ts')!.layer < areaOf('src/runtime/runtime.ts')!.layer, true);
  assert.equal(areaOf('src/transports/redis/backend.ts')!.area, 'src/transports/redis');
  assert.equal(areaOf('src/transports/redis/backend.ts')!.layer, areaOf('src/transports/postgres/module.ts')!.layer);
  assert.notEqual(areaOf('src/transports/core/fanout.ts')!.area, 'src/transports/core/fanout.ts');
});
