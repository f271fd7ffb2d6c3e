// p99 latency against offered load for each server: an SVG drawn here, screenshotted to PNG by Chromium.
import { chromium } from 'playwright-core';
import { median } from './summary';
import type { RampResult } from './scenarios';
import type { RunKind } from './servers';

export interface Point {
  offered: number;
  p99: number;
  pass: boolean;
}

/** Per offered step, the median over the rounds that reached it. */
export function rampCurve(runs: RampResult[], rates: number[]): Point[] {
  return rates.flatMap((rate) => {
    const steps = runs.flatMap((run) => run.steps.filter((s) => s.rate === rate));
    if (steps.length === 0) return [];
    return [{ offered: median(steps.map((s) => s.offered)), p99: median(steps.map((s) => s.report.latency.p99)), pass: steps.filter((s) => s.pass).length * 2 > steps.length }];
  });
}

const W = 960;
const H = 560;
const M = { left: 80, right: 30, top: 60, bottom: 70 };
const COLORS: Record<RunKind, string> = { product: '#d9480f', jwt: '#ae3ec9', previous: '#868e96', baseline: '#1c7ed6' };
const LABELS: Record<RunKind, string> = { product: 'product (NestJS)', jwt: 'product, jwt mode', previous: 'previous build (--previous)', baseline: 'baseline (raw ws)' };
/** Drawn in this order, so the product's curve is on top; a server that did not run has no curve. */
const DRAW_ORDER: readonly RunKind[] = ['baseline', 'previous', 'product'];

/** Each server's curve; `previous` only when an earlier build ran. */
export type Curves = Partial<Record<RunKind, Point[]>>;

function axes(maxX: number, yMin: number, yMax: number) {
  const x = (v: number) => M.left + (v / maxX) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - ((Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (H - M.top - M.bottom);
  return { x, y };
}

export function chartSvg(curves: Curves, limitMs: number, title: string): string {
  const kinds = DRAW_ORDER.filter((kind) => (curves[kind]?.length ?? 0) > 0);
  const all = kinds.flatMap((kind) => curves[kind] ?? []);
  const maxX = Math.max(10_000, ...all.map((p) => p.offered)) * 1.05;
  const yMin = 0.5;
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(limitMs * 2, ...all.map((p) => p.p99))));
  const { x, y } = axes(maxX, yMin, yMax);
  const parts: string[] = [];
  const xStep = maxX > 200_000 ? 50_000 : maxX > 60_000 ? 20_000 : maxX > 20_000 ? 5000 : 2000;
  for (let v = 0; v <= maxX; v += xStep) {
    parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${M.top}" y2="${H - M.bottom}" class="grid"/>`, `<text x="${x(v)}" y="${H - M.bottom + 20}" text-anchor="middle">${v / 1000}k</text>`);
  }
  for (let decade = yMin < 1 ? 1 : yMin; decade <= yMax; decade *= 10) {
    for (const m of [1, 2, 5]) {
      const v = decade * m;
      if (v > yMax) break;
      parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" class="grid"/>`, `<text x="${M.left - 8}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
    }
  }
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(limitMs)}" y2="${y(limitMs)}" class="limit"/>`, `<text x="${M.left + 8}" y="${y(limitMs) - 6}" class="limit-label">p99 limit ${limitMs} ms</text>`);
  kinds.forEach((kind, i) => {
    const points = curves[kind] ?? [];
    const color = COLORS[kind];
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2.5" points="${points.map((p) => `${x(p.offered)},${y(p.p99)}`).join(' ')}"/>`);
    for (const p of points) parts.push(`<circle cx="${x(p.offered)}" cy="${y(p.p99)}" r="5" stroke="${color}" stroke-width="2" fill="${p.pass ? color : 'white'}"/>`);
    parts.push(`<rect x="${M.left + 20}" y="${M.top + 14 + i * 22}" width="18" height="4" fill="${color}"/>`, `<text x="${M.left + 46}" y="${M.top + 20 + i * 22}">${LABELS[kind]}</text>`);
  });
  parts.push(`<text x="${M.left + 20}" y="${M.top + 20 + kinds.length * 22}" class="note">filled: step passed (p99 within limit, nothing lost); hollow: missed</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<style>text{font:13px sans-serif;fill:#333}.grid{stroke:#e5e5e5}.limit{stroke:#c92a2a;stroke-dasharray:6 4}.limit-label{fill:#c92a2a}.title{font-size:16px;font-weight:bold}.note{fill:#666;font-size:12px}</style>
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="30" text-anchor="middle" class="title">${title}</text>
<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>
<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/>
${parts.join('\n')}
<text x="${(W + M.left) / 2}" y="${H - 20}" text-anchor="middle">offered load, deliveries/s (messages/s × clients)</text>
<text transform="translate(22 ${(H + M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle">p99 delivery latency, ms (log scale)</text>
</svg>`;
}

/** Renders the SVG in headless Chromium and saves a PNG of it. */
export async function renderPng(svg: string, path: string): Promise<void> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: W, height: H } });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    await page.locator('svg').screenshot({ path });
  } finally {
    await browser.close();
  }
}
