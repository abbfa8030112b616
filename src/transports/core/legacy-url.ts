/**
 * Helpers for the deprecated `transport_url` forms, whose errors carry the Go
 * hub's text: Go's `%q` and `url.URL.Redacted()`.
 */

/** Go's `%q` for the strings we quote (ASCII-safe JSON quoting is the same for them). */
export const goQuote = (s: string): string => JSON.stringify(s);

/** Go's `url.URL.Redacted()`: the password becomes `xxxxx`. */
export function redactedUrl(raw: string, u: URL | undefined): string {
  if (!u?.password) return raw;
  const copy = new URL(u.href);
  copy.password = 'xxxxx';
  return copy.href;
}
