/**
 * The platform under test, as a child process with stores of its own: a PostgreSQL database, a
 * ClickHouse database, a subject root, a stream prefix and a data directory that belong to the bench
 * alone. They are dropped and recreated at the start of every run so runs are comparable (and left in
 * place at the end, for a look after the run).
 *
 * One child runs every role (gateway, processor, ClickHouse sink, worker threads): its pid is the one
 * whose RSS and CPU the bench samples.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { rmSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import pg from 'pg'
import { connect } from 'nats'
import { createClient } from '@clickhouse/client'
import { topology } from '../../pipeline/subjects.ts'
import { deleteStreams } from '../../pipeline/nats/streams.ts'
import { BenchError } from './errors.ts'

export interface BenchStores {
  /** PostgreSQL database name (plain identifier) */
  pgDatabase: string
  /** ClickHouse database name */
  chDatabase: string
  subjectRoot: string
  streamPrefix: string
  dataDir: string
  /** server URLs (defaults: the local services ops/bootstrap.sh starts) */
  pgServer?: string
  chUrl?: string
  natsUrl?: string
}

export const DEFAULT_PG_SERVER = 'postgres://root@127.0.0.1:5432'
export const DEFAULT_CH_URL = 'http://127.0.0.1:8123'

export function pgUrlOf(s: BenchStores): string {
  return `${s.pgServer ?? DEFAULT_PG_SERVER}/${s.pgDatabase}`
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** Drops the bench's stores so the platform recreates them empty. */
export async function resetStores(s: BenchStores): Promise<void> {
  for (const [what, name] of [['PostgreSQL database', s.pgDatabase], ['ClickHouse database', s.chDatabase]]) {
    if (!IDENT.test(name)) throw new BenchError('BENCH_STORES', `${what} name ${JSON.stringify(name)} is not a plain identifier`)
  }
  const admin = new pg.Client({ connectionString: `${s.pgServer ?? DEFAULT_PG_SERVER}/postgres` })
  await admin.connect()
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${s.pgDatabase}" WITH (FORCE)`)
  } finally {
    await admin.end()
  }
  const ch = createClient({ url: s.chUrl ?? DEFAULT_CH_URL })
  try {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${s.chDatabase}` })
  } finally {
    await ch.close()
  }
  const nc = await connect({ servers: s.natsUrl ?? '127.0.0.1:4222', name: 'sidep-bench-reset' })
  try {
    await deleteStreams(await nc.jetstreamManager(), topology({ subjectRoot: s.subjectRoot, streamPrefix: s.streamPrefix }))
  } finally {
    await nc.close()
  }
  rmSync(s.dataDir, { recursive: true, force: true })
  mkdirSync(s.dataDir, { recursive: true })
}

/** Drops everything (used by tests; a normal run leaves its stores for inspection). */
export async function dropStores(s: BenchStores): Promise<void> {
  await resetStores(s)
  rmSync(s.dataDir, { recursive: true, force: true })
}

export interface ChildPlatformOptions {
  stores: BenchStores
  /** extra SIDEP_* variables (processor batch, chunk size, worker threads...) */
  env?: Record<string, string>
  /** node flags for the child only, given on its command line (e.g. --cpu-prof --cpu-prof-dir=...: Node
   *  refuses --cpu-prof in NODE_OPTIONS) */
  nodeOptions?: string
  /** give up waiting for "sidep is running" after this long (default 60 s) */
  startTimeoutMs?: number
  /** lines of the child's output kept for error messages */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void
}

export interface ChildPlatform {
  pid: number
  /** http://127.0.0.1:<port> */
  url: string
  /** the SIDEP_* variables the child runs with */
  env: Record<string, string>
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the child is gone */
  stop(graceMs?: number): Promise<void>
  readonly exited: boolean
}

const BIN = fileURLToPath(new URL('../../bin/sidep.js', import.meta.url))
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Child processes still alive, killed on exit of the bench whatever the way out. */
const live = new Set<ChildProcess>()
let hooksInstalled = false
function installExitHooks(): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL')
  })
}

export function sidepEnv(s: BenchStores, extra: Record<string, string> = {}): Record<string, string> {
  for (const k of Object.keys(extra)) {
    if (!/^SIDEP_[A-Z_]+$/.test(k)) throw new BenchError('BENCH_STORES', `platform variable ${k} must be a SIDEP_* name`)
  }
  return {
    SIDEP_PG_URL: pgUrlOf(s),
    SIDEP_CH_URL: s.chUrl ?? DEFAULT_CH_URL,
    SIDEP_CH_DATABASE: s.chDatabase,
    SIDEP_NATS_URL: `nats://${(s.natsUrl ?? '127.0.0.1:4222').replace(/^nats:\/\//, '')}`,
    SIDEP_SUBJECT_ROOT: s.subjectRoot,
    SIDEP_STREAM_PREFIX: s.streamPrefix,
    SIDEP_DATA_DIR: s.dataDir,
    SIDEP_HTTP_PORT: '0',
    // a free port for the HL7 listener too: 2575 may belong to a platform already running here
    SIDEP_MLLP_PORT: '0',
    SIDEP_LOG_LEVEL: 'warn',
    ...extra,
  }
}

/** Starts `node bin/sidep.js start` and resolves once it prints "sidep is running" with its URL. */
export function startChildPlatform(o: ChildPlatformOptions): Promise<ChildPlatform> {
  installExitHooks()
  const sidep = sidepEnv(o.stores, o.env)
  // the child sees no SIDEP_* variable of ours (the platform rejects unknown ones), only the bench's
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SIDEP_') && k !== 'NODE_OPTIONS') env[k] = v
  Object.assign(env, sidep)
  const flags = o.nodeOptions ? o.nodeOptions.split(/\s+/).filter(Boolean) : []
  const child = spawn(process.execPath, [...flags, BIN, 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)
  let exited = false
  const exitedP = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true
      live.delete(child)
      resolve()
    })
  })
  const tail: string[] = []
  const keep = (line: string, stream: 'stdout' | 'stderr'): void => {
    tail.push(line)
    if (tail.length > 40) tail.shift()
    o.onLine?.(line, stream)
  }
  return new Promise((resolve, reject) => {
    let url: string | null = null
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new BenchError('BENCH_PLATFORM', `the platform did not start within ${(o.startTimeoutMs ?? 60_000) / 1000} s:\n${tail.join('\n')}`))
    }, o.startTimeoutMs ?? 60_000)
    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line, 'stdout')
      const m = /POST (http:\/\/\S+?)\/v1\/results/.exec(line)
      if (m && !url) {
        url = m[1]
        clearTimeout(timer)
        resolve({
          pid: child.pid!,
          url,
          env: sidep,
          get exited() {
            return exited
          },
          async stop(graceMs = 15_000) {
            if (exited) return
            child.kill('SIGTERM')
            const t = setTimeout(() => child.kill('SIGKILL'), graceMs)
            await exitedP
            clearTimeout(t)
          },
        })
      }
    })
    createInterface({ input: child.stderr! }).on('line', (line) => keep(line, 'stderr'))
    child.once('exit', (code, signal) => {
      if (url) return
      clearTimeout(timer)
      reject(new BenchError('BENCH_PLATFORM', `the platform exited (${signal ?? code}) before it was ready:\n${tail.join('\n')}`))
    })
  })
}

/** Parses the Prometheus text format into name{labels} → value (counters, gauges, histogram series). */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const sp = line.lastIndexOf(' ')
    if (sp <= 0) continue
    const v = Number(line.slice(sp + 1))
    if (Number.isFinite(v)) out.set(line.slice(0, sp), v)
  }
  return out
}

export interface StageFigures {
  batches: number
  seconds: number
  /** mean seconds per batch */
  mean_ms: number
  /** items per batch, mean (from sidep_batch_size) */
  mean_batch: number
  items: number
}

/** Per stage: batches, total seconds and items from sidep_stage_seconds and sidep_batch_size (after − before). */
export function stageFigures(after: Map<string, number>, before: Map<string, number> = new Map()): Record<string, StageFigures> {
  const d = (k: string): number => (after.get(k) ?? 0) - (before.get(k) ?? 0)
  const stages = new Set<string>()
  for (const k of after.keys()) {
    const m = /^sidep_stage_seconds_count\{stage="([^"]+)"\}$/.exec(k)
    if (m) stages.add(m[1])
  }
  const out: Record<string, StageFigures> = {}
  for (const s of [...stages].sort()) {
    const batches = d(`sidep_stage_seconds_count{stage="${s}"}`)
    const seconds = d(`sidep_stage_seconds_sum{stage="${s}"}`)
    const items = d(`sidep_batch_size_sum{stage="${s}"}`)
    const nb = d(`sidep_batch_size_count{stage="${s}"}`)
    out[s] = {
      batches,
      seconds: Math.round(seconds * 1000) / 1000,
      mean_ms: batches > 0 ? Math.round((seconds * 1e6) / batches) / 1000 : 0,
      mean_batch: nb > 0 ? Math.round((items / nb) * 10) / 10 : 0,
      items,
    }
  }
  return out
}
