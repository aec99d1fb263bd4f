/**
 * `npm run bench`: end-to-end throughput and latency of the platform (issue 3).
 *
 * 1. Drops and recreates the bench's own stores (PostgreSQL and ClickHouse databases `sidep_bench`,
 *    subject root `bench`, stream prefix `BENCH_`, a fresh data dir), so runs are comparable.
 * 2. Measures the JetStream ceiling (bench/ceiling.ts) with messages as the platform's INGEST messages
 *    are: the same items per message, pulled in the processor's batch size; before the platform starts,
 *    so the two do not compete for the CPU.
 * 3. Starts the platform as a child process (every role in one process: its pid is sampled for RSS and
 *    CPU), registers the synthetic labs, and drives them open loop at --rate for --duration, over HTTP or
 *    NATS, in submissions of --batch items: labs send concurrently, each lab in order.
 * 4. Polls PostgreSQL (the versions it waits for, by key) and ClickHouse (rows inserted since the last
 *    poll) and listens to the labs' status subjects; drains for a bounded time after the load.
 * 5. Writes bench/results/<stamp>-<name>.{json,md,png} and bench/results/latest.json, then stops the
 *    child. The child is killed on any way out (ctrl-C, error).
 *
 * Latency is send → queryable: send = when the pacer released the submission; PostgreSQL = the row's
 * created_at/updated_at (the committing transaction's now(), so a lower bound by the transaction's
 * length; the bench also reports when its poll first saw the row, an upper bound by the poll period);
 * ClickHouse = inserted_ms (the sink's clock when it wrote the row). The headline p50/p95/p99 are for the
 * later of the two stores per result version ("queryable in both").
 *
 * The driver runs on the platform's cores: submissions are generated before the clock starts (bounded:
 * --pregenerate-mb), PostgreSQL is polled by its new heap pages (bench/lib/pg-poll.ts), and the report
 * says where the CPU went during the load, by process group (bench/lib/cpu-groups.ts).
 *
 * Own flags (besides bench/lib/options.ts): --drain <t> (default 60s), --ceiling-duration <t> (5s),
 * --platform-env K=V,K=V (SIDEP_* for the child), --profile-dir <dir> (child runs with --cpu-prof),
 * --stores <name> (database/stream names sidep_<name>, <name> root; default bench), --keep-running.
 */
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { execFileSync } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import pg from 'pg'
import { connect, type NatsConnection, type Subscription } from 'nats'
import { createClient } from '@clickhouse/client'
import { addLab } from '../pipeline/labs/lab-registry.ts'
import { BENCH_USAGE, parseBenchOptions, parseDurationMs, parseFlags, parseNumber, type BenchConfig, type FlagSpec } from './lib/options.ts'
import { SyntheticLabs } from './lib/synthetic-labs.ts'
import { SubmissionSource } from './lib/submission-source.ts'
import { PgPoller } from './lib/pg-poll.ts'
import { ChPoller } from './lib/ch-poll.ts'
import { CpuGroupSampler, wrapperPids, type WindowFigures } from './lib/cpu-groups.ts'
import { Pacer, runPaced } from './lib/rate.ts'
import { BenchLedger, STATUSES, type RejectedAnswer, type StatusItem } from './lib/ledger.ts'
import { ProcessSampler } from './lib/process-stats.ts'
import { compact, createProgress } from './lib/progress.ts'
import { writeReport, type BenchReport, type SeriesPoint, type StoreLatency } from './lib/report.ts'
import { writePlotPng } from './lib/plot.ts'
import { measureCeiling, type CeilingResult } from './ceiling.ts'
import { BenchError } from './lib/errors.ts'
import type { LatencyRecorder } from './lib/percentiles.ts'
import {
  parsePrometheus, pgUrlOf, resetStores, stageFigures, startChildPlatform,
  type BenchStores, type ChildPlatform,
} from './lib/bench-platform.ts'

// ---------------------------------------------------------------------------------------------------
// Options of this runner

export interface RunnerOptions {
  drainMs: number
  ceilingDurationMs: number
  platformEnv: Record<string, string>
  profileDir: string | null
  storesName: string
  /** bodies generated before the clock starts (into a spill file): the whole schedule must fit in this many MB */
  pregenerateMb: number
  help: boolean
}

const RUNNER_DEFAULTS: RunnerOptions = { drainMs: 60_000, ceilingDurationMs: 5000, platformEnv: {}, profileDir: null, storesName: 'bench', pregenerateMb: 4096, help: false }

const RUNNER_FLAGS: Record<string, FlagSpec<RunnerOptions>> = {
  '--drain': { kind: 'value', key: 'drainMs', parse: parseDurationMs },
  '--ceiling-duration': { kind: 'value', key: 'ceilingDurationMs', parse: parseDurationMs },
  '--platform-env': {
    kind: 'value',
    key: 'platformEnv',
    parse: (raw, flag) => {
      const env: Record<string, string> = {}
      for (const part of raw.split(',')) {
        const m = /^(SIDEP_[A-Z_]+)=(.*)$/.exec(part.trim())
        if (!m) throw new BenchError('BENCH_BAD_VALUE', `${flag} must look like SIDEP_PROCESSOR_BATCH=128,SIDEP_CH_BATCH=500, got ${JSON.stringify(raw)}`)
        env[m[1]] = m[2]
      }
      return env
    },
  },
  '--profile-dir': { kind: 'value', key: 'profileDir', parse: (r) => resolve(r) },
  '--pregenerate-mb': { kind: 'value', key: 'pregenerateMb', parse: (r, f) => parseNumber(r, f, 0, 16_384) },
  '--stores': {
    kind: 'value',
    key: 'storesName',
    parse: (r, f) => {
      if (!/^[a-z][a-z0-9_]{0,30}$/.test(r)) throw new BenchError('BENCH_BAD_VALUE', `${f} must be 1-31 lower-case letters, digits or _`)
      return r
    },
  },
}

/** Splits argv into this runner's flags and the bench options (bench/lib/options.ts). */
export function splitArgs(argv: readonly string[]): { runner: RunnerOptions; bench: BenchConfig } {
  const mine: string[] = []
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const flag = a.includes('=') ? a.slice(0, a.indexOf('=')) : a
    if (Object.hasOwn(RUNNER_FLAGS, flag)) {
      mine.push(a)
      if (!a.includes('=') && i + 1 < argv.length) mine.push(argv[++i])
    } else rest.push(a)
  }
  return { runner: parseFlags(mine, RUNNER_FLAGS, RUNNER_DEFAULTS), bench: parseBenchOptions(rest) }
}

export function storesFor(name: string, dataRoot = os.tmpdir()): BenchStores {
  return {
    pgDatabase: `sidep_${name}`,
    chDatabase: `sidep_${name}`,
    subjectRoot: name,
    streamPrefix: `${name.toUpperCase()}_`,
    dataDir: join(dataRoot, `sidep-${name}-data`),
  }
}

// ---------------------------------------------------------------------------------------------------
// Lab drivers: one in-order queue per lab, every lab concurrently

interface Pending {
  subId: number
  labIndex: number
  /** the JSON of the submission, as sent */
  body: Buffer
  items: number
}

const RETRIES = 8

interface Driver {
  enqueue(p: Pending): void
  /** submissions not yet answered */
  readonly backlog: number
  readonly retries: number
  close(): Promise<void>
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** One in-order queue per lab, sent concurrently across labs, with bounded retries: the drivers' engine. */
class LabQueues implements Driver {
  private readonly queues: Pending[][]
  private readonly busy: boolean[]
  backlog = 0
  retries = 0
  constructor(labs: number, private readonly sendOne: (p: Pending, attempt: number) => Promise<'done' | 'retry'>, private readonly onFailed: (p: Pending) => void) {
    this.queues = Array.from({ length: labs }, () => [])
    this.busy = new Array(labs).fill(false)
  }
  enqueue(p: Pending): void {
    this.backlog++
    this.queues[p.labIndex].push(p)
    if (!this.busy[p.labIndex]) void this.pump(p.labIndex)
  }
  private async pump(lab: number): Promise<void> {
    this.busy[lab] = true
    const q = this.queues[lab]
    while (q.length > 0) {
      const p = q.shift()!
      let ok = false
      for (let attempt = 0; attempt <= RETRIES && !ok; attempt++) {
        if (attempt > 0) {
          this.retries++
          await sleep(Math.min(4000, 250 * 2 ** (attempt - 1)))
        }
        try {
          ok = (await this.sendOne(p, attempt)) === 'done'
        } catch {
          ok = false
        }
      }
      if (!ok) this.onFailed(p)
      this.backlog--
    }
    this.busy[lab] = false
  }
  async close(): Promise<void> {}
}

function httpDriver(url: string, tokens: string[], ledger: BenchLedger, bySubmission: Map<string, number>, onAnswered: (publicId: string) => void): Driver {
  const queues = new LabQueues(
    tokens.length,
    async (p) => {
      const res = await fetch(`${url}/v1/results`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[p.labIndex]}`, 'content-type': 'application/json' },
        // bytes as generated: a string body would be re-validated and re-encoded by undici on every send
        body: p.body as Uint8Array<ArrayBuffer>,
      })
      const text = await res.text()
      if (res.status === 202 || res.status === 400) {
        let b: { submissionId?: string; accepted?: number; rejected?: RejectedAnswer[] }
        try {
          b = JSON.parse(text)
        } catch {
          return 'retry'
        }
        if (res.status === 400 && !Array.isArray(b.rejected)) return 'retry' // a 400 of the request itself: nothing to learn by retrying, but count it failed
        if (b.submissionId) bySubmission.set(b.submissionId, p.subId)
        ledger.answer(p.subId, b.accepted ?? 0, b.rejected ?? [], Date.now())
        if (res.status === 400) ledger.status(p.subId, [], Date.now(), false) // never reaches INGEST: no status will come
        if (b.submissionId) onAnswered(b.submissionId)
        return 'done'
      }
      return 'retry' // 503 OVERLOADED / INGEST_UNAVAILABLE, 5xx
    },
    (p) => ledger.failed(p.subId),
  )
  return queues
}

function natsDriver(nc: NatsConnection, subjectOf: (labId: string) => string, labIds: readonly string[], runTag: string, ledger: BenchLedger, bySubmission: Map<string, number>, onAnswered: (publicId: string) => void, streamTag: () => string): Driver {
  const js = nc.jetstream()
  const queues = new LabQueues(
    labIds.length,
    async (p) => {
      // a Nats-Msg-Id makes a retry after a lost ack harmless (stored once)
      const ack = await js.publish(subjectOf(labIds[p.labIndex]), p.body, { msgID: `${runTag}-${p.subId}`, timeout: 10_000 })
      // the processor names plain NATS submissions n<stream created, base 36>-<sequence>
      const publicId = `n${streamTag()}-${ack.seq}`
      bySubmission.set(publicId, p.subId)
      ledger.answer(p.subId, p.items, [], Date.now())
      onAnswered(publicId)
      return 'done'
    },
    (p) => ledger.failed(p.subId),
  )
  return queues
}

// ---------------------------------------------------------------------------------------------------
// Store pollers

const PG_POLL_MS = 500
const CH_POLL_MS = 500

// ---------------------------------------------------------------------------------------------------
// The run

export interface RunBenchOverrides {
  /** store names (default storesFor(runner.storesName)) */
  stores?: BenchStores
  /** progress output (default stderr) */
  progress?: NodeJS.WritableStream & { isTTY?: boolean }
  /** write the PNG plot (default true) */
  plot?: boolean
}

export interface RunBenchResult {
  report: BenchReport
  jsonPath: string
  mdPath: string
  latestPath: string
}

/** application_name of the driver's PostgreSQL connections */
const DRIVER_APP_NAME = 'sidep-bench-driver'

/** Tells the CPU sampler which PostgreSQL backends serve the driver's polls (pg.Pool may replace its connections). */
async function nameDriverBackends(pool: pg.Pool, cpu: CpuGroupSampler): Promise<void> {
  try {
    const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [DRIVER_APP_NAME])
    for (const r of rows) cpu.assign(r.pid, 'postgres (bench driver polls)')
  } catch {
    /* the figures then count them with the bench database's backends */
  }
}

function latencyOf(r: LatencyRecorder): StoreLatency {
  const s = r.summary()
  const round = (v: number): number => (Number.isFinite(v) ? Math.round(v * 10) / 10 : v)
  return { count: s.count, p50_ms: round(s.p50), p95_ms: round(s.p95), p99_ms: round(s.p99), max_ms: round(s.max), mode: s.mode === 'exact' ? 'exact' : `histogram ±${s.relativeError * 100}%` }
}

export async function runBench(bench: BenchConfig, runner: RunnerOptions, o: RunBenchOverrides = {}): Promise<RunBenchResult> {
  const stores = o.stores ?? storesFor(runner.storesName)
  const chunkItems = Number(runner.platformEnv.SIDEP_INGEST_CHUNK_ITEMS ?? 500)
  const processorBatch = Number(runner.platformEnv.SIDEP_PROCESSOR_BATCH ?? 64)
  const log = (s: string): void => void (o.progress ?? process.stderr).write(`${s}\n`)
  const natsServers = bench.natsServers
  stores.natsUrl = natsServers.split(',')[0]

  log(`bench: resetting stores (PostgreSQL ${stores.pgDatabase}, ClickHouse ${stores.chDatabase}, streams ${stores.streamPrefix}*, subjects ${stores.subjectRoot}.>)`)
  await resetStores(stores)

  // --- ceiling, alone on the machine ------------------------------------------------------------
  const itemsPerMessage = bench.transport === 'http' ? Math.min(bench.batch, chunkItems) : bench.batch
  let ceiling: CeilingResult | null = null
  let ceilingError: string | null = null
  if (bench.ceiling) {
    log(`bench: JetStream ceiling, ${itemsPerMessage} results per message, pulls of ${processorBatch}, ${runner.ceilingDurationMs / 1000} s, concurrent publish + consume`)
    try {
      ceiling = await measureCeiling({ servers: natsServers, itemsPerMessage, messagesPerBatch: processorBatch, durationMs: runner.ceilingDurationMs, mode: 'concurrent' })
      log(`bench: ceiling ${Math.round(ceiling.ceilingItemsPerSec).toLocaleString('en-US')} results/s (${Math.round(ceiling.publish.messagesPerSec)} msgs/s of ${ceiling.messageBytes} B)`)
    } catch (err) {
      ceilingError = (err as Error).message
      log(`bench: ceiling failed: ${ceilingError}`)
    }
  }

  // --- platform ---------------------------------------------------------------------------------
  const nodeOptions = runner.profileDir ? `--cpu-prof --cpu-prof-dir=${runner.profileDir}` : undefined
  // the platform logs JSON lines at warn and above (SIDEP_LOG_LEVEL=warn): show the first few of each event
  const shownEvents = new Map<string, number>()
  // every line of the child goes to a log file beside the system's temp files, for a look after the run
  const platformLogPath = join(os.tmpdir(), `sidep-${runner.storesName}-platform.log`)
  const platformLog = createWriteStream(platformLogPath)
  const platformLine = (line: string): void => {
    platformLog.write(`${line}\n`)
    const ev = /"event":"([^"]+)"/.exec(line)?.[1] ?? (/"level":(40|50|60)|error|fatal/i.test(line) ? 'other' : null)
    if (ev === null) return
    const n = (shownEvents.get(ev) ?? 0) + 1
    shownEvents.set(ev, n)
    if (n <= 3) log(`platform: ${line.slice(0, 400)}`)
    else if (n === 4) log(`platform: (further '${ev}' lines not shown)`)
  }
  log(`bench: starting the platform${nodeOptions ? ` (${nodeOptions})` : ''}`)
  const platform: ChildPlatform = await startChildPlatform({ stores, env: runner.platformEnv, nodeOptions, onLine: (line) => platformLine(line) })
  const onSignal = (): void => {
    void platform.stop(3000).finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  // named, so the CPU report tells the bench's own PostgreSQL backends from the platform's
  const pool = new pg.Pool({ connectionString: pgUrlOf(stores), max: 2, application_name: DRIVER_APP_NAME })
  const ch = createClient({ url: stores.chUrl ?? 'http://127.0.0.1:8123', request_timeout: 60_000 })
  let nc: NatsConnection | null = null
  let statusSub: Subscription | null = null
  let spillSource: SubmissionSource | null = null
  try {
    const genOptions = { seed: bench.seed, labs: bench.labs, runId: `r${Date.now().toString(36)}`, mix: bench.mix, positivity: bench.positivity }
    const gen = new SyntheticLabs(genOptions)
    // the whole schedule generated ahead by a worker thread, bodies in an unlinked file: neither the
    // generation's CPU nor its garbage lands in the load phase or the driver's heap (bench/lib/submission-source.ts)
    const scheduled = Math.ceil((bench.rate * bench.durationMs) / 1000 / bench.batch) + 4
    const genStart = performance.now()
    const source = await SubmissionSource.pregenerate(genOptions, bench.batch, scheduled, runner.pregenerateMb * 1048576, join(os.tmpdir(), `sidep-${runner.storesName}-${process.pid}-bodies`))
    spillSource = source
    log(`bench: ${source.readyCount} of ${scheduled} submissions generated ahead (${(source.aheadBytes / 1048576).toFixed(0)} MB) in ${((performance.now() - genStart) / 1000).toFixed(1)} s`)
    const tokens: string[] = []
    for (const labId of gen.labIds) tokens.push((await addLab(pool, labId, `Bench lab ${labId}`)).token)
    log(`bench: ${tokens.length} labs registered; platform pid ${platform.pid} at ${platform.url}`)

    nc = await connect({ servers: natsServers, name: 'sidep-bench' })
    const jsm = await nc.jetstreamManager()
    const ingestStream = `${stores.streamPrefix}INGEST`
    const streamTag = Date.parse((await jsm.streams.info(ingestStream)).created).toString(36)

    const scrape = async (): Promise<Map<string, number>> => {
      try {
        const res = await fetch(`${platform.url}/metrics`, { signal: AbortSignal.timeout(10_000) })
        return parsePrometheus(await res.text())
      } catch {
        return new Map()
      }
    }
    const metricsBefore = await scrape()
    const t0 = Date.now()
    const ledger = new BenchLedger(t0)

    // status messages of every lab; one may come before the ingest answer is booked: kept until it is
    const bySubmission = new Map<string, number>()
    const early = new Map<string, { items: StatusItem[]; at: number }>()
    const fromStatus = bench.transport === 'nats'
    const onStatus = (publicId: string, items: StatusItem[], at: number): void => {
      const subId = bySubmission.get(publicId)
      if (subId === undefined) {
        early.set(publicId, { items, at })
        return
      }
      bySubmission.delete(publicId)
      ledger.status(subId, items, at, fromStatus)
    }
    const onAnswered = (publicId: string): void => {
      const e = early.get(publicId)
      if (e) {
        early.delete(publicId)
        onStatus(publicId, e.items, e.at)
      }
    }
    statusSub = nc.subscribe(`${stores.subjectRoot}.lab.*.status`, {
      callback: (err, m) => {
        if (err) return
        try {
          const b = m.json<{ submissionId: string; items: StatusItem[] }>()
          onStatus(b.submissionId, b.items, Date.now())
        } catch {
          /* not ours to judge: the bench only counts what it can read */
        }
      },
    })
    await nc.flush()

    const driver: Driver =
      bench.transport === 'http'
        ? httpDriver(platform.url, tokens, ledger, bySubmission, onAnswered)
        : natsDriver(nc, (labId) => `${stores.subjectRoot}.ingest.${labId}`, gen.labIds, randomBytes(4).toString('hex'), ledger, bySubmission, onAnswered, () => streamTag)

    // --- pollers, sampler, progress ---------------------------------------------------------------
    const chPoller = new ChPoller(ch, `${stores.chDatabase}.result_facts`, ledger)
    let polling = true
    let pollErrors = 0
    const loopEvery = async (ms: number, fn: () => Promise<void>): Promise<void> => {
      while (polling) {
        const started = Date.now()
        try {
          await fn()
        } catch {
          pollErrors++
        }
        await sleep(Math.max(10, ms - (Date.now() - started)))
      }
    }
    const pgPoller = new PgPoller(pool, ledger)
    const pollers = [loopEvery(PG_POLL_MS, () => pgPoller.poll()), loopEvery(CH_POLL_MS, () => chPoller.poll())]
    const sampler = new ProcessSampler({ platform: platform.pid, bench: process.pid }, 1000).start()
    const cpu = new CpuGroupSampler({ platform: platform.pid, driver: process.pid, wrappers: wrapperPids(process.pid), pgDatabase: stores.pgDatabase }).start()
    const markCpu = async (name: string): Promise<void> => {
      await nameDriverBackends(pool, cpu)
      cpu.mark(name)
    }
    const progress = createProgress({ stream: o.progress, intervalMs: 5000 })
    let last = { t: t0, sent: 0, accepted: 0, pg: 0, ch: 0 }
    let phase = 'load'
    const progressTimer = setInterval(() => {
      const now = Date.now()
      const dt = (now - last.t) / 1000
      const c = ledger.counts
      const rate = (n: number, prev: number): string => compact((n - prev) / dt)
      const p99 = ledger.bothLatency.count > 0 ? `${Math.round(ledger.bothLatency.percentile(99))}ms` : '–'
      progress.update(
        `${phase} ${((now - t0) / 1000).toFixed(0)}s sent ${compact(c.sent)} (${rate(c.sent, last.sent)}/s) accepted ${rate(c.accepted, last.accepted)}/s ` +
          `pg ${rate(c.pg_versions, last.pg)}/s ch ${rate(c.ch_versions, last.ch)}/s backlog ${driver.backlog} ` +
          `waiting pg ${compact(ledger.pgPendingCount)} ch ${compact(ledger.chPendingCount)} p99 ${p99}`,
      )
      last = { t: now, sent: c.sent, accepted: c.accepted, pg: c.pg_versions, ch: c.ch_versions }
    }, 1000)

    // --- load ---------------------------------------------------------------------------------------
    const pacer = new Pacer({ rate: bench.rate, batch: bench.batch })
    await markCpu('load-start')
    const driverCpu0 = process.cpuUsage()
    const pacerStats = await runPaced({
      pacer,
      durationMs: bench.durationMs,
      send: (n) => {
        const sentMs = Date.now()
        for (let k = 0; k < n; k += bench.batch) {
          const p = source.next()
          const subId = ledger.submitBooking(p.booking, sentMs)
          driver.enqueue({ subId, labIndex: p.labIndex, body: p.body, items: p.items })
        }
      },
    })
    const loadEnd = Date.now()
    const driverCpuLoad = process.cpuUsage(driverCpu0)
    const sentInLoad = ledger.counts.sent
    await markCpu('load-end')

    // --- drain --------------------------------------------------------------------------------------
    phase = 'drain'
    const drainDeadline = loadEnd + runner.drainMs
    while (Date.now() < drainDeadline && !platform.exited && !(driver.backlog === 0 && ledger.complete)) await sleep(200)
    // one more look at both stores for what finished during the last poll
    await pgPoller.poll().catch(() => undefined)
    await chPoller.poll().catch(() => undefined)
    const drainEnd = Date.now()
    const drained = driver.backlog === 0 && ledger.complete
    polling = false
    await Promise.all(pollers)
    await markCpu('drain-end')
    cpu.stop()
    clearInterval(progressTimer)
    const sampled = sampler.stop()
    progress.done()
    ledger.finish()
    const notes: string[] = []

    const metricsAfter = await scrape()
    if (metricsAfter.size === 0) notes.push(platform.exited ? 'the platform process exited during the run' : 'the platform did not answer /metrics at the end')
    const stages = stageFigures(metricsAfter, metricsBefore)

    // --- correctness: what the stores hold against what should be there -----------------------------
    const pgResults = await pool.query<{ state: string; n: string }>('SELECT state, count(*) AS n FROM results GROUP BY state')
    const pgItems = await pool.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM submission_items GROUP BY status')
    const chStates = await (await ch.query({ query: `SELECT state, count() AS n FROM ${stores.chDatabase}.result_facts FINAL GROUP BY state`, format: 'JSONEachRow' })).json<{ state: string; n: string }>()
    const chUniq = await (await ch.query({ query: `SELECT uniqExact(result_id) AS n, count() AS rows FROM ${stores.chDatabase}.result_facts`, format: 'JSONEachRow' })).json<{ n: string; rows: string }>()
    const byKey = <T extends Record<string, string>>(rows: T[], k: keyof T): Record<string, number> => Object.fromEntries(rows.map((r) => [r[k], Number(r.n)]))
    const pgStates = byKey(pgResults.rows, 'state')
    const pgStatuses = byKey(pgItems.rows, 'status')
    const chStateCounts = byKey(chStates, 'state')
    const expStates = ledger.expectedStates()
    const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0)
    const expectedStatuses: Record<string, number> = {}
    for (const s of STATUSES) expectedStatuses[s] = ledger.expected[s]
    const statesEqual = (a: Record<string, number>): boolean => (['final', 'corrected', 'cancelled'] as const).every((s) => (a[s] ?? 0) === expStates[s])
    const correctness = {
      expected_results: ledger.expectedKeys,
      pg_results: sum(pgStates),
      ch_results: Number(chUniq[0]?.n ?? 0),
      ch_rows: Number(chUniq[0]?.rows ?? 0),
      expected_states: expStates,
      pg_states: pgStates,
      ch_states_final: chStateCounts,
      expected_item_statuses: expectedStatuses,
      pg_item_statuses: pgStatuses,
      status_stream: ledger.observedStatus,
      pg_equal: sum(pgStates) === ledger.expectedKeys && statesEqual(pgStates),
      ch_equal: Number(chUniq[0]?.n ?? 0) === ledger.expectedKeys && statesEqual(chStateCounts),
      item_statuses_equal: STATUSES.every((s) => (pgStatuses[s] ?? 0) === ledger.expected[s]) && (pgStatuses.superseded ?? 0) === 0,
      drained,
      ok: false,
    }
    correctness.ok = correctness.pg_equal && correctness.ch_equal && correctness.item_statuses_equal && ledger.counts.submissions_failed === 0

    // --- figures ------------------------------------------------------------------------------------
    const loadSeconds = (loadEnd - t0) / 1000
    const throughput = ledger.counts.accepted / loadSeconds
    const pgRps = ledger.storeRate('pg')
    const chRps = ledger.storeRate('ch')
    const both = latencyOf(ledger.bothLatency)
    const ceilingRps = ceiling?.ceilingItemsPerSec ?? Number.NaN
    const plat = sampled.processes.platform
    const benchProc = sampled.processes.bench
    const series: SeriesPoint[] = ledger.series().map((p) => {
      const rss = plat.samples.find((s) => Math.round(s.t) === p.t_s)
      return { t_s: p.t_s, sent_rps: p.sent, accepted_rps: p.accepted, pg_rps: p.pg, ch_rps: p.ch, p99_ms: p.p99_ms, rss_mb: rss ? Math.round(rss.rssMb) : undefined }
    })
    if (!drained) notes.push(`not drained within ${runner.drainMs / 1000} s after the load: ${ledger.pgPendingCount} versions not in PostgreSQL, ${ledger.chPendingCount} not in ClickHouse, ${ledger.pendingSubmissions} submissions without status; rates and latencies cover what arrived`)
    if (pacerStats.shed > 0) notes.push(`the bench could not keep the schedule: ${pacerStats.shed} results shed by the pacer (achieved ${Math.round(pacerStats.achievedRate)}/s of ${bench.rate}/s)`)
    if (pollErrors > 0) notes.push(`${pollErrors} store polls failed (retried)`)
    notes.push(`load average at the end: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')} (1/5/15 min; other jobs on the machine count too); machine CPU busy ${sampled.system.busyPctMean.toFixed(0)}% during the run`)
    notes.push('PostgreSQL latency uses the row stamps (transaction start: a lower bound by the transaction length); pg_observed is when the bench first saw the row (an upper bound by the 500 ms poll)')
    notes.push('pg_rps and ch_rps count result versions written (new, corrected, cancelled); resends are duplicates and write nothing, so they are about 3 % below the accepted rate when the platform keeps up')

    // where the CPU went: by process group, over the load and over load + drain
    const loadSeconds_ = (loadEnd - t0) / 1000
    const cpuByGroup: Record<string, WindowFigures> = {}
    const cpuLoad = cpu.figures('load', 'load-start', 'load-end', ledger.bothDoneBy(loadEnd))
    const cpuRun = cpu.figures('load + drain', 'load-start', 'drain-end', ledger.bothLatency.count)
    if (cpuLoad) cpuByGroup.load = cpuLoad
    if (cpuRun) cpuByGroup.load_and_drain = cpuRun
    const driverLoadS = (driverCpuLoad.user + driverCpuLoad.system) / 1e6
    const driverFigures = {
      load_cpu_s: Math.round(driverLoadS * 100) / 100,
      load_cpu_pct: Math.round((driverLoadS * 1000) / loadSeconds_) / 10,
      cpu_s_per_100k_sent: sentInLoad > 0 ? Math.round((driverLoadS * 1e5 * 100) / sentInLoad) / 100 : null,
      rss_mb_max: Math.round(benchProc.rssMbMax),
      rss_mb_per_100k_sent: sentInLoad > 0 ? Math.round((benchProc.rssMbMax * 1e5) / sentInLoad) : null,
      pregenerated_submissions: ledger.counts.submissions - source.lateGenerated,
      pregenerated_mb: Math.round(source.aheadBytes / 1048576),
      late_generated_submissions: source.lateGenerated,
    }
    if (source.lateGenerated > 0) notes.push(`${source.lateGenerated} submissions were generated during the load (past --pregenerate-mb ${runner.pregenerateMb}): the driver's load CPU includes their generation`)
    notes.push('cpu_by_group: CPU time per process group from /proc (100 % = one core; µs per result = CPU time over the versions queryable in both stores in the window, load counted to the second); "other processes" is everything else on the machine, other engineers\' jobs included')

    const report: BenchReport = {
      throughput_rps: Math.round(throughput),
      pg_rps: Math.round(pgRps),
      ch_rps: Math.round(chRps),
      p50_ms: both.p50_ms,
      p95_ms: both.p95_ms,
      p99_ms: both.p99_ms,
      ceiling_rps: Math.round(ceilingRps),
      ratio: Math.round((throughput / ceilingRps) * 1000) / 1000,
      ratio_committed: Math.round((Math.min(pgRps, chRps) / ceilingRps) * 1000) / 1000,
      rss_mb: Math.round(plat.rssMbMax),
      cpu_pct: Math.round(plat.cpuPctMean),
      options: { ...bench, runner: { ...runner, platformEnv: runner.platformEnv } },
      platform_env: platform.env,
      started_at: new Date(t0).toISOString(),
      duration_s: Math.round((drainEnd - t0) / 100) / 10,
      load_s: Math.round(loadSeconds * 10) / 10,
      drain_s: Math.round((drainEnd - loadEnd) / 100) / 10,
      latency: {
        both: both,
        pg: latencyOf(ledger.pgLatency),
        pg_observed: latencyOf(ledger.pgObservedLatency),
        ch: latencyOf(ledger.chLatency),
        lab_status: latencyOf(ledger.statusLatency),
      },
      counts: { ...ledger.counts, retries: driver.retries, pacer_shed: pacerStats.shed, expected_results: ledger.expectedKeys },
      expected_by_status: expectedStatuses,
      rejected_by_code: ledger.observedCodes,
      expected_rejected_by_code: ledger.expectedCodes,
      mismatches: ledger.mismatches,
      correctness,
      processes: {
        platform: { rss_mb_max: Math.round(plat.rssMbMax), rss_mb_last: Math.round(plat.rssMbLast), cpu_pct_mean: Math.round(plat.cpuPctMean * 10) / 10 },
        bench: { rss_mb_max: Math.round(benchProc.rssMbMax), rss_mb_last: Math.round(benchProc.rssMbLast), cpu_pct_mean: Math.round(benchProc.cpuPctMean * 10) / 10 },
      },
      cpu_by_group: cpuByGroup,
      driver: driverFigures,
      pg_poll: { ...pgPoller.stats, query_ms: Math.round(pgPoller.stats.query_ms) },
      ch_poll: chPoller.stats,
      code: codeVersion(),
      machine_cpu_busy_pct: Math.round(sampled.system.busyPctMean),
      load_average: os.loadavg().map((v) => Math.round(v * 100) / 100),
      stages,
      ceiling: ceiling ?? { error: ceilingError ?? 'skipped (--no-ceiling)' },
      series,
      notes,
      platform_log: platformLogPath,
    }
    const at = new Date()
    const written = await writeReport(report, { dir: bench.outDir, name: bench.name, at })
    if (o.plot !== false) {
      const png = await writePlotPng(series, join(bench.outDir, `${written.stem}.png`), `sidep bench ${bench.rate}/s ${bench.transport} batch ${bench.batch}`).catch(() => null)
      if (png) {
        report.plot = `${written.stem}.png`
        await writeReport(report, { dir: bench.outDir, name: bench.name, at }).catch(() => undefined)
      }
    }
    return { report, jsonPath: written.jsonPath, mdPath: written.mdPath, latestPath: written.latestPath }
  } finally {
    await statusSub?.drain().catch(() => undefined)
    await nc?.close().catch(() => undefined)
    await pool.end().catch(() => undefined)
    await ch.close().catch(() => undefined)
    spillSource?.close()
    await platform.stop()
    platformLog.end()
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
}

/** The commit the platform ran from, and whether platform paths had uncommitted changes (others edit them). */
function codeVersion(): { commit: string; dirty_platform_paths: string[] } {
  const git = (args: string[]): string => {
    try {
      return execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    } catch {
      return ''
    }
  }
  const dirty = git(['status', '--porcelain', '--', 'pipeline', 'workers', 'sql', 'bin']).split('\n').filter(Boolean).map((l) => l.slice(3))
  return { commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown', dirty_platform_paths: dirty }
}

function summaryLine(r: BenchReport): string {
  const c = r.correctness as { ok: boolean; expected_results: number; pg_results: number; ch_results: number }
  const n = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–')
  return (
    `accepted ${n(r.throughput_rps)}/s  pg ${n(r.pg_rps)}/s  ch ${n(r.ch_rps)}/s  p50/p95/p99 ${n(r.p50_ms)}/${n(r.p95_ms)}/${n(r.p99_ms)} ms  ` +
    `ceiling ${n(r.ceiling_rps)}/s  ratio ${r.ratio}  rss ${n(r.rss_mb)} MB  cpu ${n(r.cpu_pct as number)}%  ` +
    `results expected ${n(c.expected_results)} pg ${n(c.pg_results)} ch ${n(c.ch_results)} → ${c.ok ? 'nothing lost' : 'MISMATCH'}`
  )
}

async function main(argv: string[]): Promise<void> {
  const { runner, bench } = splitArgs(argv)
  if (bench.help || runner.help) {
    console.log(`${BENCH_USAGE}
  --drain <t>           wait at most this long after the load for the stores (default 60s)
  --ceiling-duration <t> length of the ceiling measurement (default 5s)
  --platform-env K=V,.. SIDEP_* variables for the platform child (e.g. SIDEP_PROCESSOR_BATCH=128)
  --profile-dir <dir>   run the platform child with --cpu-prof, profiles in <dir>
  --stores <name>       store names sidep_<name>, subjects <name>.>, streams <NAME>_* (default bench)`)
    return
  }
  const r = await runBench(bench, runner)
  console.log(summaryLine(r.report))
  console.log(`report: ${r.mdPath} and ${r.latestPath}`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    () => process.exit(process.exitCode ?? 0),
    (err: unknown) => {
      const e = err as { code?: string; message?: string }
      console.error(`bench: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`)
      process.exit(1)
    },
  )
}
