/**
 * Linux /proc readings: a process's RSS and CPU time, its open-file limit,
 * and a description of the machine for the report. Everything degrades to
 * `undefined` when /proc is not there (the report then says so).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';

let ticks: number | undefined;

/** Clock ticks per second for /proc/PID/stat (getconf CLK_TCK, 100 when unknown). */
/** PIDs whose parent is pid (a hub's forked workers). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

/** Whether pid holds a socket listening on TCP port (from /proc/net/tcp{,6} and its fds). */
export function listensOn(pid: number, port: number): boolean {
  const inodes = new Set<string>();
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c[1]?.endsWith(`:${hex}`) && c[3] === '0A') inodes.add(c[9]!);
    }
  }
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try { return inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? ''); } catch { return false; }
    });
  } catch { return false; }
}

export function clockTicks(): number {
  if (ticks === undefined) {
    try { ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { ticks = 100; }
  }
  return ticks;
}

/** Resident set size in bytes (VmRSS), or undefined when the process is gone. */
export function readRss(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch { return undefined; }
}

/** User + system CPU seconds (utime + stime), or undefined when the process is gone. */
export function readCpuSeconds(pid: number): number | undefined {
  try {
    return parseStatCpu(readFileSync(`/proc/${pid}/stat`, 'utf8'), clockTicks());
  } catch { return undefined; }
}

/** Parses utime + stime out of a /proc/PID/stat line (the command name may hold spaces and parentheses). */
export function parseStatCpu(stat: string, hz: number): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = stat.slice(close + 2).split(' ');
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / hz : undefined;
}

/** Soft and hard RLIMIT_NOFILE of a process (from /proc/PID/limits). */
export interface FdLimit { soft: number; hard: number }

/** The open-file limit of `pid` (default: this process). */
export function readFdLimit(pid: number | 'self' = 'self'): FdLimit | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    if (!m) return undefined;
    const n = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
    return { soft: n(m[1]!), hard: n(m[2]!) };
  } catch { return undefined; }
}

/**
 * Tries to raise `pid`'s open-file limit to at least `want` with prlimit(1).
 * Node already lifts its soft limit to the hard one at start-up, so this only
 * helps when raising the hard limit is allowed (root with CAP_SYS_RESOURCE).
 * Returns the limit in force afterwards.
 */
export function raiseFdLimit(want: number, pid: number = process.pid): FdLimit | undefined {
  const before = readFdLimit(pid);
  if (!before || before.soft >= want) return before;
  const hard = Math.max(want, before.hard);
  for (const spec of [`${want}:${hard}`, `${Math.min(want, before.hard)}:${before.hard}`]) {
    try {
      execFileSync('prlimit', ['--pid', String(pid), `--nofile=${spec}`], { stdio: 'ignore' });
      break;
    } catch { /* not allowed: try the next, smaller request */ }
  }
  return readFdLimit(pid);
}

/** The machine, as the report describes it. */
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  os: string;
  fdLimit?: FdLimit;
  ephemeralPorts?: string;
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine skews every figure. */
  loadAverage: number[];
}

/** Cores, CPU model, memory, Node version, kernel, this process's fd limit and the ephemeral port range. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  let ephemeralPorts: string | undefined;
  try { ephemeralPorts = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().replace(/\s+/, '-'); } catch { /* not Linux */ }
  return {
    cores: os.availableParallelism?.() ?? cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    fdLimit: readFdLimit(),
    ephemeralPorts,
    loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}
