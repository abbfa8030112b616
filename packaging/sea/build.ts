/**
 * Builds the single executable: bundles packaging/sea/entry.ts (which runs
 * src/cli/main.ts) into one CommonJS file with esbuild, turns it into a SEA
 * blob with the Node that runs this script, and injects the blob into a copy
 * of that Node binary with postject.
 *
 *   node packaging/sea/build.ts [--out dist/quicksilver]
 *
 * Run through packaging/sea/build.sh, which picks Node 24.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import postject from 'postject';
import { VIRTUAL_ROOT } from './virtual-root.ts';

const root = resolve(import.meta.dirname, '..', '..');
const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, 'dist', 'quicksilver') } } });
const out = resolve(values.out!);
const work = join(dirname(out), '.sea-build');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// Files the hub reads beside its sources at run time (the UI, PHP helpers, package.json
// for `version`): every file under src/ that is not TypeScript, served from SEA assets.
const assets: Record<string, string> = { 'package.json': join(root, 'package.json') };
for (const entry of readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || entry.name.endsWith('.ts')) continue;
  const file = join(entry.parentPath, entry.name);
  assets[relative(root, file).split('\\').join('/')] = file;
}

/**
 * Gives every bundled module that uses import.meta (the project's sources and ES-module
 * dependencies) its own virtual import.meta.url / dirname / filename under VIRTUAL_ROOT,
 * and ships as assets the files such a module names next to itself:
 * `new URL('<literal>', import.meta.url)` and `join(import.meta.dirname, '<literal>')`.
 */
const importMeta: esbuild.Plugin = {
  name: 'virtual-import-meta',
  setup(build) {
    build.onLoad({ filter: /\.(ts|js|mjs)$/ }, (args) => {
      const rel = relative(root, args.path).split('\\').join('/');
      if (rel.startsWith('..')) return undefined;
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('import.meta')) return undefined;
      for (const m of source.matchAll(/new URL\(\s*(['"])([^'"]+)\1\s*,\s*import\.meta\.url\s*\)|join\(\s*import\.meta\.dirname\s*,\s*(['"])([^'"]+)\3\s*\)/g)) {
        const target = resolve(dirname(args.path), m[2] ?? m[4]!);
        if (existsSync(target) && statSync(target).isFile()) assets[relative(root, target).split('\\').join('/')] = target;
      }
      const file = VIRTUAL_ROOT + rel;
      const text = source
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(file)))
        .replaceAll('import.meta.filename', JSON.stringify(file))
        .replaceAll('import.meta.url', JSON.stringify('file://' + encodeURI(file).replaceAll('$', '%24')));
      return { contents: text, loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
    });
  },
};

const bundle = join(work, 'quicksilver.cjs');
const result = await esbuild.build({
  entryPoints: [join(root, 'packaging', 'sea', 'entry.ts')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  minify: true,
  keepNames: true,
  legalComments: 'none',
  // Optional native add-ons some clients try to load; the hub never uses them.
  external: ['pg-native'],
  // Dependencies published as ES modules (createRequire(import.meta.url), …) get the
  // executable's own file URL; the project's sources get virtual ones (importMeta).
  define: { 'import.meta.url': '__qsImportMetaUrl', 'import.meta.dirname': '__qsImportMetaDirname', 'import.meta.filename': '__filename' },
  banner: { js: 'var __qsImportMetaUrl = require("node:url").pathToFileURL(__filename).href, __qsImportMetaDirname = require("node:path").dirname(__filename);' },
  plugins: [importMeta],
  logLevel: 'warning',
});
if (result.errors.length) throw new Error('esbuild failed');

const blob = join(work, 'sea-prep.blob');
const config = {
  main: bundle,
  output: blob,
  disableExperimentalSEAWarning: true,
  useCodeCache: true,
  assets,
  // The same V8 flags bin/quicksilver passes (see its comments).
  execArgv: ['--disable-warning=ExperimentalWarning', '--max-semi-space-size=16'],
};
writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config, null, 2));
execFileSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], { stdio: 'inherit' });

mkdirSync(dirname(out), { recursive: true });
rmSync(out, { force: true });
copyFileSync(process.execPath, out);
chmodSync(out, 0o755);
await postject.inject(out, 'NODE_SEA_BLOB', readFileSync(blob), {
  sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
});
rmSync(work, { recursive: true, force: true });
const mib = (statSync(out).size / (1 << 20)).toFixed(1);
process.stdout.write(`built ${relative(process.cwd(), out) || out} (${mib} MiB, Node ${process.version}, linux-${process.arch})\n`);
