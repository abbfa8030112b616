/**
 * Broker jars from Maven Central, for any JVM broker the tests run (Kafka,
 * Pulsar …). tools/brokers/<name>/pom.xml lists the broker's artifacts;
 * scripts/brokers.sh copies their runtime jars (mvn copy-dependencies) into the
 * git-ignored .cache/brokers/<name>-<version>/lib once, under a flock, so two
 * test files (or the background prefetch of scripts/test.sh) never download
 * at the same time, and a finished copy is never fetched again.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root (this file is test/helpers/brokers/maven.ts). */
export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

/** The classpath directory of broker `name` (tools/brokers/<name>/pom.xml), fetched when missing. */
export async function brokerLib(name: string): Promise<string> {
  const { stdout } = await run('bash', [join(REPO_ROOT, 'scripts', 'brokers.sh'), 'lib', name], { maxBuffer: 1 << 20 });
  const lib = stdout.trim().split('\n').pop()!;
  if (!existsSync(join(lib, '.complete'))) throw new Error(`brokers.sh lib ${name}: no complete copy in ${lib}`);
  return lib;
}

/** undefined when a JVM broker can run here, else why not (a test states it when it skips). */
export async function jvmSkipReason(): Promise<string | undefined> {
  for (const tool of ['java', 'mvn']) {
    try { await run('which', [tool]); } catch { return `${tool} is not installed (apt-get install openjdk-17-jre-headless maven)`; }
  }
  return undefined;
}
