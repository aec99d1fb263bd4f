/**
 * A PNG plot of a run: throughput (results/s: sent, accepted, PostgreSQL, ClickHouse) on top and
 * latency (p99 ms) below, over time. Drawn as plain SVG here, rasterised by @resvg/resvg-js (resvg in
 * Rust through N-API; prebuilt binaries come as npm optional dependencies, no install-time download).
 * The package is loaded lazily: where it is missing, writePlotPng() returns null and the report simply
 * has no picture.
 */
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import type { SeriesPoint } from './report.ts'

const W = 960
const H = 620
const M = { left: 80, right: 170, top: 50, bottom: 40 }
const PANEL_GAP = 60

interface Line {
  key: keyof SeriesPoint
  label: string
  color: string
}

const THROUGHPUT: Line[] = [
  { key: 'sent_rps', label: 'sent', color: '#9e9e9e' },
  { key: 'accepted_rps', label: 'accepted', color: '#1565c0' },
  { key: 'pg_rps', label: 'PostgreSQL', color: '#2e7d32' },
  { key: 'ch_rps', label: 'ClickHouse', color: '#ef6c00' },
]
const LATENCY: Line[] = [{ key: 'p99_ms', label: 'p99 latency', color: '#c62828' }]

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** A "nice" axis maximum: 1, 2 or 5 × 10^k at or above v. */
export function niceMax(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1
  const p = Math.pow(10, Math.floor(Math.log10(v)))
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

function panel(series: SeriesPoint[], lines: Line[], top: number, height: number, unit: string, tMax: number): string {
  const plotW = W - M.left - M.right
  const present = lines.filter((l) => series.some((p) => typeof p[l.key] === 'number' && Number.isFinite(p[l.key] as number)))
  let yMax = 0
  for (const l of present) for (const p of series) yMax = Math.max(yMax, (p[l.key] as number | undefined) ?? 0)
  yMax = niceMax(yMax)
  const x = (t: number): number => M.left + (tMax > 0 ? (t / tMax) * plotW : 0)
  const y = (v: number): number => top + height - (v / yMax) * height
  const out: string[] = []
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4
    const yy = y(v).toFixed(1)
    out.push(`<line x1="${M.left}" y1="${yy}" x2="${M.left + plotW}" y2="${yy}" stroke="#e0e0e0"/>`)
    out.push(`<text x="${M.left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle" font-size="12">${esc(v.toLocaleString('en-US'))}</text>`)
  }
  out.push(`<text x="16" y="${top + height / 2}" font-size="13" transform="rotate(-90 16 ${top + height / 2})" text-anchor="middle">${esc(unit)}</text>`)
  out.push(`<rect x="${M.left}" y="${top}" width="${plotW}" height="${height}" fill="none" stroke="#757575"/>`)
  present.forEach((l, i) => {
    const pts = series
      .filter((p) => typeof p[l.key] === 'number' && Number.isFinite(p[l.key] as number))
      .map((p) => `${x(p.t_s).toFixed(1)},${y(p[l.key] as number).toFixed(1)}`)
      .join(' ')
    out.push(`<polyline points="${pts}" fill="none" stroke="${l.color}" stroke-width="2"/>`)
    const ly = top + 14 + i * 20
    out.push(`<line x1="${W - M.right + 16}" y1="${ly}" x2="${W - M.right + 40}" y2="${ly}" stroke="${l.color}" stroke-width="3"/>`)
    out.push(`<text x="${W - M.right + 46}" y="${ly}" dominant-baseline="middle" font-size="13">${esc(l.label)}</text>`)
  })
  return out.join('\n')
}

/** The SVG text of the plot (also usable on its own). */
export function plotSvg(series: readonly SeriesPoint[], title = 'bench run'): string {
  const pts = [...series].sort((a, b) => a.t_s - b.t_s)
  const tMax = pts.length > 0 ? pts[pts.length - 1].t_s : 0
  const panelH = (H - M.top - M.bottom - PANEL_GAP) / 2
  const plotW = W - M.left - M.right
  const ticks: string[] = []
  const step = niceMax(tMax / 6 || 1)
  for (let t = 0; t <= tMax + 1e-9 && step > 0; t += step) {
    const xx = (M.left + (tMax > 0 ? (t / tMax) * plotW : 0)).toFixed(1)
    ticks.push(`<text x="${xx}" y="${H - M.bottom + 18}" text-anchor="middle" font-size="12">${t.toLocaleString('en-US')}</text>`)
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="28" font-size="17" font-weight="bold">${esc(title)}</text>`,
    panel(pts, THROUGHPUT, M.top, panelH, 'results/s', tMax),
    panel(pts, LATENCY, M.top + panelH + PANEL_GAP, panelH, 'ms', tMax),
    ...ticks,
    `<text x="${M.left + plotW / 2}" y="${H - 6}" text-anchor="middle" font-size="12">seconds since start</text>`,
    '</svg>',
  ].join('\n')
}

const FONT_FILES = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf']

/** Renders the plot to a PNG file; null (and no file) when @resvg/resvg-js is not installed. */
export async function writePlotPng(series: readonly SeriesPoint[], path: string, title?: string): Promise<string | null> {
  let Resvg: typeof import('@resvg/resvg-js').Resvg
  try {
    ;({ Resvg } = await import('@resvg/resvg-js'))
  } catch {
    return null
  }
  const fontFiles = FONT_FILES.filter((f) => existsSync(f))
  const png = new Resvg(plotSvg(series, title), {
    background: '#ffffff',
    font: { loadSystemFonts: fontFiles.length === 0, fontFiles, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng()
  await writeFile(path, png)
  return path
}
