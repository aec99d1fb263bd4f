/**
 * Bench reports: one JSON document and one Markdown page per run, kept under bench/results/ with the
 * date in the name so progress stays visible over time, plus bench/results/latest.json (the last run).
 *
 *   <dir>/latest.json
 *   <dir>/<YYYY-MM-DD>-<HHMM>-<name>.json
 *   <dir>/<YYYY-MM-DD>-<HHMM>-<name>.md
 *
 * Dates in file names are UTC. The headline fields keep the snake_case names issue 3 asks for
 * (throughput_rps, pg_rps, ch_rps, p50_ms, p95_ms, p99_ms, ceiling_rps, ratio, rss_mb).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'

export interface MachineInfo {
  cores: number
  cpu_model: string
  memory_mb: number
  free_memory_mb: number
  node_version: string
  platform: string
  kernel: string
}

export function machineInfo(): MachineInfo {
  const list = os.cpus()
  return {
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : list.length,
    cpu_model: list[0]?.model?.trim() ?? 'unknown',
    memory_mb: Math.round(os.totalmem() / 1048576),
    free_memory_mb: Math.round(os.freemem() / 1048576),
    node_version: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
  }
}

export interface StoreLatency {
  count: number
  p50_ms: number
  p95_ms: number
  p99_ms: number
  max_ms: number
  /** 'exact' or 'histogram' with its relative error (see percentiles.ts) */
  mode?: string
}

export interface ProcessFigures {
  rss_mb_max: number
  rss_mb_last?: number
  cpu_pct_mean: number
}

export interface SeriesPoint {
  /** seconds since the start of the run */
  t_s: number
  sent_rps?: number
  accepted_rps?: number
  pg_rps?: number
  ch_rps?: number
  p99_ms?: number
  rss_mb?: number
}

export interface BenchReport {
  /** headline figures (issue 3) */
  throughput_rps: number
  pg_rps: number
  ch_rps: number
  p50_ms: number
  p95_ms: number
  p99_ms: number
  ceiling_rps: number
  /** throughput_rps / ceiling_rps */
  ratio: number
  /** processor RSS at its peak (MB) */
  rss_mb: number
  /** the run's options as parsed (bench/lib/options.ts config) */
  options: Record<string, unknown>
  /** filled by writeReport when absent */
  machine?: MachineInfo
  /** ISO time of the run's start (default: now) */
  started_at?: string
  duration_s?: number
  /** per store send → queryable latency */
  latency?: Record<string, StoreLatency>
  /** counts of items sent, expected and observed outcomes, rejections by code */
  counts?: Record<string, number>
  rejected_by_code?: Record<string, number>
  processes?: Record<string, ProcessFigures>
  /** the ceiling measurement detail (bench/ceiling.ts) */
  ceiling?: unknown
  series?: SeriesPoint[]
  /** what changed since the previous report and what it gained (issue 3: record what each change gained) */
  notes?: string[]
  /** CPU by process group per window (load, load + drain): bench/lib/cpu-groups.ts */
  cpu_by_group?: Record<string, CpuWindow>
  /** relative path of a PNG plot beside the report, when one was drawn */
  plot?: string
  [extra: string]: unknown
}

/** One window of bench/lib/cpu-groups.ts figures, as the report holds them. */
export interface CpuWindow {
  window: string
  seconds: number
  committed_results: number
  groups: { group: string; cpu_s: number; cpu_pct: number; us_per_result: number | null }[]
}

export interface WriteReportOptions {
  /** directory (default bench/results) */
  dir?: string
  /** report name (default: report.options.name or 'bench') */
  name?: string
  /** time used in the file names (default now) */
  at?: Date
}

export interface WrittenReport {
  jsonPath: string
  mdPath: string
  latestPath: string
  /** the file name stem <YYYY-MM-DD>-<HHMM>-<name> */
  stem: string
  report: BenchReport
}

const pad2 = (n: number): string => String(n).padStart(2, '0')

/** <YYYY-MM-DD>-<HHMM>-<name> in UTC */
export function reportStem(at: Date, name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 64) || 'bench'
  return `${at.getUTCFullYear()}-${pad2(at.getUTCMonth() + 1)}-${pad2(at.getUTCDate())}-${pad2(at.getUTCHours())}${pad2(at.getUTCMinutes())}-${safe}`
}

/** JSON has no NaN/Infinity: a figure that could not be measured is written as null. */
function finiteOrNull(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, text)
  await rename(tmp, path)
}

export async function writeReport(input: BenchReport, options: WriteReportOptions = {}): Promise<WrittenReport> {
  const at = options.at ?? new Date()
  const report: BenchReport = {
    ...input,
    machine: input.machine ?? machineInfo(),
    started_at: input.started_at ?? at.toISOString(),
  }
  const dir = options.dir ?? 'bench/results'
  const name = options.name ?? (typeof report.options.name === 'string' ? report.options.name : 'bench')
  const stem = reportStem(at, name)
  await mkdir(dir, { recursive: true })
  const json = JSON.stringify(report, finiteOrNull, 2) + '\n'
  const jsonPath = join(dir, `${stem}.json`)
  const mdPath = join(dir, `${stem}.md`)
  const latestPath = join(dir, 'latest.json')
  await writeAtomic(jsonPath, json)
  await writeAtomic(mdPath, renderMarkdown(report, stem))
  await writeAtomic(latestPath, json)
  return { jsonPath, mdPath, latestPath, stem, report }
}

function fmt(v: unknown, digits = 0): string {
  if (typeof v !== 'number') return v === undefined || v === null ? '–' : String(v)
  if (!Number.isFinite(v)) return '–'
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

function table(header: string[], rows: string[][]): string {
  const esc = (c: string): string => c.replace(/\|/g, '\\|')
  return [`| ${header.map(esc).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n')
}

export function renderMarkdown(r: BenchReport, title = 'bench'): string {
  const out: string[] = []
  out.push(`# Bench report ${title}`, '')
  out.push(`Started ${r.started_at ?? '–'}${r.duration_s !== undefined ? `, ${fmt(r.duration_s, 1)} s` : ''}.`, '')
  out.push('## Headline', '')
  out.push(
    table(
      ['figure', 'value'],
      [
        ['accepted at ingest (results/s)', fmt(r.throughput_rps)],
        ['committed in PostgreSQL (results/s)', fmt(r.pg_rps)],
        ['committed in ClickHouse (results/s)', fmt(r.ch_rps)],
        ['latency p50 / p95 / p99 (ms)', `${fmt(r.p50_ms)} / ${fmt(r.p95_ms)} / ${fmt(r.p99_ms)}`],
        ['JetStream ceiling (results/s)', fmt(r.ceiling_rps)],
        ['ratio to ceiling', fmt(r.ratio, 3)],
        ['processor RSS peak (MB)', fmt(r.rss_mb)],
      ],
    ),
    '',
  )
  if (r.latency && Object.keys(r.latency).length > 0) {
    out.push('## Send → queryable latency by store', '')
    out.push(
      table(
        ['store', 'count', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'mode'],
        Object.entries(r.latency).map(([k, l]) => [k, fmt(l.count), fmt(l.p50_ms), fmt(l.p95_ms), fmt(l.p99_ms), fmt(l.max_ms), l.mode ?? '']),
      ),
      '',
    )
  }
  if (r.counts && Object.keys(r.counts).length > 0) {
    out.push('## Counts', '', table(['what', 'count'], Object.entries(r.counts).map(([k, v]) => [k, fmt(v)])), '')
  }
  if (r.rejected_by_code && Object.keys(r.rejected_by_code).length > 0) {
    out.push('## Rejected by code', '', table(['code', 'count'], Object.entries(r.rejected_by_code).map(([k, v]) => [k, fmt(v)])), '')
  }
  if (r.processes && Object.keys(r.processes).length > 0) {
    out.push('## Processes', '')
    out.push(
      table(
        ['process', 'RSS peak MB', 'RSS last MB', 'CPU mean %'],
        Object.entries(r.processes).map(([k, p]) => [k, fmt(p.rss_mb_max), fmt(p.rss_mb_last), fmt(p.cpu_pct_mean, 1)]),
      ),
      '',
    )
  }
  const cpu = r.cpu_by_group as Record<string, CpuWindow> | undefined
  if (cpu && Object.keys(cpu).length > 0) {
    out.push('## CPU by process group', '')
    for (const w of Object.values(cpu)) {
      out.push(`${w.window}: ${fmt(w.seconds, 1)} s, ${fmt(w.committed_results)} results queryable in both stores. 100 % = one core.`, '')
      out.push(table(['group', 'CPU s', '% of a core', 'CPU µs per result'], w.groups.map((g) => [g.group, fmt(g.cpu_s, 2), fmt(g.cpu_pct, 1), fmt(g.us_per_result)])), '')
    }
  }
  if (r.driver && typeof r.driver === 'object') {
    out.push('## Bench driver', '', table(['figure', 'value'], Object.entries(r.driver as Record<string, unknown>).map(([k, v]) => [k, fmt(v, typeof v === 'number' && !Number.isInteger(v) ? 2 : 0)])), '')
  }
  if (r.ceiling !== undefined) {
    out.push('## Ceiling (raw JetStream, no processing)', '', '```json', JSON.stringify(r.ceiling, finiteOrNull, 2), '```', '')
  }
  if (r.plot) out.push('## Over time', '', `![throughput and latency](${r.plot})`, '')
  if (r.notes && r.notes.length > 0) out.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '')
  out.push('## Options', '', table(['option', 'value'], Object.entries(r.options).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)])), '')
  if (r.machine) {
    const m = r.machine
    out.push('## Machine', '', table(['item', 'value'], [
      ['cores', fmt(m.cores)],
      ['CPU', m.cpu_model],
      ['memory (MB)', fmt(m.memory_mb)],
      ['Node.js', m.node_version],
      ['platform', `${m.platform}, kernel ${m.kernel}`],
    ]), '')
  }
  return out.join('\n')
}
