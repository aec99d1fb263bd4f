/**
 * DCC signing throughput with the piscina pool (issue 5: target ≥ 10,000 certificates/s on this machine).
 * Each task signs a batch of ready payloads (sign-batch.ts): CWT + COSE_Sign1 ES256 + zlib + Base45.
 * Prints one Markdown table line and one JSON line. The figure to compare across changes is the CPU cost
 * (certificates per CPU-second, µs of CPU per certificate: process-wide, so the main thread's cloning and the
 * worker threads' signing both count); certificates per wall second depends on what else the shared machine
 * runs.
 *
 *   npx tsx bench/dcc.ts [--total 200000] [--batch 500] [--threads <cores>]
 */
import { availableParallelism, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { Piscina } from 'piscina'
import { generateDevSigner } from '../workers/dcc/keys.ts'
import { buildTestPayload } from '../workers/dcc/payload.ts'
import { signBatch, type SignBatchItem, type SignBatchTask } from '../workers/dcc/sign-batch.ts'
import { makeUvci } from '../workers/dcc/uvci.ts'
import { verifyHc1, TrustStore } from '../workers/dcc/verify.ts'
import type { CanonicalResult } from '../workers/model/canonical.ts'

const { values } = parseArgs({
  options: {
    total: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '500' },
    threads: { type: 'string', default: String(availableParallelism()) }
  }
})
const total = Number(values.total)
const batchSize = Number(values.batch)
const threads = Number(values.threads)

const { signer, material } = await generateDevSigner()
const nowMs = Date.now()
const iat = Math.floor(nowMs / 1000)

// Payloads built up front: the bench measures signing, as the workers do after payload building.
const items: SignBatchItem[] = []
for (let i = 0; i < batchSize; i++) {
  const result: CanonicalResult = {
    labId: 'lab_bench', accession: `B-${i}`, loinc: '94558-4', testType: i % 2 === 0 ? 'antigen' : 'naat',
    result: i % 7 === 0 ? '260373001' : '260415000', status: 'final', sampledAt: '', resultedAt: '',
    sampledAtMs: nowMs - 3_600_000, resultedAtMs: nowMs, device: '1232',
    patient: { family: `Dupont-Lefèvre${i}`, given: ['Marie', 'Anne'], birthDate: '1984-03-12', sex: 'F' },
    residence: { country: 'FR', department: '75', region: '11' }
  }
  const built = buildTestPayload(result, { issuer: 'Ministère des Solidarités et de la Santé', testingCentre: 'Laboratoire de test', uvci: makeUvci() })
  if (!built.eligible) throw new Error('bench payload not eligible')
  items.push({ payload: built.payload, iat, exp: iat + 72 * 3600 })
}
const task: SignBatchTask = { signer: material, iss: 'FR', items }

// Sanity: what the bench signs verifies.
const check = signBatch({ ...task, items: items.slice(0, 2) })
const verdict = verifyHc1(check.hc1[0], { trustStore: new TrustStore([signer.certificate]), now: nowMs })
if (!verdict.valid) throw new Error(`bench output does not verify: ${JSON.stringify(verdict.error)}`)

const pool = new Piscina({
  filename: new URL('../workers/dcc/sign-batch.ts', import.meta.url).href,
  minThreads: threads,
  maxThreads: threads,
  // workers inherit the tsx loader from execArgv (npx tsx / node --import tsx)
  execArgv: process.execArgv
})

// Warm-up: load modules and parse the key in every worker.
await Promise.all(Array.from({ length: threads * 2 }, () => pool.run({ ...task, items: items.slice(0, 10) })))

const batches = Math.ceil(total / batchSize)
const inFlight = threads * 2
let next = 0
let signed = 0
const cpu0 = process.cpuUsage() // process-wide: covers the worker threads too
const t0 = process.hrtime.bigint()
async function lane (): Promise<void> {
  while (next < batches) {
    next++
    const r = await pool.run(task) as { hc1: string[] }
    signed += r.hc1.length
  }
}
await Promise.all(Array.from({ length: inFlight }, lane))
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
const cpu = process.cpuUsage(cpu0)
const cpuSeconds = (cpu.user + cpu.system) / 1e6
await pool.destroy()

const perSecond = Math.round(signed / seconds)
const cores = availableParallelism()
const perCore = Math.round(perSecond / threads)
// Per CPU-second: what one fully available core signs. Differs from perThread when the machine is shared
// (other processes take CPU) — then 2 × perCpuSecond is the figure for an idle 2-core machine.
const perCpuSecond = Math.round(signed / cpuSeconds)
const cpuUsPerCertificate = Number(((cpuSeconds * 1e6) / signed).toFixed(1))
const sample = check.hc1[0]!.length
console.log(`| DCC sign (ES256, CWT+COSE+zlib+Base45, piscina ${threads} threads, batch ${batchSize}) | ${perSecond.toLocaleString('en-US')}/s total | ${perCore.toLocaleString('en-US')}/s per thread | ${perCpuSecond.toLocaleString('en-US')}/CPU-s (${cpuUsPerCertificate} µs CPU each) | ${cores} cores | load ${loadavg()[0]!.toFixed(1)} | HC1 ≈ ${sample} chars | target ≥ 10,000/s ${perSecond >= 10_000 ? 'met' : 'NOT met'} |`)
console.log(JSON.stringify({ bench: 'dcc.sign', alg: 'ES256', threads, cores, batch: batchSize, signed, seconds: Number(seconds.toFixed(3)), perSecond, perThread: perCore, perCpuSecond, cpuUsPerCertificate, cpuSeconds: Number(cpuSeconds.toFixed(3)), load1: loadavg()[0], hc1Chars: sample, target: 10_000, met: perSecond >= 10_000 }))
