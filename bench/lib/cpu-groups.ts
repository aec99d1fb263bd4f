/**
 * Where the CPU goes during a run: CPU time by process group (the platform child and each of its threads,
 * PostgreSQL backends, clickhouse-server, nats-server, the bench driver and the npm/tsx wrappers that
 * started it, everything else on the machine), so capacity engineers see the cost of a result per
 * component and not only the platform's share.
 *
 * Source: utime + stime of every /proc/<pid>/stat and of /proc/<platform>/task/<tid>/stat (proc(5),
 * fields 14 and 15, after the last ')' because comm may hold spaces and parentheses). Processes come and
 * go (PostgreSQL backends, short jobs of other engineers): the machine is scanned every `intervalMs` and
 * the last value seen of each process is kept, so one that exits loses at most one interval of its time.
 * A process absent from a mark's scan started after it: its whole CPU time counts. Processes are keyed
 * by pid and start time (field 22), so a reused pid is a new process.
 *
 * Grouping is pure (groupOf, windowFigures) and unit-tested; the scanning is the thin I/O around it.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { clockTicksPerSecond, parseStat } from './process-stats.ts'

export { parseStat, type StatFields } from './process-stats.ts'

export interface GroupRoots {
  platform: number
  driver: number
  /** pids of the processes that started the driver (npm exec, tsx's cli, sh) */
  wrappers: ReadonlySet<number>
  /** the PostgreSQL database of the bench: backends connected to it are told apart from the others */
  pgDatabase: string
}

/**
 * The group of a process. PostgreSQL backends name their database in their title
 * ("postgres: 15/main: root sidep_bench 127.0.0.1(5432) idle"), background processes ("walwriter",
 * "autovacuum worker", "checkpointer") serve every database.
 */
export function groupOf(p: { pid: number; comm: string; cmdline: string }, roots: GroupRoots): string {
  if (p.pid === roots.platform) return 'platform'
  if (p.pid === roots.driver) return 'bench driver'
  if (roots.wrappers.has(p.pid)) return 'bench wrappers (npm/tsx)'
  if (p.comm === 'postgres' || p.cmdline.startsWith('postgres:')) {
    if (!p.cmdline.startsWith('postgres:')) return 'postgres (background)'
    const words = p.cmdline.split(/\s+/)
    // postgres: <cluster>: <user> <database> <host(port)> <state>
    return words[3] === roots.pgDatabase ? 'postgres (bench database)' : words.length >= 5 && /\(\d+\)$/.test(words[4] ?? '') ? 'postgres (other databases)' : 'postgres (background)'
  }
  if (p.comm.startsWith('clickhouse')) return 'clickhouse-server'
  if (p.comm === 'nats-server') return 'nats-server'
  return 'other processes'
}

/** Platform thread group: the main thread, then by thread name (libuv-worker, V8 DefaultWorke, worker threads...). */
export function threadGroupOf(tid: number, pid: number, comm: string): string {
  return tid === pid ? 'platform thread: main' : `platform thread: ${comm}`
}

/** Cumulative ticks per process key, and each key's group. */
export interface Scan {
  /** ms (performance.now) of the scan */
  at: number
  ticks: Map<string, number>
}

export interface GroupFigure {
  group: string
  cpu_s: number
  /** 100 = one core busy for the whole window */
  cpu_pct: number
  /** CPU microseconds per result committed in the window (null when none committed) */
  us_per_result: number | null
}

export interface WindowFigures {
  window: string
  seconds: number
  committed_results: number
  groups: GroupFigure[]
}

/**
 * CPU by group between two scans: per process, the later value minus the earlier one (0 when the
 * process is absent from the earlier scan: it started after it). Groups sorted by CPU, threads after.
 */
export function windowFigures(window: string, from: Scan, to: Scan, groupOfKey: ReadonlyMap<string, string>, ticksPerSecond: number, committed: number): WindowFigures {
  const seconds = (to.at - from.at) / 1000
  const sums = new Map<string, number>()
  for (const [key, t] of to.ticks) {
    const d = t - (from.ticks.get(key) ?? 0)
    if (d <= 0) continue
    const g = groupOfKey.get(key) ?? 'other processes'
    sums.set(g, (sums.get(g) ?? 0) + d)
  }
  const groups: GroupFigure[] = []
  for (const [group, ticks] of sums) {
    const cpu = ticks / ticksPerSecond
    groups.push({
      group,
      cpu_s: Math.round(cpu * 100) / 100,
      cpu_pct: seconds > 0 ? Math.round((cpu * 1000) / seconds) / 10 : 0,
      us_per_result: committed > 0 ? Math.round((cpu * 1e6) / committed) : null,
    })
  }
  const thread = (g: string): number => (g.startsWith('platform thread:') ? 1 : 0)
  groups.sort((a, b) => thread(a.group) - thread(b.group) || b.cpu_s - a.cpu_s)
  return { window, seconds: Math.round(seconds * 10) / 10, committed_results: committed, groups }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/** The chain of parents of `pid` that are wrappers of the driver (npm exec, npx, tsx's cli, the sh npm runs). */
export function wrapperPids(pid: number): Set<number> {
  const out = new Set<number>()
  let p = pid
  for (let depth = 0; depth < 8; depth++) {
    const st = parseStat(readText(`/proc/${p}/stat`) ?? '')
    if (!st || st.ppid <= 1) break
    const parent = parseStat(readText(`/proc/${st.ppid}/stat`) ?? '')
    if (!parent) break
    const cmd = (readText(`/proc/${st.ppid}/cmdline`) ?? '').replace(/\0/g, ' ')
    if (!/^(npm|npx|node|sh|tsx)/.test(parent.comm) || !/npm|npx|tsx|bench/.test(cmd)) break
    out.add(st.ppid)
    p = st.ppid
  }
  return out
}

/** Scans the machine every `intervalMs` and keeps marks; figures between marks come from windowFigures. */
export class CpuGroupSampler {
  private readonly latest = new Map<string, number>()
  private readonly groups = new Map<string, string>()
  private readonly marks = new Map<string, Scan>()
  private readonly assigned = new Map<number, string>()
  private timer: NodeJS.Timeout | undefined
  readonly ticksPerSecond = clockTicksPerSecond()

  constructor(private readonly roots: GroupRoots, private readonly intervalMs = 2000) {}

  start(): this {
    this.scan()
    this.timer = setInterval(() => this.scan(), this.intervalMs)
    this.timer.unref()
    return this
  }

  /** Scans now and remembers the state under `name`. */
  mark(name: string): void {
    this.marks.set(name, { at: performance.now(), ticks: this.scan() })
  }

  /** Puts every process with this pid (seen so far or later) in `group`: e.g. the driver's own PostgreSQL backends. */
  assign(pid: number, group: string): void {
    this.assigned.set(pid, group)
    for (const key of this.groups.keys()) if (key.startsWith(`${pid}@`)) this.groups.set(key, group)
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  figures(window: string, from: string, to: string, committed: number): WindowFigures | null {
    const a = this.marks.get(from)
    const b = this.marks.get(to)
    if (!a || !b) return null
    return windowFigures(window, a, b, this.groups, this.ticksPerSecond, committed)
  }

  /** One pass over /proc: every process, and every thread of the platform. Returns a copy of the latest values. */
  private scan(): Map<string, number> {
    let pids: string[]
    try {
      pids = readdirSync('/proc').filter((n) => n.charCodeAt(0) >= 48 && n.charCodeAt(0) <= 57)
    } catch {
      pids = []
    }
    for (const name of pids) {
      const st = parseStat(readText(`/proc/${name}/stat`) ?? '')
      if (!st) continue
      const key = `${st.pid}@${st.start}`
      if (!this.groups.has(key)) {
        const cmdline = (readText(`/proc/${name}/cmdline`) ?? '').replace(/\0/g, ' ').trim()
        this.groups.set(key, this.assigned.get(st.pid) ?? groupOf({ pid: st.pid, comm: st.comm, cmdline }, this.roots))
      }
      this.latest.set(key, st.ticks)
    }
    const plat = this.roots.platform
    let tids: string[] = []
    try {
      tids = readdirSync(`/proc/${plat}/task`)
    } catch {
      /* the platform is gone */
    }
    for (const tid of tids) {
      const st = parseStat(readText(`/proc/${plat}/task/${tid}/stat`) ?? '')
      if (!st) continue
      const key = `t${st.pid}@${st.start}`
      if (!this.groups.has(key)) this.groups.set(key, threadGroupOf(st.pid, plat, st.comm))
      this.latest.set(key, st.ticks)
    }
    return new Map(this.latest)
  }
}
