/**
 * `npm run bench:pg`: the processor's PostgreSQL stage alone (issue 3), in items/s of applyToPostgres
 * (pipeline/sinks/postgres-apply.ts → COPY + sidep_apply_staged), on an isolated database `sidep_pgbench` that it
 * drops and re-creates. The items are built by the real worker pool (validation, identity, pseudonym,
 * sealed contact, PostgreSQL rows) before the clock starts: only applyToPostgres is timed.
 *
 * Scenarios (batches of INGEST messages of 250 items, as the processor pulls them):
 *   new-500 / new-2000 / new-5000   every key new, every patient new (half with INS, half traits only)
 *   dup10-2000                      10% of the items are resends of results stored earlier ('duplicate')
 *   corr5-2000                      5% are corrections of results stored earlier ('corrected')
 *   same-patient-2000               every item belongs to one of 10 patients (INS) already known
 *   replay-2000                     a batch applied again (JetStream redelivery): every item replays
 *
 * Usage: npm run bench:pg [-- --batches 5 --busy 2 --url postgres://root@127.0.0.1:5432/sidep_pgbench]
 * (the --baseline flag that loaded 002's function is gone with that function: 006 dropped it; figures before
 * and after each migration are in the commit messages)
 *   --busy N    keep N extra threads spinning during the measurement (a loaded machine)
 *   --explain   auto_explain every statement of the bench's session, nested ones included (the statements of
 *               sidep_apply_staged), with row counts and each statement's duration (no per-node timing: it would inflate them), into the server log (/var/log/postgresql/): where the
 *               backend's time goes. Timing every plan node costs CPU too: pg_cpu_us is then not comparable.
 *
 * wal_b: WAL bytes per item over the measured batches (pg_current_wal_insert_lsn before and after). WAL is
 * the cluster's, so another session writing meanwhile adds to it: compare on a quiet server, several rounds.
 *
 * pg_cpu_us: CPU time (utime + stime, /proc/<pid>/stat) of the PostgreSQL backend that ran the batches, per
 * item, over all the measured batches: unlike items/s it hardly moves when other work shares the cores, so
 * it is the figure to compare before/after a change of the apply path. Clock ticks are 10 ms: with the
 * default 5 batches, ±4 µs per item at 500 items a batch, ±1 µs at 2,000.
 */
import os from 'node:os'
import { randomBytes } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import pg from 'pg'
import { migratePostgres } from '../pipeline/postgres/migrate.ts'
import { WorkerPool } from '../pipeline/workers-pool.ts'
import { applyToPostgres } from '../pipeline/sinks/postgres-apply.ts'
import { encodeEnvelope, type IngestEnvelope } from '../workers/envelope.ts'
import type { IngestMessage, ProcessedMessage } from '../workers/ingest-task.ts'
import { makeItem, nirWithKey } from '../test/helpers/results.ts'
import { machineInfo } from './lib/report.ts'
import { readCpuSeconds } from './lib/process-stats.ts'
import { parseFlags, parseInteger, type FlagSpec } from './lib/options.ts'

interface PgBenchConfig {
  batches: number
  busy: number
  url: string
  explain: boolean
  help: boolean
}
const DEFAULTS: PgBenchConfig = { batches: 5, busy: 0, url: 'postgres://root@127.0.0.1:5432/sidep_pgbench', explain: false, help: false }
const FLAGS: Record<string, FlagSpec<PgBenchConfig>> = {
  '--batches': { kind: 'value', key: 'batches', parse: (r, f) => parseInteger(r, f, 1, 100) },
  '--busy': { kind: 'value', key: 'busy', parse: (r, f) => parseInteger(r, f, 0, 16) },
  '--url': { kind: 'value', key: 'url', parse: (r) => r },
  '--explain': { kind: 'boolean', key: 'explain', value: true },
  '--help': { kind: 'boolean', key: 'help', value: true },
}
const USAGE = 'Usage: npm run bench:pg [-- --batches 5 --busy 2 --explain --url postgres://root@127.0.0.1:5432/sidep_pgbench]'

const LAB = 'lab-pgbench'
const PER_MESSAGE = 250
const HOUR = 3600_000
type Item = Record<string, unknown>

let seq = 0
let submission = 0
let serial = 0

/** a new result for a new patient: even serials carry an INS, odd ones are known by their traits only */
function newItem(): Item {
  const n = serial++
  const patient = n % 2 === 0
    ? { ins: nirWithKey(String(1_800_000_000_000 + n)), family: `Martin${n}`, given: ['Jean'] }
    : { ins: undefined, family: `Bernard${n}`, given: ['Claire'], birthDate: '1990-05-17' }
  return makeItem({ accession: `B-${n}`, patient })
}

function messagesOf(items: Item[]): IngestMessage[] {
  const out: IngestMessage[] = []
  const now = Date.now()
  for (let i = 0; i < items.length; i += PER_MESSAGE) {
    const slice = items.slice(i, i + PER_MESSAGE)
    const envelope: IngestEnvelope = {
      v: 1, submissionId: `${LAB}:bench-${submission++}`, format: 'json', receivedAt: now, itemCount: slice.length,
      items: slice.map((item, index) => ({ index, item })), rejected: [],
    }
    out.push({ seq: ++seq, labId: LAB, fallbackSubmissionId: `${LAB}:n-${seq}`, envelope: true, data: encodeEnvelope(envelope), receivedAt: now })
  }
  return out
}

async function build(pool: WorkerPool, items: Item[]): Promise<ProcessedMessage[]> {
  const msgs = messagesOf(items)
  const out: ProcessedMessage[] = []
  // one task per thread's share, as the processor does
  const half = Math.ceil(msgs.length / 2)
  const parts = await Promise.all([msgs.slice(0, half), msgs.slice(half)].filter((p) => p.length).map((p) => pool.process({ now: Date.now(), messages: p })))
  for (const p of parts) out.push(...p)
  return out
}

interface ScenarioResult {
  scenario: string
  batch: number
  batches: number
  items: number
  seconds: number
  items_per_s: number
  median_batch_ms: number
  /** CPU µs of the PostgreSQL backend per item, all measured batches */
  pg_cpu_us: number
  /** WAL bytes per item, all measured batches (the whole cluster's WAL: noisy if others write) */
  wal_b: number
  statuses: Record<string, number>
}

async function main(cfg: PgBenchConfig): Promise<void> {
  const target = new URL(cfg.url)
  const admin = new URL(cfg.url)
  admin.pathname = '/postgres'
  const a = new pg.Client({ connectionString: admin.toString() })
  await a.connect()
  await a.query(`DROP DATABASE IF EXISTS "${decodeURIComponent(target.pathname.slice(1))}" WITH (FORCE)`)
  await a.end()
  await migratePostgres(cfg.url)
  // one connection, kept open: its backend's CPU is what pg_cpu_us measures
  const db = new pg.Pool({ connectionString: cfg.url, max: 1, idleTimeoutMillis: 0 })
  const backendPid = (await db.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number
  if (cfg.explain) {
    await db.query(`LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;
                    SET auto_explain.log_analyze = on; SET auto_explain.log_timing = off`)
  }
  await db.query(`INSERT INTO labs (lab_id, name, token_hash) VALUES ($1, 'bench', $2)`, [LAB, randomBytes(32)])

  const keys = { pseudonymKeyId: 'pk-bench', pseudonymKey: randomBytes(32), sealKeyId: 'sk-bench', sealKey: randomBytes(32) }
  const wp = new WorkerPool(2, keys)
  const stored: Item[] = []

  const spinners: Worker[] = []
  for (let i = 0; i < cfg.busy; i++) spinners.push(new Worker('for (;;) {}', { eval: true }))

  const results: ScenarioResult[] = []
  const run = async (scenario: string, batch: number, makeBatch: () => Item[], reuse?: ProcessedMessage[]): Promise<void> => {
    const times: number[] = []
    let cpu = 0
    let wal = 0
    const statuses: Record<string, number> = {}
    let items = 0
    // one warm-up batch (plans cached, buffers warm), then the measured ones
    for (let b = 0; b <= cfg.batches; b++) {
      const msgs = reuse ?? (await build(wp, makeBatch()))
      const w0 = (await db.query('SELECT pg_current_wal_insert_lsn() AS l')).rows[0].l as string
      const c0 = readCpuSeconds(backendPid) ?? NaN
      const t0 = performance.now()
      const out = await applyToPostgres(db, msgs)
      const ms = performance.now() - t0
      const c1 = readCpuSeconds(backendPid) ?? NaN
      const w1 = (await db.query('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::float8 AS d', [w0])).rows[0].d as number
      if (b === 0) continue
      times.push(ms)
      cpu += c1 - c0
      wal += w1
      items += out.size
      for (const o of out.values()) {
        const k = o.replay ? `replay:${o.status}` : o.status
        statuses[k] = (statuses[k] ?? 0) + 1
      }
    }
    const seconds = times.reduce((s, t) => s + t, 0) / 1000
    times.sort((x, y) => x - y)
    const r: ScenarioResult = {
      scenario, batch, batches: cfg.batches, items, seconds: Math.round(seconds * 1000) / 1000,
      items_per_s: Math.round(items / seconds), median_batch_ms: Math.round(times[times.length >> 1]),
      pg_cpu_us: Math.round((cpu * 1e6) / items), wal_b: Math.round(wal / items), statuses,
    }
    results.push(r)
    console.log(`${scenario.padEnd(18)} ${String(r.items_per_s).padStart(7)} items/s  median batch ${String(r.median_batch_ms).padStart(5)} ms  PG CPU ${String(r.pg_cpu_us).padStart(4)} µs/item  WAL ${String(r.wal_b).padStart(5)} B/item  ${JSON.stringify(statuses)}`)
  }

  const newBatch = (n: number) => () => {
    const items = Array.from({ length: n }, newItem)
    stored.push(...items)
    return items
  }
  // earlier results, picked across everything stored so far
  const pick = (k: number): Item[] => Array.from({ length: k }, (_, i) => stored[Math.floor(((i * 7919) % stored.length))])

  const load0 = os.loadavg()
  console.log(`applyToPostgres (COPY + sidep_apply_staged, 006), ${cfg.batches} batches per scenario after 1 warm-up, ${cfg.busy} busy threads, load average ${load0.map((v) => v.toFixed(2)).join(' ')}`)
  await run('new-500', 500, newBatch(500))
  await run('new-2000', 2000, newBatch(2000))
  await run('new-5000', 5000, newBatch(5000))
  await run('dup10-2000', 2000, () => {
    const resent = pick(200)
    const items = [...Array.from({ length: 1800 }, newItem), ...resent]
    stored.push(...items.slice(0, 1800))
    return items
  })
  await run('corr5-2000', 2000, () => {
    const corrected = pick(100).map((x) => ({ ...x, result: '260415000', status: 'corrected', resultedAt: new Date(Date.now() - HOUR + serial++).toISOString() }))
    const items = [...Array.from({ length: 1900 }, newItem), ...corrected]
    stored.push(...items.slice(0, 1900))
    return items
  })
  await run('same-patient-2000', 2000, () =>
    Array.from({ length: 2000 }, (_, i) => makeItem({ accession: `SP-${serial++}`, patient: { ins: nirWithKey(String(1_700_000_000_000 + (i % 10))), family: `Petit${i % 10}` } })))
  const again = await build(wp, newBatch(2000)())
  await applyToPostgres(db, again)
  await run('replay-2000', 2000, () => [], again)
  const load1 = os.loadavg()

  const machine = machineInfo()
  const sizes = (await db.query(`SELECT (SELECT count(*) FROM results)::int AS results, (SELECT count(*) FROM patients)::int AS patients, pg_size_pretty(pg_database_size(current_database())) AS size`)).rows[0]
  console.log(`${machine.cores} cores (${machine.cpu_model}), Node ${machine.node_version}; load average before ${load0.map((v) => v.toFixed(2)).join(' ')}, after ${load1.map((v) => v.toFixed(2)).join(' ')}; database at the end: ${sizes.results} results, ${sizes.patients} patients, ${sizes.size}`)
  console.log(JSON.stringify({ busy: cfg.busy, load_average: { before: load0, after: load1 }, machine, results }))

  for (const s of spinners) await s.terminate()
  await wp.destroy()
  await db.end()
}

const cfg = parseFlags(process.argv.slice(2), FLAGS, DEFAULTS)
if (cfg.help) console.log(USAGE)
else
  main(cfg).catch((err: unknown) => {
    console.error(`bench:pg: ${(err as Error).message}`)
    process.exitCode = 1
  })
