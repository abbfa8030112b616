/**
 * Source positions. A Span says where a token or config node came from; the
 * grammar stamps one on every token, and config objects carry theirs as
 * `@span` ("file:line:col"), so an error raised long after parsing (at
 * provision, at validate) still cites the Caddyfile. spanOf/withSpan are the
 * only places that read or write `@span`.
 */

/** Where a token or node starts. line and column are 1-based. */
export interface Span {
  file: string;
  line: number;
  column: number;
  /** Import chain, innermost last: "Caddyfile:3 (import common)". Empty when not imported. */
  imports?: string[];
}

/** Renders a span as `file:line:col`. */
export function formatSpan(s: Span): string {
  return `${s.file}:${s.line}:${s.column}`;
}

/** Parses `file:line:col` (the file may itself contain colons). */
export function parseSpan(text: string): Span | undefined {
  const m = /^(.*):(\d+):(\d+)$/.exec(text);
  return m ? { file: m[1]!, line: Number(m[2]), column: Number(m[3]) } : undefined;
}

/** The span a config object carries, if any. */
export function spanOf(config: { '@span'?: unknown } | undefined): Span | undefined {
  const raw = config?.['@span'];
  return typeof raw === 'string' ? parseSpan(raw) : undefined;
}

/** Stamps a span on a config object (in place) and returns it. */
export function withSpan<T extends object>(config: T, span: Span | string | undefined): T {
  if (span !== undefined) (config as { '@span'?: string })['@span'] = typeof span === 'string' ? span : formatSpan(span);
  return config;
}
