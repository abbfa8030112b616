/**
 * The process logger, in Caddy's shape: one JSON object a line with `level`
 * as a word, `ts` in seconds, `logger` (the module's name, as Caddy names it:
 * `http`, `tls`, `admin`, `http.handlers.mercure`, `http.log.access.log0`)
 * and `msg`, then the entry's fields. Errors are logged as their message
 * (`error`, also for entries logged with `{ err }`), never as a stack.
 *
 * When stderr is a terminal the lines are Caddy's console format instead:
 * `2006/01/02 15:04:05.000<TAB>LEVEL<TAB>logger<TAB>msg<TAB>{fields}`.
 * QS_LOG_FORMAT=json|console overrides the choice.
 */
import { writeSync } from 'node:fs';
import { format } from 'node:util';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type LogFormat = 'json' | 'console';

/** An error as Caddy logs it: its message. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') return (e as { message: string }).message;
  return String(e);
}

/** The pino options that give Caddy's JSON shape. */
export function caddyLogOptions(level: string): LoggerOptions {
  return {
    level,
    base: undefined,
    messageKey: 'msg',
    errorKey: 'error',
    timestamp: () => `,"ts":${Date.now() / 1000}`,
    formatters: {
      level: (label) => ({ level: label }),
      // Caddy's field for an error is `error`; modules here log `{ err }`.
      log: (o) => {
        if (!('err' in o)) return o;
        const { err, ...rest } = o;
        return { ...rest, error: err };
      },
    },
    serializers: { err: errorText, error: errorText },
  };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** One JSON log line → Caddy's console format (no trailing newline). Lines that are not JSON pass through. */
export function consoleLine(json: string): string {
  let o: Record<string, unknown>;
  try { o = JSON.parse(json) as Record<string, unknown>; } catch { return json.replace(/\n$/, ''); }
  const { level, ts, logger, msg, ...fields } = o;
  const d = new Date(typeof ts === 'number' ? ts * 1000 : Date.now());
  const time = `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  const parts = [time, String(level ?? 'info').toUpperCase()];
  if (logger) parts.push(String(logger));
  parts.push(String(msg ?? ''));
  if (Object.keys(fields).length) parts.push(JSON.stringify(fields));
  return parts.join('\t');
}

/** A destination that rewrites each JSON line in the console format, written synchronously to `fd`. */
export function consoleDestination(fd: number): DestinationStream {
  return {
    write(s: string) {
      const out = s.split('\n').filter(Boolean).map(consoleLine).join('\n');
      try { writeSync(fd, out + '\n'); } catch { /* the terminal went away */ }
    },
  };
}

/** Console when the stream is a terminal (as Caddy's default encoder), else JSON; QS_LOG_FORMAT overrides. */
export function defaultFormat(isTTY: boolean | undefined, env: Record<string, string | undefined> = process.env): LogFormat {
  const f = env.QS_LOG_FORMAT;
  if (f === 'json' || f === 'console') return f;
  return isTTY ? 'console' : 'json';
}

/** The process logger on stderr. */
export function processLogger(level: string, format: LogFormat = defaultFormat(process.stderr.isTTY)): Logger {
  const dest = format === 'console' ? consoleDestination(2) : pino.destination({ dest: 2, sync: true });
  return pino(caddyLogOptions(level), dest);
}

/** Caddy's logger name for a module ID: apps are named by the app (`apps.http` → `http`), other modules by their ID. */
/** Caddy's logger name for a module: its ID, apps without their `apps.` prefix (`http`, `tls`). */
export function loggerName(moduleId: string): string {
  return moduleId.startsWith('apps.') ? moduleId.slice(5) : moduleId;
}

/**
 * Sends what would otherwise reach stderr as plain text through the logger:
 * Node's process warnings (logger `node`) and console.error/console.warn calls
 * of libraries (logger `console`), so a run's stderr holds log entries only.
 */
export function captureStderr(log: Logger): void {
  process.removeAllListeners('warning'); // Node's own handler prints "(node:…) Warning: …"
  process.on('warning', (w) => log.warn({ logger: 'node', name: w.name, ...((w as { code?: string }).code ? { code: (w as { code?: string }).code } : {}) }, w.message));
  console.error = (...args: unknown[]) => log.error({ logger: 'console' }, format(...args));
  console.warn = (...args: unknown[]) => log.warn({ logger: 'console' }, format(...args));
}
