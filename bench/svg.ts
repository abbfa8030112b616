/**
 * A hand-written SVG chart of a run, one point per 1-second bucket:
 * top panel, delivered events/s (left axis) with published/s — or open
 * connections when nothing was published — on the right axis; bottom panel,
 * delivery latency p50 and p99 in ms, with the hub's RSS on the right axis.
 */
import type { TimelinePoint } from './timeline.ts';

const W = 960;
const H = 600;
const L = 80;
const R = 80;
const PANEL_H = 200;
const TOP1 = 70;
const TOP2 = TOP1 + PANEL_H + 80;

/** A round axis maximum (1, 2 or 5 × 10^k) at or above v. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Escapes text for SVG. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(2)}`;
}

interface Series { values: number[]; color: string; label: string; right?: boolean; dashed?: boolean }

function panel(top: number, title: string, series: Series[], n: number, leftUnit: string, rightUnit: string): string {
  const w = W - L - R;
  const leftMax = niceMax(Math.max(0, ...series.filter((s) => !s.right).flatMap((s) => s.values)));
  const rightMax = niceMax(Math.max(0, ...series.filter((s) => s.right).flatMap((s) => s.values)));
  const hasRight = series.some((s) => s.right);
  const x = (i: number) => L + (n <= 1 ? w / 2 : (i / (n - 1)) * w);
  const out: string[] = [`<text x="${L}" y="${top - 12}" class="title">${esc(title)}</text>`];
  out.push(`<rect x="${L}" y="${top}" width="${w}" height="${PANEL_H}" class="frame"/>`);
  for (let k = 0; k <= 4; k++) {
    const y = top + PANEL_H - (k / 4) * PANEL_H;
    out.push(`<line x1="${L}" y1="${y}" x2="${L + w}" y2="${y}" class="grid"/>`);
    out.push(`<text x="${L - 6}" y="${y + 4}" class="tick" text-anchor="end">${fmt((leftMax * k) / 4)}</text>`);
    if (hasRight) out.push(`<text x="${L + w + 6}" y="${y + 4}" class="tick">${fmt((rightMax * k) / 4)}</text>`);
  }
  const step = niceMax(Math.max(1, (n - 1) / 10));
  for (let i = 0; i <= Math.max(0, n - 1); i += step) {
    out.push(`<text x="${x(i)}" y="${top + PANEL_H + 16}" class="tick" text-anchor="middle">${i}s</text>`);
  }
  out.push(`<text x="${L - 60}" y="${top + PANEL_H / 2}" class="unit" transform="rotate(-90 ${L - 60} ${top + PANEL_H / 2})" text-anchor="middle">${esc(leftUnit)}</text>`);
  if (hasRight) out.push(`<text x="${L + w + 60}" y="${top + PANEL_H / 2}" class="unit" transform="rotate(90 ${L + w + 60} ${top + PANEL_H / 2})" text-anchor="middle">${esc(rightUnit)}</text>`);
  let lx = L + 10;
  for (const s of series) {
    const max = s.right ? rightMax : leftMax;
    const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${(top + PANEL_H - (Math.max(0, v) / max) * PANEL_H).toFixed(1)}`).join(' ');
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    if (n > 0) out.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<line x1="${lx}" y1="${top + 12}" x2="${lx + 18}" y2="${top + 12}" stroke="${s.color}" stroke-width="3"${dash}/>`);
    out.push(`<text x="${lx + 22}" y="${top + 16}" class="legend">${esc(s.label)}</text>`);
    lx += 30 + s.label.length * 7;
  }
  return out.join('\n');
}

/**
 * The chart of `points`, titled `title`, with a one-line `subtitle`. The top
 * panel's right axis shows published/s, or open connections when `right` is
 * 'connected' or nothing was published.
 */
export function renderChart(points: readonly TimelinePoint[], title: string, subtitle: string, right: 'published' | 'connected' = 'published'): string {
  const n = points.length;
  const published = points.map((p) => p.published);
  const anyPublished = right === 'published' && published.some((v) => v > 0);
  const top: Series[] = [
    { values: points.map((p) => p.delivered), color: '#1f77b4', label: 'delivered events/s' },
    anyPublished
      ? { values: published, color: '#ff7f0e', label: 'published/s (right)', right: true, dashed: true }
      : { values: points.map((p) => p.connected), color: '#2ca02c', label: 'open connections (right)', right: true },
  ];
  const bottom: Series[] = [
    { values: points.map((p) => p.p50Ms), color: '#2ca02c', label: 'p50 ms' },
    { values: points.map((p) => p.p99Ms), color: '#d62728', label: 'p99 ms' },
  ];
  if (points.some((p) => p.hubRssBytes !== undefined)) {
    let last = 0;
    bottom.push({ values: points.map((p) => (last = p.hubRssBytes ?? last) / 2 ** 20), color: '#7f7f7f', label: 'hub RSS MiB (right)', right: true, dashed: true });
  }
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<style>
.title{font-size:14px;font-weight:bold} .tick{font-size:11px;fill:#444} .unit{font-size:12px;fill:#222}
.legend{font-size:12px;fill:#222} .grid{stroke:#e5e5e5} .frame{fill:none;stroke:#999}
</style>
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${L}" y="24" font-size="17" font-weight="bold">${esc(title)}</text>
<text x="${L}" y="44" font-size="12" fill="#444">${esc(subtitle)}</text>
${panel(TOP1 + 20, 'Throughput per second', top, n, 'events/s', anyPublished ? 'published/s' : 'connections')}
${panel(TOP2, 'Delivery latency per second', bottom, n, 'ms', 'MiB')}
</svg>
`;
}
