/**
 * The CLI commands. Each declares its flags (node:util parseArgs) and a run
 * function returning the exit code. Heavy modules (the module registry with
 * every transport and its client library, the grammar, the host) are imported
 * inside the commands that need them, so `version` or `jwt` start in a
 * fraction of the time and memory.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { QsError } from '../host/errors.ts';
import type { LoadedConfig } from '../runtime/load-config.ts';
import { jwtCommand } from './jwt.ts';

import type { FlagSpecs, Flags } from './args.ts';

export interface Command {
  /** One line for `quicksilver --help`. */
  summary: string;
  /** What follows the command name in its usage line. */
  usage: string;
  /** More text for `quicksilver <command> --help`. */
  help?: string;
  flags: FlagSpecs;
  run(flags: Flags, positionals: string[]): Promise<number>;
}

export const configFlags: FlagSpecs = {
  config: { type: 'string', short: 'c', value: 'F', help: 'config file (default ./Caddyfile)' },
  adapter: { type: 'string', short: 'a', value: 'A', help: 'config adapter: caddyfile or json (default: from the file name)' },
  envfile: { type: 'string', value: 'F', help: 'load environment variables from this file first' },
};

/** Adapter warnings, as Caddy logs them (level warn, with `adapter`, `file` and `line`). */
async function printWarnings(w: LoadedConfig['warnings'], adapter = 'caddyfile'): Promise<void> {
  if (!w.length) return;
  const log = (await import('./common.ts')).makeLogger();
  for (const x of w) log.warn({ adapter, file: x.file, line: x.line, ...(x.column ? { column: x.column } : {}) }, x.message);
}

async function load(flags: Flags): Promise<LoadedConfig> {
  const [{ resolveConfig }, { loadConfigFile }] = await Promise.all([import('./common.ts'), import('../runtime/load-config.ts')]);
  const { path, adapter } = resolveConfig(flags as { config?: string; adapter?: string; envfile?: string });
  return loadConfigFile(path, adapter);
}

/** Provisions every module of a config without starting it, then cleans up (Caddy's validate). */
async function provisionOnly(config: Record<string, unknown>): Promise<void> {
  const [{ registerStandardModules }, { Instance }, { UsagePool }, { dataDir, makeLogger }] = await Promise.all([
    import('../runtime/standard.ts'), import('../host/instance.ts'), import('../host/usage-pool.ts'), import('./common.ts'),
  ]);
  registerStandardModules();
  const inst = new Instance(config, { log: makeLogger('warn'), pool: new UsagePool(), dataDir: dataDir() });
  await inst.provision();
  await inst.cleanup();
}

/** A POST to a running instance's admin endpoint; says where and why when nothing answers. */
async function adminRequest(address: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<void> {
  const url = `http://${address}${path}`;
  // The Origin names the admin address itself, so `enforce_origin` accepts the CLI (as Caddy's does).
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body, headers: { Origin: `http://${address}`, ...headers } });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code === 'ECONNREFUSED' ? `connection refused: nothing answers at ${address}; is quicksilver running with its admin endpoint there? (--address, or the config's admin option)`
      : cause?.message ?? (e as Error).message;
    throw new QsError('ERR_ADMIN', `performing request: POST ${url}: ${why}`, { cause: e });
  }
  if (!res.ok) throw new QsError('ERR_ADMIN', `sending configuration to instance: quicksilver responded with error: HTTP ${res.status}: ${(await res.text()).trim()}`);
}

function adminAddress(flags: Flags, config?: Record<string, unknown>): string {
  const a = config?.admin as { listen?: string; disabled?: boolean } | undefined;
  if (typeof flags.address === 'string') return flags.address;
  if (a?.disabled) throw new QsError('ERR_CLI_USAGE', 'the admin endpoint is disabled in this config (admin off); pass --address');
  return a?.listen ?? process.env.CADDY_ADMIN ?? 'localhost:2019';
}

const ADDRESS = { type: 'string', value: 'ADDR', help: "the admin endpoint's address (default: the config's admin option, CADDY_ADMIN, or localhost:2019)" } as const;

export const commands: Record<string, Command> = {
  run: {
    summary: 'Starts the server and blocks indefinitely',
    usage: '[--config F] [--adapter A] [--envfile F] [--environ] [--watch] [--pidfile F]',
    help: 'Serves in the foreground. SIGINT/SIGTERM stop gracefully; SIGHUP reloads the config file.',
    flags: {
      ...configFlags,
      environ: { type: 'boolean', short: 'e', help: 'print the environment before starting' },
      watch: { type: 'boolean', short: 'w', help: 'reload the config file when it changes' },
      pidfile: { type: 'string', value: 'F', help: 'write the process ID to this file' },
    },
    run: async (f) => (await import('./run.ts')).runCommand(f),
  },
  start: {
    summary: 'Starts the server in the background',
    usage: '[--config F] [--adapter A] [--envfile F] [--watch] [--pidfile F]',
    help: 'Starts `quicksilver run` in the background and returns once it serves, or fails with its error.\nIts logs go to this terminal. Stop it with `quicksilver stop`.',
    flags: {
      ...configFlags,
      watch: { type: 'boolean', short: 'w', help: 'reload the config file when it changes' },
      pidfile: { type: 'string', value: 'F', help: 'write the process ID to this file' },
    },
    run: async (f) => (await import('./start.ts')).startCommand(f),
  },
  adapt: {
    summary: 'Adapts a configuration to Caddy\'s native JSON',
    usage: '[--config F] [--adapter A] [--pretty] [--validate] [--spans] [--envfile F]',
    flags: {
      ...configFlags,
      pretty: { type: 'boolean', short: 'p', help: 'indent the JSON with tabs' },
      validate: { type: 'boolean', help: 'also provision every module (as validate)' },
      spans: { type: 'boolean', help: 'keep each module\'s source position ("@span"), which only quicksilver reads' },
    },
    async run(f) {
      const { config, warnings, adapter } = await load(f);
      await printWarnings(warnings, adapter);
      if (f.validate) await provisionOnly(config);
      const { toCaddyJSON } = await import('../runtime/caddy-json.ts');
      const out = toCaddyJSON(config, { spans: f.spans === true });
      process.stdout.write(JSON.stringify(out, null, f.pretty ? '\t' : undefined) + '\n');
      return 0;
    },
  },
  validate: {
    summary: 'Tests whether a configuration file is valid',
    usage: '[--config F] [--adapter A] [--envfile F]',
    flags: configFlags,
    async run(f) {
      const { config, warnings, adapter } = await load(f);
      await printWarnings(warnings, adapter);
      await provisionOnly(config);
      process.stdout.write('Valid configuration\n');
      return 0;
    },
  },
  fmt: {
    summary: 'Formats a Caddyfile',
    usage: '[path|-] [--overwrite] [--diff]',
    help: 'Without --overwrite, prints the result and exits 1 if the input was not formatted. `-` reads standard input.',
    flags: {
      overwrite: { type: 'boolean', short: 'w', help: 'rewrite the file in place' },
      diff: { type: 'boolean', short: 'd', help: 'print the lines that change, prefixed with "- " and "+ "' },
      config: { type: 'string', short: 'c', value: 'F', help: 'the file to format (same as the path argument)' },
    },
    async run(f, pos) {
      const path = pos[0] ?? (f.config as string | undefined) ?? 'Caddyfile';
      let input: string;
      try { input = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8'); } catch (e) {
        throw new QsError('ERR_CLI_USAGE', `reading input file: ${(e as Error).message}`, { cause: e });
      }
      const { formatCaddyfile } = await import('../../grammar/index.ts');
      const out = formatCaddyfile(input);
      const same = out === input.replace(/\r\n/g, '\n');
      if (f.overwrite && path !== '-') { if (!same) writeFileSync(path, out); return 0; }
      if (f.diff) {
        const a = input.replace(/\r\n/g, '\n').split('\n');
        const b = out.split('\n');
        const inA = new Set(a);
        const inB = new Set(b);
        let text = '';
        for (const line of b) text += (inA.has(line) ? '  ' : '+ ') + line + '\n';
        for (const line of a) if (!inB.has(line)) text += '- ' + line + '\n';
        process.stdout.write(text);
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
    summary: 'Changes the config of the running server',
    usage: '[--config F] [--adapter A] [--address ADDR] [--force] [--envfile F]',
    flags: { ...configFlags, address: ADDRESS, force: { type: 'boolean', short: 'f', help: 'reload even if the config is unchanged' } },
    async run(f) {
      const { config, warnings, adapter } = await load(f);
      await printWarnings(warnings, adapter);
      await adminRequest(adminAddress(f, config), '/load', JSON.stringify(config), {
        'Content-Type': 'application/json', ...(f.force ? { 'Cache-Control': 'must-revalidate' } : {}),
      });
      return 0;
    },
  },
  stop: {
    summary: 'Gracefully stops a started server',
    usage: '[--config F] [--adapter A] [--address ADDR]',
    help: 'Sends POST /stop to the admin endpoint: its address comes from --address, else from the config given with --config, else CADDY_ADMIN or localhost:2019.',
    flags: { ...configFlags, address: ADDRESS },
    async run(f) {
      let config: Record<string, unknown> | undefined;
      if (f.config) config = (await load(f)).config;
      await adminRequest(adminAddress(f, config), '/stop');
      return 0;
    },
  },
  jwt: jwtCommand,
  'hash-password': {
    summary: 'Hashes a password and writes the hash',
    usage: '[--plaintext P] [--algorithm bcrypt|argon2id] [--bcrypt-cost N] [--argon2id-time N] [--argon2id-memory KiB] [--argon2id-threads N] [--argon2id-keylen N]',
    help: 'Without --plaintext the password is read from standard input (on a terminal: asked twice, not echoed).\nThe hash (bcrypt, cost 14, by default) is what Caddy\'s basic_auth accepts.',
    flags: {
      plaintext: { type: 'string', short: 'p', value: 'P', help: 'the password to hash' },
      algorithm: { type: 'string', short: 'a', value: 'A', help: 'bcrypt (default) or argon2id' },
      'bcrypt-cost': { type: 'string', value: 'N', help: 'bcrypt cost, 4 to 31 (default 14)' },
      'argon2id-time': { type: 'string', value: 'N', help: 'argon2id iterations (default 1)' },
      'argon2id-memory': { type: 'string', value: 'KiB', help: 'argon2id memory in KiB (default 47104)' },
      'argon2id-threads': { type: 'string', value: 'N', help: 'argon2id parallelism (default 1)' },
      'argon2id-keylen': { type: 'string', value: 'N', help: 'argon2id hash length in bytes (default 32)' },
    },
    run: async (f) => (await import('./hash-password.ts')).hashPasswordCommand(f),
  },
  environ: {
    summary: 'Prints the environment',
    usage: '[--envfile F]',
    flags: { envfile: configFlags.envfile! },
    async run(f) {
      if (typeof f.envfile === 'string') (await import('./common.ts')).loadEnvFile(f.envfile);
      process.stdout.write((await import('./environ.ts')).environText());
      return 0;
    },
  },
  version: {
    summary: 'Prints the version',
    usage: '',
    flags: {},
    async run() {
      process.stdout.write(`quicksilver v${packageVersion()} (node ${process.version})\n`);
      return 0;
    },
  },
  'list-modules': {
    summary: 'Lists the installed modules',
    usage: '[--packages] [--versions] [--skip-standard]',
    help: 'Standard modules are those Caddy itself has; the others (the Mercure hub and its transports, rate_limit, the Redis storage) are plugins in a Caddy build.',
    flags: {
      packages: { type: 'boolean', help: 'print the package that provides each module' },
      versions: { type: 'boolean', help: 'print the version of each module' },
      'skip-standard': { type: 'boolean', short: 's', help: 'leave out the standard modules' },
    },
    run: async (f) => (await import('./list-modules.ts')).listModulesCommand(f),
  },
};

/** The version in package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
