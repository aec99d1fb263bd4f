/**
 * `npm run bench:workers`: the worker stages alone, in results/s per core, to show where the processor's
 * CPU goes (issue 3). No NATS, no databases.
 *
 * Stages, each timed on this thread over the same synthetic items (the bench's generator, valid items
 * only for the stages after validation):
 *   validate      validateItem (Ajv schema + LOINC, dates, NIR key, postcode rules) → CanonicalResult
 *   normalise     identityKey (INS, or normalised name + first given name + birth date + sex)
 *   pseudonymise  pseudonymOf (keyed BLAKE2b-256, libsodium)
 *   seal          seal of the contact fields (crypto_secretbox), as the PostgreSQL row carries them
 *   pg-row        pgRowFor: the COPY line of an accepted result (content hash, seal, UUIDv7, escaping)
 *   fact          factJsonTailOf: the FEED fact JSON of a result
 *   json-parse    JSON.parse of an INGEST message body (what the processor decodes first)
 * and the whole `process` task of workers/ingest-task.ts on the gateway's authenticated envelopes (check the
 * tag, decode, normalise, pseudonymise, seal, build the PostgreSQL rows and the FEED facts) through a real piscina pool (pipeline/workers-pool.ts)
 * with 1 thread and with as many threads as cores; per core = results / CPU-seconds of this process.
 *
 * Usage: npm run bench:workers [-- --items 20000 --messages 64 --per-message 500 --out bench/results]
 */
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { validateItem } from '../workers/validate/validate.ts'
import { identityKey } from '../workers/validate/identity.ts'
import { initSodium, pseudonymOf } from '../workers/validate/pseudonym.ts'
import { seal } from '../workers/seal.ts'
import { pgRowFor } from '../workers/pg-row.ts'
import { factJsonTailOf } from '../workers/fact.ts'
import { sodiumReady } from '../workers/sodium.ts'
import { sealEnvelope } from '../workers/envelope.ts'
import { Packr } from 'msgpackr'
import type { CanonicalResult } from '../workers/model/canonical.ts'
import type { IngestMessage } from '../workers/ingest-task.ts'
import { WorkerPool } from '../pipeline/workers-pool.ts'
import type { WorkerKeys } from '../pipeline/keys/key-store.ts'
import { SyntheticLabs } from './lib/synthetic-labs.ts'
import { machineInfo, reportStem } from './lib/report.ts'
import { parseFlags, parseInteger, type FlagSpec } from './lib/options.ts'

interface WorkersBenchConfig {
  items: number
  messages: number
  perMessage: number
  rounds: number
  outDir: string
  help: boolean
}

const DEFAULTS: WorkersBenchConfig = { items: 20_000, messages: 64, perMessage: 500, rounds: 5, outDir: 'bench/results', help: false }
const FLAGS: Record<string, FlagSpec<WorkersBenchConfig>> = {
  '--items': { kind: 'value', key: 'items', parse: (r, f) => parseInteger(r, f, 100, 1_000_000) },
  '--messages': { kind: 'value', key: 'messages', parse: (r, f) => parseInteger(r, f, 1, 1000) },
  '--per-message': { kind: 'value', key: 'perMessage', parse: (r, f) => parseInteger(r, f, 1, 5000) },
  '--rounds': { kind: 'value', key: 'rounds', parse: (r, f) => parseInteger(r, f, 1, 100) },
  '--out': { kind: 'value', key: 'outDir', parse: (r) => r },
  '--help': { kind: 'boolean', key: 'help', value: true },
}

export interface StageResult {
  stage: string
  items: number
  seconds: number
  /** results/s on one core (the stage runs on this thread only) */
  per_core_rps: number
  /** µs per result */
  us_per_item: number
}

/** Runs fn over the items `rounds` times after one warm-up round; the best round counts (least disturbed by other load). */
function timeStage<T>(stage: string, items: readonly T[], rounds: number, fn: (x: T) => unknown): StageResult {
  let sink = 0
  for (const x of items) if (fn(x)) sink++
  let best = Number.POSITIVE_INFINITY
  for (let r = 0; r < rounds; r++) {
    const t0 = process.cpuUsage()
    for (const x of items) if (fn(x)) sink++
    const d = process.cpuUsage(t0)
    best = Math.min(best, (d.user + d.system) / 1e6)
  }
  if (sink < 0) console.log(sink) // keeps the work observable
  return { stage, items: items.length, seconds: best, per_core_rps: Math.round(items.length / best), us_per_item: Math.round((best * 1e6 * 100) / items.length) / 100 }
}

export interface PoolResult {
  threads: number
  results: number
  wall_s: number
  cpu_s: number
  rps: number
  per_core_rps: number
}

async function poolRun(threads: number, keys: WorkerKeys, batches: IngestMessage[][]): Promise<PoolResult> {
  const pool = new WorkerPool(threads, keys)
  try {
    const count = batches.reduce((n, b) => n + b.reduce((m, x) => m + (x as IngestMessage & { n: number }).n, 0), 0)
    // warm-up: every thread loads the task module, Ajv compiles, libsodium initialises
    await Promise.all(Array.from({ length: threads * 2 }, () => pool.process({ now: Date.now(), messages: batches[0].slice(0, 1) })))
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    // keep every thread busy with whole batches, as the processor does (one task per thread per batch)
    let next = 0
    await Promise.all(
      Array.from({ length: threads }, async () => {
        while (next < batches.length) {
          const b = batches[next++]
          await pool.process({ now: Date.now(), messages: b })
        }
      }),
    )
    const wall = (performance.now() - t0) / 1000
    const c = process.cpuUsage(cpu0)
    const cpu = (c.user + c.system) / 1e6
    return { threads, results: count, wall_s: Math.round(wall * 1000) / 1000, cpu_s: Math.round(cpu * 1000) / 1000, rps: Math.round(count / wall), per_core_rps: Math.round(count / cpu) }
  } finally {
    await pool.destroy()
  }
}

export async function runWorkersBench(cfg: WorkersBenchConfig): Promise<{ stages: StageResult[]; pool: PoolResult[]; json: string; md: string }> {
  await Promise.all([sodiumReady(), initSodium()])
  const now = Date.now()
  const gen = new SyntheticLabs({ seed: 11, labs: 20 })
  const generated = Array.from({ length: Math.ceil(cfg.items / 500) }, (_, i) => gen.batch(i % 20, 500)).flat().slice(0, cfg.items)
  const raw = generated.map((g) => ({ labId: g.labId, item: g.item }))
  // validate works on what a lab sent: a fresh parse of the JSON text, as in the worker
  const parsedItems = raw.map((r) => ({ labId: r.labId, item: JSON.parse(JSON.stringify(r.item)) as unknown }))
  const valid: CanonicalResult[] = []
  for (const r of parsedItems) {
    const v = validateItem(r.item, { labId: r.labId, now })
    if (v.ok) valid.push(v.result)
  }
  const identities = valid.map((r) => identityKey(r.patient))
  const key = randomBytes(32)
  const sealKey = randomBytes(32)
  const contacts = valid.map((r) => JSON.stringify({ address: r.patient.address, phone: r.patient.phone, email: r.patient.email }))
  const pseudonyms = identities.slice(0, 1).map((id) => pseudonymOf(id, key))
  const rowKeys = { pseudonymKeyId: 'pk-bench', sealKey, sealKeyId: 'sk-bench' }
  const bodies: string[] = []
  for (let i = 0; i < raw.length; i += 500) bodies.push(JSON.stringify(raw.slice(i, i + 500).map((r) => r.item)))

  const stages: StageResult[] = [
    timeStage('json-parse (per result, 500-item bodies)', bodies, cfg.rounds, (b) => JSON.parse(b)),
    timeStage('validate', parsedItems, cfg.rounds, (r) => validateItem(r.item, { labId: r.labId, now }).ok),
    timeStage('normalise (identityKey)', valid, cfg.rounds, (r) => identityKey(r.patient)),
    timeStage('pseudonymise (keyed BLAKE2b)', identities, cfg.rounds, (id) => pseudonymOf(id, key)),
    timeStage('seal contact fields', contacts, cfg.rounds, (c) => seal(c, sealKey, 'sk-bench')),
    timeStage('pg-row (pgRowFor)', valid, cfg.rounds, (r) => pgRowFor(r, 'lab:bench', 0, 1, pseudonyms[0], rowKeys)),
    timeStage('fact (factJsonTailOf)', valid, cfg.rounds, (r) => factJsonTailOf(r, pseudonyms[0], 'pk-bench')),
  ]
  // json-parse ran per body: report it per result
  const jp = stages[0]
  jp.items = raw.length
  jp.per_core_rps = Math.round(raw.length / jp.seconds)
  jp.us_per_item = Math.round((jp.seconds * 1e8) / raw.length) / 100

  // whole process task: batches of `messages` INGEST envelopes of `perMessage` results, as the processor pulls them
  const envelopeKey = randomBytes(32)
  const keys: WorkerKeys = { pseudonymKeyId: 'pk-bench', pseudonymKey: key, sealKeyId: 'sk-bench', sealKey, envelopeKeyId: 'ek-bench', envelopeKeys: { 'ek-bench': envelopeKey } }
  // what the gateway publishes: authenticated version 2 envelopes of the results its admit task validated
  // (the processor checks the tag and does not validate again)
  const resultPackr = new Packr({ useRecords: false })
  const messages: Array<IngestMessage & { n: number }> = []
  let seq = 0
  for (let i = 0; i < valid.length; i += cfg.perMessage) {
    const slice = valid.slice(i, i + cfg.perMessage)
    const labId = slice[0].labId
    const chunk = sealEnvelope(
      { v: 2, labId, submissionId: `${labId}:bench-${seq}`, format: 'json', receivedAt: now, itemCount: slice.length, index: slice.map((_, index) => index), results: Buffer.concat(slice.map((r) => resultPackr.pack({ ...r, labId }))), rejected: [] },
      { envelopeKeyId: 'ek-bench', envelopeKeys: { 'ek-bench': envelopeKey } },
    )
    messages.push({ seq: ++seq, labId, fallbackSubmissionId: `${labId}:n-${seq}`, envelope: true, trusted: true, auth: chunk.auth, data: chunk.data, receivedAt: now, n: slice.length })
  }
  // the processor splits a pulled batch across threads: one task = up to messages/threads messages
  const cores = os.availableParallelism()
  const pool: PoolResult[] = []
  for (const threads of [...new Set([1, cores])]) {
    const perTask = Math.max(1, Math.ceil(Math.min(cfg.messages, messages.length) / threads))
    const batches: IngestMessage[][] = []
    for (let i = 0; i < messages.length; i += perTask) batches.push(messages.slice(i, i + perTask))
    pool.push(await poolRun(threads, keys, batches))
  }

  const report = {
    started_at: new Date().toISOString(),
    machine: machineInfo(),
    load_average: os.loadavg().map((v) => Math.round(v * 100) / 100),
    options: cfg,
    valid_items: valid.length,
    stages,
    process_task: pool,
  }
  const n = (v: number): string => v.toLocaleString('en-US')
  const md = [
    `# Worker stages, ${report.started_at}`,
    '',
    `${report.machine.cores} cores (${report.machine.cpu_model}), Node ${report.machine.node_version}, load average ${report.load_average.join(' ')}. ` +
      `${n(raw.length)} synthetic results (${n(valid.length)} valid). Best of ${cfg.rounds} rounds, CPU time of this thread.`,
    '',
    '| stage | results/s per core | µs per result |',
    '|---|---|---|',
    ...stages.map((s) => `| ${s.stage} | ${n(s.per_core_rps)} | ${s.us_per_item} |`),
    '',
    `## Whole \`process\` task through piscina (${cfg.perMessage} results per INGEST message, ${cfg.messages} messages per pulled batch)`,
    '',
    '| threads | results | wall s | CPU s | results/s | results per CPU-second |',
    '|---|---|---|---|---|---|',
    ...pool.map((p) => `| ${p.threads} | ${n(p.results)} | ${p.wall_s} | ${p.cpu_s} | ${n(p.rps)} | ${n(p.per_core_rps)} |`),
    '',
  ].join('\n')
  await mkdir(cfg.outDir, { recursive: true })
  const stem = reportStem(new Date(), 'workers')
  const json = join(cfg.outDir, `${stem}.json`)
  const mdPath = join(cfg.outDir, `${stem}.md`)
  await writeFile(json, JSON.stringify(report, null, 2) + '\n')
  await writeFile(mdPath, md)
  return { stages, pool, json, md: mdPath }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const cfg = parseFlags(process.argv.slice(2), FLAGS, DEFAULTS)
  if (cfg.help) {
    console.log('Usage: npm run bench:workers [-- --items 20000 --messages 64 --per-message 500 --rounds 5 --out bench/results]')
  } else {
    runWorkersBench(cfg).then(
      async (r) => {
        const { readFile } = await import('node:fs/promises')
        console.log(await readFile(r.md, 'utf8'))
        console.log(`report: ${r.md} and ${r.json}`)
      },
      (err: unknown) => {
        console.error(`bench:workers: ${(err as Error).message}`)
        process.exitCode = 1
      },
    )
  }
}
