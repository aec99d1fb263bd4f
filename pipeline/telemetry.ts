/**
 * Observable events: one method per event writes both the log line and the metric, so the two never
 * disagree. Labels are bounded enums (source, stage, sink, error code), never lab or patient values.
 */
import { Registry, Counter, Histogram, Gauge, collectDefaultMetrics } from 'prom-client'
import type { Logger } from './log.ts'
import type { ThreadMemory } from '../workers/pool-tasks.ts'

const BATCH_BUCKETS = [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export class Telemetry {
  readonly registry = new Registry()
  readonly log: Logger
  private readonly received: Counter<'source'>
  private readonly accepted: Counter<'source'>
  private readonly rejected: Counter<'code'>
  private readonly stored: Counter<'sink' | 'outcome'>
  private readonly batchSize: Histogram<'stage'>
  private readonly stageSeconds: Histogram<'stage'>
  private readonly deadLetters: Counter<'stage' | 'code'>
  private readonly retries: Counter<'stage' | 'code'>
  readonly consumerLag: Gauge<'consumer'>
  private readonly certificatesIssued: Counter
  private readonly certificatesRevoked: Counter<'reason'>
  private readonly certificatesSkipped: Counter<'reason'>
  private readonly dccVerifications: Counter<'outcome'>
  private threadMemorySource: (() => Promise<ThreadMemory[]>) | null = null

  constructor(log: Logger) {
    this.log = log
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'sidep_' })
    this.received = new Counter({ name: 'sidep_items_received_total', help: 'Result items received', labelNames: ['source'], registers })
    this.accepted = new Counter({ name: 'sidep_items_accepted_total', help: 'Result items accepted into INGEST', labelNames: ['source'], registers })
    this.rejected = new Counter({ name: 'sidep_items_rejected_total', help: 'Result items rejected, by error code', labelNames: ['code'], registers })
    this.stored = new Counter({ name: 'sidep_items_stored_total', help: 'Result items committed per sink and outcome', labelNames: ['sink', 'outcome'], registers })
    this.batchSize = new Histogram({ name: 'sidep_batch_size', help: 'Items per batch, per stage', labelNames: ['stage'], buckets: BATCH_BUCKETS, registers })
    this.stageSeconds = new Histogram({ name: 'sidep_stage_seconds', help: 'Time spent per batch, per stage', labelNames: ['stage'], buckets: SECONDS_BUCKETS, registers })
    this.deadLetters = new Counter({ name: 'sidep_dead_letters_total', help: 'Messages sent to a dead-letter subject', labelNames: ['stage', 'code'], registers })
    this.retries = new Counter({ name: 'sidep_retries_total', help: 'Batches or messages retried after a retriable failure', labelNames: ['stage', 'code'], registers })
    this.consumerLag = new Gauge({ name: 'sidep_consumer_lag', help: 'Messages waiting for a durable consumer', labelNames: ['consumer'], registers })
    this.certificatesIssued = new Counter({ name: 'sidep_certificates_issued_total', help: 'EU DCC test certificates issued', registers })
    this.certificatesRevoked = new Counter({ name: 'sidep_certificates_revoked_total', help: 'EU DCC test certificates revoked, by reason (superseded, cancelled)', labelNames: ['reason'], registers })
    this.certificatesSkipped = new Counter({ name: 'sidep_certificates_skipped_total', help: 'Results that get no certificate, by reason', labelNames: ['reason'], registers })
    this.dccVerifications = new Counter({ name: 'sidep_dcc_verifications_total', help: 'HC1 verifications served, by outcome (valid or the failing step)', labelNames: ['outcome'], registers })
    // the main thread's heap, spaces, external memory and RSS are the default metrics above; the worker
    // threads' isolates are invisible to them, so each thread answers a probe task at scrape time
    const telemetry = this
    new Gauge({
      name: 'sidep_thread_memory_bytes',
      help: 'Worker thread memory by thread id and kind: heap_total, heap_used, external, array_buffers (libsodium wasm memory among them), space_<v8 space> (space_new = young generation)',
      labelNames: ['thread', 'kind'],
      registers,
      async collect() {
        const source = telemetry.threadMemorySource
        if (!source) return
        const stats = await source().catch(() => [] as ThreadMemory[])
        this.reset()
        for (const m of stats) {
          const thread = String(m.threadId)
          this.set({ thread, kind: 'heap_total' }, m.heapTotal)
          this.set({ thread, kind: 'heap_used' }, m.heapUsed)
          this.set({ thread, kind: 'external' }, m.external)
          this.set({ thread, kind: 'array_buffers' }, m.arrayBuffers)
          for (const [space, bytes] of Object.entries(m.spaces)) this.set({ thread, kind: `space_${space}` }, bytes)
        }
      },
    })
  }

  /** Where sidep_thread_memory_bytes reads the worker threads' figures (the platform's thread pool). */
  watchThreads(source: () => Promise<ThreadMemory[]>): void {
    this.threadMemorySource = source
  }

  submissionReceived(source: 'http' | 'nats' | 'mllp', submissionId: string, labId: string, items: number, accepted: number): void {
    this.received.inc({ source }, items)
    this.accepted.inc({ source }, accepted)
    this.log.debug({ event: 'submission_received', source, submissionId, labId, items, accepted })
  }

  itemsRejected(codes: readonly string[]): void {
    for (const code of codes) this.rejected.inc({ code })
  }

  batchCommitted(sink: 'postgres' | 'clickhouse', outcomes: Readonly<Record<string, number>>, items: number, seconds: number): void {
    for (const [outcome, n] of Object.entries(outcomes)) if (n > 0) this.stored.inc({ sink, outcome }, n)
    this.batchSize.observe({ stage: sink }, items)
    this.stageSeconds.observe({ stage: sink }, seconds)
    this.log.debug({ event: 'batch_committed', sink, items, outcomes, ms: Math.round(seconds * 1000) })
  }

  stageTimed(stage: string, items: number, seconds: number): void {
    this.batchSize.observe({ stage }, items)
    this.stageSeconds.observe({ stage }, seconds)
  }

  deadLettered(stage: string, code: string, detail: Record<string, unknown>): void {
    this.deadLetters.inc({ stage, code })
    this.log.warn({ event: 'dead_lettered', stage, code, ...detail })
  }

  /** One signing round of the certifier: the batch size and the time spent in the signing workers. */
  certificatesSigned(items: number, seconds: number): void {
    this.batchSize.observe({ stage: 'dcc_sign' }, items)
    this.stageSeconds.observe({ stage: 'dcc_sign' }, seconds)
    this.log.debug({ event: 'certificates_signed', items, ms: Math.round(seconds * 1000) })
  }

  /** A certifier batch committed: counts only (no ci, no name: a ci identifies a certificate holder's test). */
  certificatesCommitted(issued: number, revoked: Readonly<Record<string, number>>, skipped: Readonly<Record<string, number>>, seconds: number): void {
    if (issued > 0) this.certificatesIssued.inc(issued)
    for (const [reason, n] of Object.entries(revoked)) if (n > 0) this.certificatesRevoked.inc({ reason }, n)
    for (const [reason, n] of Object.entries(skipped)) if (n > 0) this.certificatesSkipped.inc({ reason }, n)
    this.stageSeconds.observe({ stage: 'certifier' }, seconds)
    this.log.debug({ event: 'certificates_committed', issued, revoked, skipped, ms: Math.round(seconds * 1000) })
  }

  dccVerified(outcome: string): void {
    this.dccVerifications.inc({ outcome })
  }

  retrying(stage: string, code: string, detail: Record<string, unknown>): void {
    this.retries.inc({ stage, code })
    this.log.warn({ event: 'retrying', stage, code, ...detail })
  }
}
