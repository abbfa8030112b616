/**
 * Parse-time environment substitution: Caddy's textual `{$VAR}` / `{$VAR:default}`
 * pre-pass (caddy.md §1.2). It knows nothing of tokens, quotes or comments, so a
 * value may inject several tokens, whole lines or even braces.
 *
 * Line numbers: Caddy reports lines counted in the *substituted* text, so a
 * three-line value pushes every later error down by two lines. We deliberately
 * deviate and map positions back to the original file: a token that came from
 * the file keeps the line and column where it is written there, and every token
 * that came from inside a value is reported at the `{$VAR}` placeholder that
 * produced it. `substituteEnvMapped` returns the offset mapping that makes this
 * possible; the lexer keeps Caddy's own count as `LexToken.caddyLine`.
 */

/** Variables visible to `{$VAR}`. A key that is present with an undefined value counts as unset. */
export type Env = Record<string, string | undefined>;

/** One stretch of the output: copied from the source, or the value of a placeholder. */
interface Segment {
  out: number;
  src: number;
  copied: boolean;
}

/** The substituted text plus a way back to source offsets. */
export interface Substituted {
  text: string;
  /** Maps an offset in `text` to an offset in the original source (a value maps to its placeholder). */
  toSource(offset: number): number;
}

/**
 * Replaces every `{$NAME}` / `{$NAME:default}` in `text`, exactly as Caddy does:
 * the name is split on the first `:`; the default applies only when the variable
 * is unset (set-but-empty gives ''); `{$}` stays; an unclosed `{$` stops the
 * scan; values are not rescanned (no recursion).
 */
export function substituteEnv(text: string, env: Env): string {
  return substituteEnvMapped(text, env).text;
}

/** substituteEnv plus the offset mapping back to `text`. */
export function substituteEnvMapped(text: string, env: Env): Substituted {
  const segments: Segment[] = [];
  let out = '';
  let copyFrom = 0; // start of the source stretch not yet copied
  let scan = 0;
  const copy = (end: number): void => {
    if (end > copyFrom) {
      segments.push({ out: out.length, src: copyFrom, copied: true });
      out += text.slice(copyFrom, end);
    }
  };
  for (;;) {
    const begin = text.indexOf('{$', scan);
    if (begin < 0) break;
    const end = text.indexOf('}', begin + 2);
    if (end < 0) break; // unclosed: Caddy stops scanning and keeps the rest verbatim
    const name = text.slice(begin + 2, end);
    scan = end + 1;
    if (name === '') continue; // `{$}` is kept as written
    const colon = name.indexOf(':');
    const key = colon < 0 ? name : name.slice(0, colon);
    let value = env[key];
    if (value === undefined) value = colon < 0 ? '' : name.slice(colon + 1);
    copy(begin);
    if (value !== '') {
      segments.push({ out: out.length, src: begin, copied: false });
      out += value;
    }
    copyFrom = end + 1;
  }
  copy(text.length);
  const srcLength = text.length;
  const outLength = out.length;
  return {
    text: out,
    toSource(offset: number): number {
      if (offset >= outLength) return srcLength;
      // last segment starting at or before offset
      let lo = 0;
      let hi = segments.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (segments[mid]!.out <= offset) lo = mid;
        else hi = mid - 1;
      }
      const seg = segments[lo];
      if (!seg) return offset;
      return seg.copied ? seg.src + (offset - seg.out) : seg.src;
    },
  };
}
