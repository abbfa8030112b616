/**
 * The quicksilver CLI: run, adapt, validate, fmt, reload, stop, jwt, version,
 * list-modules. Errors go to stderr with a non-zero exit.
 */
import { parseArgs } from 'node:util';
import { commands } from './commands.ts';
import { QsError } from '../host/errors.ts';

const USAGE = `usage: quicksilver <command> [flags]

commands:
  run        [--config F] [--adapter caddyfile|json] [--envfile F]   run in the foreground
  adapt      [--config F] [--adapter A] [--pretty] [--validate] [--envfile F]   print the JSON config
  validate   [--config F] [--adapter A] [--envfile F]   adapt and provision every module, without serving
  fmt        [path|-] [--overwrite|-w] [--diff]   format a Caddyfile
  reload     [--config F] [--adapter A] [--address ADDR] [--force]   send a new config to a running instance
  stop       [--address ADDR]   stop a running instance through its admin endpoint
  jwt        [--key K] [--alg A] [--publish T]... [--subscribe T]... [--payload JSON] [--ttl 1h]   mint a Mercure JWT
  version    print the version
  list-modules   print the registered module IDs`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') { process.stdout.write(USAGE + '\n'); return name ? 0 : 2; }
  const cmd = commands[name];
  if (!cmd) { process.stderr.write(`unknown command: ${name}\n\n${USAGE}\n`); return 2; }
  const { values, positionals } = parseArgs({ args: rest, options: cmd.flags, allowPositionals: true, strict: true });
  return cmd.run(values as Record<string, string | boolean | string[] | undefined>, positionals);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  async (e: unknown) => {
    // The message only: no stack trace reaches a user, whatever the input.
    const msg = e instanceof Error ? e.message : String(e);
    if (process.argv[2] === 'run') {
      // `run` writes logs only, so its last word is a log entry too (as Caddy's CLI does).
      (await import('./common.ts')).makeLogger().error(msg);
    } else {
      process.stderr.write(`Error: ${msg}\n`);
    }
    process.exitCode = 1;
  },
);
