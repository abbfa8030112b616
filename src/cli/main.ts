/**
 * The quicksilver CLI, with Caddy's habits: `quicksilver <command> [flags]`,
 * `--help` on every command (and `help <command>`), `Error: …` and exit 1 on
 * an unknown command, a bad flag or a failure, never a stack trace.
 */
import { flagsHelp, parseFlags } from './args.ts';
import { commands, type Command } from './commands.ts';
import { QsError } from '../host/errors.ts';

function rootHelp(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const list = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`).join('\n');
  return `Quicksilver is a Mercure hub in a small Caddy-style server.\n\nUsage:\n  quicksilver <command> [flags]\n\nCommands:\n${list}\n\n`
    + `Use "quicksilver <command> --help" for more about a command.\n`;
}

function commandHelp(name: string, c: Command): string {
  return `${c.summary}.${c.help ? `\n\n${c.help}` : ''}\n\nUsage:\n  quicksilver ${name}${c.usage ? ' ' + c.usage : ''}\n\nFlags:\n${flagsHelp(c.flags)}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') { process.stdout.write(rootHelp()); return 0; }
  if (name === 'help') {
    const c = rest[0] ? commands[rest[0]] : undefined;
    if (rest[0] && !c) throw new QsError('ERR_CLI_USAGE', `unknown help topic "${rest[0]}"; run 'quicksilver --help' for the commands`);
    process.stdout.write(c ? commandHelp(rest[0]!, c) : rootHelp());
    return 0;
  }
  const cmd = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!cmd) throw new QsError('ERR_CLI_USAGE', `unknown command "${name}" for "quicksilver"\nRun 'quicksilver --help' for usage.`);
  const { values, positionals, help } = parseFlags(rest, cmd.flags);
  if (help) { process.stdout.write(commandHelp(name, cmd)); return 0; }
  return cmd.run(values, positionals);
}

/** The last word of a failed command: a log entry for `run` (it writes only logs), else `Error: …`. */
async function fail(e: unknown): Promise<void> {
  const msg = e instanceof Error ? e.message : String(e);
  if (process.argv[2] === 'run') (await import('./common.ts')).makeLogger().error(msg);
  else process.stderr.write(`Error: ${msg}\n`);
  process.exitCode = 1;
}

// Output piped into a reader that stops early (`quicksilver fmt --diff | head`): stop quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); });
// Whatever goes wrong, a person gets the message, not a stack trace.
process.on('uncaughtException', (e) => { void fail(e).then(() => process.exit(1)); });

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, fail);
