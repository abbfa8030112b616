/**
 * The CLI commands. Each declares its flags (node:util parseArgs) and a run
 * function returning the exit code. Heavy modules (the module registry with
 * every transport and its client library, the grammar, the host) are imported
 * inside the commands that need them, so `version` or `jwt` start in a
 * fraction of the time and memory.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { QsError } from '../host/errors.ts';
import type { LoadedConfig } from '../host/load-config.ts';
import { jwtCommand } from './jwt.ts';

type Flags = Record<string, string | boolean | string[] | undefined>;
export interface Command { flags: NonNullable<ParseArgsConfig['options']>; run(flags: Flags, positionals: string[]): Promise<number> }

const configFlags = {
  config: { type: 'string' }, adapter: { type: 'string' }, envfile: { type: 'string' },
} as const;

function printWarnings(w: LoadedConfig['warnings']): void {
  for (const x of w) process.stderr.write(`WARN ${x.file}:${x.line}${x.column ? ':' + x.column : ''}: ${x.message}\n`);
}

async function load(flags: Flags): Promise<LoadedConfig> {
  const [{ resolveConfig }, { loadConfigFile }] = await Promise.all([import('./common.ts'), import('../host/load-config.ts')]);
  const { path, adapter } = resolveConfig(flags as { config?: string; adapter?: string; envfile?: string });
  return loadConfigFile(path, adapter);
}

/** Provisions every module of a config without starting it, then cleans up (Caddy's validate). */
async function provisionOnly(config: Record<string, unknown>): Promise<void> {
  const [{ registerStandardModules }, { Instance }, { UsagePool }, { dataDir, makeLogger }] = await Promise.all([
    import('../standard.ts'), import('../host/instance.ts'), import('../host/usage-pool.ts'), import('./common.ts'),
  ]);
  registerStandardModules();
  const inst = new Instance(config, { log: makeLogger('warn'), pool: new UsagePool(), dataDir: dataDir() });
  await inst.provision();
  await inst.cleanup();
}

async function adminRequest(address: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<void> {
  // The Origin names the admin address itself, so `enforce_origin` accepts the CLI (as Caddy's does).
  const res = await fetch(`http://${address}${path}`, { method: 'POST', body, headers: { Origin: `http://${address}`, ...headers } });
  if (!res.ok) throw new QsError('ERR_ADMIN', `sending configuration to instance: quicksilver responded with error: HTTP ${res.status}: ${(await res.text()).trim()}`);
}

function adminAddress(flags: Flags, config?: Record<string, unknown>): string {
  const a = config?.admin as { listen?: string; disabled?: boolean } | undefined;
  if (typeof flags.address === 'string') return flags.address;
  if (a?.disabled) throw new QsError('ERR_CLI_USAGE', 'the admin endpoint is disabled in this config (admin off); pass --address');
  return a?.listen ?? process.env.CADDY_ADMIN ?? 'localhost:2019';
}

export const commands: Record<string, Command> = {
  run: { flags: { ...configFlags, watch: { type: 'boolean' } }, run: async (f) => (await import('./run.ts')).runCommand(f) },
  adapt: {
    flags: { ...configFlags, pretty: { type: 'boolean' }, validate: { type: 'boolean' } },
    async run(f) {
      const { config, warnings } = await load(f);
      printWarnings(warnings);
      if (f.validate) await provisionOnly(config);
      process.stdout.write(JSON.stringify(config, null, f.pretty ? '\t' : undefined) + '\n');
      return 0;
    },
  },
  validate: {
    flags: configFlags,
    async run(f) {
      const { config, warnings } = await load(f);
      printWarnings(warnings);
      await provisionOnly(config);
      process.stdout.write('Valid configuration\n');
      return 0;
    },
  },
  fmt: {
    flags: { overwrite: { type: 'boolean', short: 'w' }, diff: { type: 'boolean', short: 'd' }, config: { type: 'string' } },
    async run(f, pos) {
      const path = pos[0] ?? (f.config as string | undefined) ?? 'Caddyfile';
      const input = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
      const { formatCaddyfile } = await import('../../grammar/index.ts');
      const out = formatCaddyfile(input);
      const same = out === input.replace(/\r\n/g, '\n');
      if (f.overwrite && path !== '-') { if (!same) writeFileSync(path, out); return 0; }
      if (f.diff) {
        const a = input.replace(/\r\n/g, '\n').split('\n');
        const b = out.split('\n');
        for (const line of b) process.stdout.write((a.includes(line) ? '  ' : '+ ') + line + '\n');
        for (const line of a) if (!b.includes(line)) process.stdout.write('- ' + line + '\n');
      } else {
        process.stdout.write(out);
      }
      if (!same) {
        process.stderr.write(`${path}: Caddyfile input is not formatted; Tip: use '--overwrite' to update your Caddyfile in-place instead of previewing it\n`);
        return 1;
      }
      return 0;
    },
  },
  reload: {
    flags: { ...configFlags, address: { type: 'string' }, force: { type: 'boolean' } },
    async run(f) {
      const { config, warnings } = await load(f);
      printWarnings(warnings);
      await adminRequest(adminAddress(f, config), '/load', JSON.stringify(config), {
        'Content-Type': 'application/json', ...(f.force ? { 'Cache-Control': 'must-revalidate' } : {}),
      });
      return 0;
    },
  },
  stop: {
    flags: { ...configFlags, address: { type: 'string' } },
    async run(f) {
      let config: Record<string, unknown> | undefined;
      if (f.config) config = (await load(f)).config;
      await adminRequest(adminAddress(f, config), '/stop');
      return 0;
    },
  },
  jwt: jwtCommand,
  version: {
    flags: {},
    async run() {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      process.stdout.write(`quicksilver v${pkg.version} (node ${process.version})\n`);
      return 0;
    },
  },
  'list-modules': {
    flags: {},
    async run() {
      const [{ registerStandardModules }, { listModules }] = await Promise.all([import('../standard.ts'), import('../host/module.ts')]);
      registerStandardModules();
      process.stdout.write(listModules().join('\n') + '\n');
      return 0;
    },
  },
};
