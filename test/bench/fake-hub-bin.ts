/**
 * A stand-in for `quicksilver run --config FILE` that serves the fake hub on
 * the port of the Caddyfile's site address (`:PORT {`), so `--spawn` can be
 * tested with `--hub-bin test/bench/fake-hub-bin.ts` while the real hub is
 * unfinished. Stops on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { startFakeHub } from './fake-hub.ts';

const args = process.argv.slice(2);
const file = args[args.indexOf('--config') + 1];
if (args[0] !== 'run' || !file) { process.stderr.write('usage: fake-hub-bin run --config FILE\n'); process.exit(2); }
const port = Number(/^:(\d+) \{/m.exec(readFileSync(file, 'utf8'))?.[1]);
const hub = await startFakeHub({}, undefined, port);
process.stderr.write(`fake hub on ${hub.url}\n`);
process.once('SIGTERM', () => { void hub.close().then(() => process.exit(0)); });
