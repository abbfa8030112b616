/**
 * `quicksilver environ` (and `run --environ`): as `caddy environ`, the
 * server's own paths and runtime first, a blank line, then every environment
 * variable as KEY=value.
 */
import { availableParallelism, cpus, homedir } from 'node:os';
import { join } from 'node:path';
import { dataDir } from './common.ts';
import { packageVersion } from './commands.ts';

export function environText(): string {
  const lines = [
    `quicksilver.HomeDir=${homedir()}`,
    `quicksilver.AppDataDir=${dataDir()}`,
    `quicksilver.CADir=${join(dataDir(), 'pki', 'authorities', 'local')}`,
    `quicksilver.Version=v${packageVersion()}`,
    `runtime.Platform=${process.platform}`,
    `runtime.Arch=${process.arch}`,
    `runtime.NumCPU=${cpus().length}`,
    `runtime.Parallelism=${availableParallelism()}`,
    `runtime.Version=node ${process.version}`,
    `os.Getwd=${process.cwd()}`,
    '',
    ...Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ''}`),
  ];
  return lines.join('\n') + '\n';
}
