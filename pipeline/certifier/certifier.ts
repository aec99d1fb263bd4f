/**
 * The certifier role (issue 5): RESULTS (durable pull consumer, adaptive batches) → which results get an EU
 * DCC test certificate → signing in the piscina pool (workers/dcc/sign-batch.ts), batched → PostgreSQL
 * (certificates, skips, revocations; one transaction per batch) → ack.
 *
 * - final or corrected NAAT / rapid antigen, detected or not detected → a certificate for that version;
 *   serology and inconclusive → none, the reason recorded (workers/dcc/payload.ts decides);
 * - a correction (a newer version) gets its own certificate and revokes the older one ('superseded');
 *   a cancellation revokes ('cancelled'). certificate-store.ts keeps this right under redelivery.
 * - only the version that is current in PostgreSQL is certified: a record that a later version has
 *   overtaken is left to that version's message. Which version is current is decided at write time, under
 *   the row lock (certificate-store.ts), not read before signing: the batch is signed from the records
 *   themselves, and what is stale (an overtaken version, a redelivered one already recorded) is dropped by
 *   the write. That signs a few certificates for nothing on redelivery and saves a PostgreSQL round trip
 *   and a results ⋈ labs read with two probes per result on every batch.
 * Retriable failures (PostgreSQL down, signing pool unavailable) nak the batch and the consumer lags; a
 * message that fails on its own data is retried maxAttempts times then dead-lettered on `dlq.certifier`.
 */
import { type JetStreamClient, type JsMsg } from 'nats'
import { Unpackr } from 'msgpackr'
import type { SidepConfig } from '../config.ts'
import type { Topology } from '../subjects.ts'
import type { PgPool } from '../postgres/pool.ts'
import type { Telemetry } from '../telemetry.ts'
import type { DccKeys } from '../keys/dcc-keys.ts'
import { PoisonError, RetriableError, SidepError } from '../errors.ts'
import { retryOrDeadLetter, RETRY_DELAY_MS } from '../nats/dead-letter.ts'
import { consumeInBatches, type BatchLoop } from '../nats/batch-consumer.ts'
import { SigningPool } from './signing-pool.ts'
import { writeCertificates, type IssuedCertificate, type SkippedResult } from './certificate-store.ts'
import { LabNames } from './lab-names.ts'
import { buildTestPayload } from '../../workers/dcc/payload.ts'
import { testCertificateExpiry } from '../../workers/dcc/issue.ts'
import { makeUvci } from '../../workers/dcc/uvci.ts'
import { uciHash } from '../../workers/dcc/revocation.ts'
import type { CanonicalResult } from '../../workers/model/canonical.ts'
import type { SignBatchItem } from '../../workers/dcc/sign-batch.ts'

const unpackr = new Unpackr({ useRecords: false })

/** One entry of a RESULTS message (pipeline/processor/outputs.ts). */
export interface ResultRecord {
  resultId: string
  version: number
  state: 'final' | 'corrected' | 'cancelled'
  result: CanonicalResult
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const STATES = new Set(['final', 'corrected', 'cancelled'])

export function decodeResultsMessage(data: Uint8Array): ResultRecord[] {
  const records = unpackr.unpack(data) as unknown
  if (!Array.isArray(records)) throw new PoisonError('RESULTS_UNREADABLE', 'RESULTS message is not an array')
  for (const r of records as ResultRecord[]) {
    if (
      typeof r !== 'object' || r === null || typeof r.resultId !== 'string' || !UUID.test(r.resultId) ||
      !Number.isInteger(r.version) || !STATES.has(r.state) || typeof r.result !== 'object' || r.result === null
    ) {
      throw new PoisonError('RESULTS_UNREADABLE', 'RESULTS record lacks resultId, version, state or result')
    }
  }
  return records as ResultRecord[]
}

export interface CertifierDeps {
  config: SidepConfig
  topology: Topology
  js: JetStreamClient
  pg: PgPool
  keys: DccKeys
  telemetry: Telemetry
}

interface Plan {
  resultIds: string[]
  toSign: Array<{ record: ResultRecord; ci: string; item: SignBatchItem }>
  skipped: SkippedResult[]
}

export class Certifier {
  private loop: BatchLoop | null = null
  private readonly pool: SigningPool
  private readonly labNames: LabNames

  constructor(private readonly d: CertifierDeps) {
    if (!d.keys.material || !d.keys.signer) throw new Error('the certifier needs the DCC signing key')
    this.pool = new SigningPool(d.config.workerThreads)
    this.labNames = new LabNames(d.pg)
  }

  async start(): Promise<void> {
    const consumer = await this.d.js.consumers.get(this.d.topology.resultsStream, this.d.topology.certifierDurable)
    this.loop = await consumeInBatches(consumer, this.d.config.certifierBatch, (batch) => this.handle(batch), (err) =>
      this.d.telemetry.retrying('certifier', 'UNEXPECTED', { err: (err as Error)?.message }),
    )
  }

  async stop(): Promise<void> {
    await this.loop?.stop()
    this.loop = null
    await this.pool.destroy()
  }

  private async handle(msgs: JsMsg[]): Promise<void> {
    const good: Array<{ msg: JsMsg; records: ResultRecord[] }> = []
    for (const msg of msgs) {
      try {
        good.push({ msg, records: decodeResultsMessage(msg.data) })
      } catch (err) {
        await this.fail(msg, err instanceof SidepError ? err : new PoisonError('RESULTS_UNREADABLE', (err as Error).message), true)
      }
    }
    if (!good.length) return
    try {
      await this.certify(good.flatMap((g) => g.records))
    } catch (err) {
      if (err instanceof RetriableError) {
        this.d.telemetry.retrying('certifier', err.code, { messages: good.length })
        for (const g of good) g.msg.nak(RETRY_DELAY_MS)
        return
      }
      // bad data somewhere: isolate it message by message
      for (const g of good) {
        try {
          await this.certify(g.records)
          g.msg.ack()
        } catch (one) {
          if (one instanceof RetriableError) g.msg.nak(RETRY_DELAY_MS)
          else await this.fail(g.msg, one instanceof SidepError ? one : new PoisonError('CERTIFIER_FAILED', String(one), one))
        }
      }
      return
    }
    for (const g of good) g.msg.ack()
  }

  /** Decide, sign, write. Throws RetriableError or PoisonError (SidepError) on failure. */
  private async certify(records: ResultRecord[]): Promise<void> {
    const started = performance.now()
    // the latest version of each result in this batch; older ones change nothing the latest does not
    const latest = new Map<string, ResultRecord>()
    for (const r of records) {
      const seen = latest.get(r.resultId)
      if (!seen || r.version > seen.version) latest.set(r.resultId, r)
    }
    const labIds = new Set<string>()
    for (const r of latest.values()) labIds.add(r.result.labId)
    const plan = this.plan(latest, await this.labNames.load(labIds))
    const issued: IssuedCertificate[] = []
    if (plan.toSign.length) {
      const t0 = performance.now()
      let signed: { kid: string; hc1: string[] }
      try {
        signed = await this.pool.sign(this.d.keys.material!, this.d.config.dccCountry, plan.toSign.map((s) => s.item))
      } catch (err) {
        throw new RetriableError('DCC_SIGNING_FAILED', `signing workers failed: ${(err as Error).message}`, err)
      }
      this.d.telemetry.certificatesSigned(plan.toSign.length, (performance.now() - t0) / 1000)
      plan.toSign.forEach((s, i) => {
        issued.push({
          resultId: s.record.resultId,
          version: s.record.version,
          labId: s.record.result.labId,
          ci: s.ci,
          ciHash: uciHash(s.ci),
          hc1: signed.hc1[i],
          kid: signed.kid,
          iat: s.item.iat,
          exp: s.item.exp,
        })
      })
    }
    const outcome = await writeCertificates(this.d.pg, plan.resultIds, issued, plan.skipped)
    const skippedByReason: Record<string, number> = {}
    for (const s of plan.skipped) skippedByReason[s.reason] = (skippedByReason[s.reason] ?? 0) + 1
    this.d.telemetry.certificatesCommitted(outcome.issued, outcome.revoked, outcome.skipped ? skippedByReason : {}, (performance.now() - started) / 1000)
  }

  private plan(latest: Map<string, ResultRecord>, labNames: ReadonlyMap<string, string>): Plan {
    const { config, keys } = this.d
    const signer = keys.signer!
    const nowMs = Date.now()
    if (nowMs >= signer.notAfterMs) throw new RetriableError('DCC_SIGNER_EXPIRED', 'the DCC signing certificate has expired: install a new one (see README, rotation)')
    const iat = Math.floor(nowMs / 1000)
    const plan: Plan = { resultIds: [], toSign: [], skipped: [] }
    for (const record of latest.values()) {
      plan.resultIds.push(record.resultId)
      if (record.state === 'cancelled') {
        plan.skipped.push({ resultId: record.resultId, version: record.version, reason: 'CANCELLED' })
        continue
      }
      const ci = makeUvci(config.dccCountry)
      const built = buildTestPayload(record.result, {
        issuer: config.dccIssuer,
        uvci: ci,
        testingCentre: labNames.get(record.result.labId)?.trim() || config.dccTestingCentre || undefined,
        country: config.dccCountry,
      })
      if (!built.eligible) {
        plan.skipped.push({ resultId: record.resultId, version: record.version, reason: built.reason })
        continue
      }
      const exp = testCertificateExpiry(record.result.sampledAtMs, signer.notAfterMs, config.dccValidityHours)
      if (exp <= iat) {
        // a certificate that no verifier would accept is not issued (sample older than the validity period)
        plan.skipped.push({ resultId: record.resultId, version: record.version, reason: 'VALIDITY_ELAPSED' })
        continue
      }
      plan.toSign.push({ record, ci, item: { payload: built.payload, iat, exp } })
    }
    return plan
  }

  private fail(msg: JsMsg, err: SidepError, immediately = false): Promise<void> {
    return retryOrDeadLetter({ js: this.d.js, topology: this.d.topology, telemetry: this.d.telemetry, maxAttempts: this.d.config.maxAttempts }, 'certifier', msg, err, immediately)
  }
}
