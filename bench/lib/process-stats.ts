/**
 * Memory and CPU of processes (and of the whole machine) from Linux procfs, sampled over time.
 *
 * - RSS: `VmRSS` in /proc/<pid>/status (kB), peak `VmHWM` (proc(5)).
 * - CPU: utime + stime (fields 14 and 15 of /proc/<pid>/stat, in clock ticks) differenced between
 *   samples and divided by wall time: 100 % = one core busy, so a multi-threaded process can exceed 100.
 *   The comm field (2) may hold spaces and parentheses, so fields are counted after the last ')'.
 * - Machine: the 'cpu' line of /proc/stat (busy = all but idle and iowait).
 * Clock ticks per second come from `getconf CLK_TCK` (100 on Linux in practice, the fallback).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

let clkTck: number | undefined
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim())
      clkTck = Number.isInteger(v) && v > 0 ? v : 100
    } catch {
      clkTck = 100
    }
  }
  return clkTck
}

export interface ProcMemory {
  rssMb: number
  peakRssMb: number
}

/** RSS of a pid, or null when the process is gone (or not readable). */
export function readMemory(pid: number): ProcMemory | null {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return null
  }
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text)
    return m ? Number(m[1]) : 0
  }
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 }
}

export interface StatFields {
  pid: number
  comm: string
  ppid: number
  /** utime + stime in clock ticks */
  ticks: number
  /** start time in clock ticks after boot (field 22) */
  start: number
}

/** Parses one /proc/<pid>/stat (or task stat) line, or null when it is not one. */
export function parseStat(text: string): StatFields | null {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open < 0 || close < open) return null
  const rest = text.slice(close + 2).split(' ')
  // rest[0] is field 3 (state): ppid field 4 → rest[1], utime 14 → rest[11], stime 15 → rest[12], starttime 22 → rest[19]
  const pid = Number(text.slice(0, open).trim())
  const ppid = Number(rest[1])
  const ticks = Number(rest[11]) + Number(rest[12])
  const start = Number(rest[19])
  if (!Number.isInteger(pid) || !Number.isFinite(ticks) || !Number.isFinite(start)) return null
  return { pid, comm: text.slice(open + 1, close), ppid, ticks, start }
}

/** utime + stime of a pid in seconds, or null when gone. */
export function readCpuSeconds(pid: number): number | null {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  const st = parseStat(text)
  return st ? st.ticks / clockTicksPerSecond() : null
}

/** Machine-wide CPU jiffies: busy and total. */
export function readSystemCpu(): { busy: number; total: number } | null {
  let text: string
  try {
    text = readFileSync('/proc/stat', 'utf8')
  } catch {
    return null
  }
  const line = text.slice(0, text.indexOf('\n'))
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
  const total = v.slice(0, 8).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0)
  const idle = (v[3] ?? 0) + (v[4] ?? 0)
  return { busy: total - idle, total }
}

export interface ProcessSample {
  /** seconds since the sampler started */
  t: number
  rssMb: number
  /** CPU % since the previous sample (100 = one core) */
  cpuPct: number
}

export interface ProcessSummary {
  pid: number
  samples: ProcessSample[]
  rssMbMax: number
  rssMbFirst: number
  rssMbLast: number
  cpuPctMean: number
  /** true if the process disappeared during sampling */
  gone: boolean
}

export interface SamplerSummary {
  processes: Record<string, ProcessSummary>
  /** machine-wide CPU busy % (100 = every core busy) per sample, and its mean */
  system: { samples: { t: number; busyPct: number }[]; busyPctMean: number }
}

interface Tracked {
  pid: number
  lastCpu: number | null
  lastT: number
  firstCpu: number | null
  firstT: number
  summary: ProcessSummary
}

/**
 * Samples named pids every `intervalMs` (default 1000). Call start(), then stop() to get the summary.
 * Sampling costs two small procfs reads per pid per tick: negligible next to the platform.
 */
export class ProcessSampler {
  private readonly tracked = new Map<string, Tracked>()
  private timer: NodeJS.Timeout | undefined
  private t0 = 0
  private sys: { busy: number; total: number } | null = null
  private readonly systemSamples: { t: number; busyPct: number }[] = []
  private sysFirst: { busy: number; total: number } | null = null

  constructor(
    pids: Record<string, number>,
    private readonly intervalMs = 1000,
  ) {
    for (const [name, pid] of Object.entries(pids)) {
      if (!Number.isInteger(pid) || pid <= 0) throw new RangeError(`pid of ${name} must be a positive integer, got ${pid}`)
      this.tracked.set(name, {
        pid,
        lastCpu: null,
        lastT: 0,
        firstCpu: null,
        firstT: 0,
        summary: { pid, samples: [], rssMbMax: 0, rssMbFirst: Number.NaN, rssMbLast: Number.NaN, cpuPctMean: Number.NaN, gone: false },
      })
    }
  }

  start(): this {
    this.t0 = performance.now()
    this.sample()
    this.timer = setInterval(() => this.sample(), this.intervalMs)
    this.timer.unref()
    return this
  }

  /** Takes one sample now (start() and the timer call it; tests may too). */
  sample(): void {
    const now = performance.now()
    const t = (now - this.t0) / 1000
    for (const tr of this.tracked.values()) {
      if (tr.summary.gone) continue
      const mem = readMemory(tr.pid)
      const cpu = readCpuSeconds(tr.pid)
      if (mem === null || cpu === null) {
        tr.summary.gone = true
        continue
      }
      const s = tr.summary
      const cpuPct = tr.lastCpu === null || now <= tr.lastT ? 0 : ((cpu - tr.lastCpu) * 100_000) / (now - tr.lastT)
      if (tr.firstCpu === null) {
        tr.firstCpu = cpu
        tr.firstT = now
      } else {
        s.cpuPctMean = now > tr.firstT ? ((cpu - tr.firstCpu) * 100_000) / (now - tr.firstT) : 0
      }
      tr.lastCpu = cpu
      tr.lastT = now
      s.samples.push({ t, rssMb: mem.rssMb, cpuPct })
      if (Number.isNaN(s.rssMbFirst)) s.rssMbFirst = mem.rssMb
      s.rssMbLast = mem.rssMb
      if (mem.rssMb > s.rssMbMax) s.rssMbMax = mem.rssMb
    }
    const sys = readSystemCpu()
    if (sys) {
      if (this.sys && sys.total > this.sys.total) {
        this.systemSamples.push({ t, busyPct: ((sys.busy - this.sys.busy) * 100) / (sys.total - this.sys.total) })
      }
      if (!this.sysFirst) this.sysFirst = sys
      this.sys = sys
    }
  }

  stop(): SamplerSummary {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.sample()
    const processes: Record<string, ProcessSummary> = {}
    for (const [name, tr] of this.tracked) processes[name] = tr.summary
    const first = this.sysFirst
    const last = this.sys
    const busyPctMean = first && last && last.total > first.total ? ((last.busy - first.busy) * 100) / (last.total - first.total) : Number.NaN
    return { processes, system: { samples: this.systemSamples, busyPctMean } }
  }
}
