/**
 * `npm run bench -- SCENARIO [options]`: runs one benchmark against a Mercure
 * hub (given by URL, or spawned with --spawn), prints the JSON report on
 * stdout, writes it with its SVG chart to bench/out/ (or --out), and prints
 * a short summary on stderr. Exit codes: 0 run complete (even with missed
 * events: read `ok`), 1 error, 2 usage, 3 watchdog (the run overran its bound).
 */
import { parseOptions, HelpRequested, USAGE } from './options.ts';
import { runBenchmark, runBound } from './run.ts';
import { summaryText, writeReport } from './report.ts';

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseOptions(argv);
  } catch (e) {
    if (e instanceof HelpRequested) { process.stdout.write(USAGE + '\n'); return 0; }
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const bound = runBound(options);
  const watchdog = setTimeout(() => {
    process.stderr.write(`watchdog: the run exceeded its bound of ${Math.round(bound / 1000)} s; stopping\n`);
    process.exit(3);
  }, bound);
  const stop = (sig: string) => { process.stderr.write(`${sig}: stopping\n`); process.exit(130); };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  try {
    const report = writeReport(await runBenchmark(options, (l) => process.stderr.write(`[bench] ${l}\n`)), options.out);
    process.stdout.write(JSON.stringify(report) + '\n');
    process.stderr.write(summaryText(report) + '\n');
    return 0;
  } finally {
    clearTimeout(watchdog);
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => { process.stderr.write(`bench: ${(e as Error)?.message ?? String(e)}\n`); process.exitCode = 1; },
);
