/**
 * The processor role: INGEST (durable pull consumer, adaptive batches) → worker pool (validate, normalise,
 * pseudonymise) → PostgreSQL (one transaction per batch: match, dedup, version) → RESULTS, FEED, lab status
 * and dead letters → ack. A message is acked only after all of that is durable, so a crash at any point
 * redelivers it and the idempotent apply replays the first outcome (DESIGN.md, "Reliability model").
 */
import { type JetStreamClient, type JsMsg, type NatsConnection } from 'nats'
import type { SidepConfig } from '../config.ts'
import type { Topology } from '../subjects.ts'
import type { PgPool } from '../postgres/pool.ts'
import type { WorkerPool } from '../workers-pool.ts'
import type { Telemetry } from '../telemetry.ts'
import { PoisonError, RetriableError, SidepError } from '../errors.ts'
import { retryOrDeadLetter, RETRY_DELAY_MS } from '../nats/dead-letter.ts'
import { consumeInBatches, type BatchLoop } from '../nats/batch-consumer.ts'
import { applyToPostgres } from '../sinks/postgres-apply.ts'
import { batchIdOf, buildOutputs, publicSubmissionId, type OutgoingMessage } from './outputs.ts'
import { BatchPublisher } from '../nats/batch-publisher.ts'
import { ENVELOPE_AUTH_HEADER, ENVELOPE_HEADER, ENVELOPE_VERSION, TRUSTED_ENVELOPE_VERSION } from '../../workers/envelope.ts'
import type { IngestMessage, ProcessedMessage } from '../../workers/ingest-task.ts'


/** The SQLSTATE or code behind a wrapped store error, for the retry log line (never its message: data). */
function causeOf(err: SidepError): string | undefined {
  const c = (err.cause as { code?: unknown } | undefined)?.code
  return typeof c === 'string' ? c : undefined
}

/**
 * A message's payload is a view into the connection's read buffer; a view is cloned to the worker with its
 * whole underlying buffer (HTML structured clone serialises the ArrayBuffer, then the view), so a payload
 * that does not own its buffer is copied to one that fits.
 */
function exactCopy(data: Uint8Array): Uint8Array {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : (Uint8Array.prototype.slice.call(data) as Uint8Array)
}

export interface ProcessorDeps {
  config: SidepConfig
  topology: Topology
  nc: NatsConnection
  js: JetStreamClient
  pg: PgPool
  workers: WorkerPool
  telemetry: Telemetry
}

export class Processor {
  private loop: BatchLoop | null = null
  private publisher: BatchPublisher | null = null
  private streamTag = ''
  /** The commit stage of the previous batch: the workers stage of the next batch runs while it commits. */
  private committing: Promise<void> = Promise.resolve()

  constructor(private readonly d: ProcessorDeps) {}

  async start(): Promise<void> {
    const jsm = await this.d.nc.jetstreamManager()
    // plain NATS submissions are named after the stream's creation time and the message sequence: stable
    // across redeliveries, unique even if the stream is recreated
    const info = await jsm.streams.info(this.d.topology.ingestStream)
    this.streamTag = Date.parse(info.created).toString(36)
    const consumer = await this.d.js.consumers.get(this.d.topology.ingestStream, this.d.topology.processorDurable)
    this.publisher = new BatchPublisher(this.d.nc)
    const limits = { maxMessages: this.d.config.processorBatch, maxBytes: this.d.config.processorBatchBytes }
    this.loop = await consumeInBatches(consumer, limits, (batch) => this.handle(batch), (err) =>
      this.d.telemetry.retrying('processor', 'UNEXPECTED', { err: (err as Error)?.message }),
    )
  }

  async stop(): Promise<void> {
    await this.loop?.stop()
    await this.committing
    this.loop = null
    this.publisher?.close()
    this.publisher = null
  }

  private toIngestMessage(m: JsMsg, labId: string): IngestMessage {
    const version = m.headers?.get(ENVELOPE_HEADER)
    const trusted = version === TRUSTED_ENVELOPE_VERSION
    return {
      seq: m.seq,
      labId,
      fallbackSubmissionId: `${labId}:n${this.streamTag}-${m.seq}`,
      envelope: trusted || version === ENVELOPE_VERSION,
      trusted,
      auth: trusted ? m.headers?.get(ENVELOPE_AUTH_HEADER) || undefined : undefined,
      data: exactCopy(m.data),
      receivedAt: Math.floor(m.info.timestampNanos / 1e6),
    }
  }

  /** Splits the batch across the pool's threads; a task that fails is retried message by message. */
  private async runWorkers(batch: Array<{ msg: JsMsg; input: IngestMessage }>): Promise<Array<{ msg: JsMsg; out: ProcessedMessage }>> {
    const now = Date.now()
    const parts = Math.min(this.d.workers.threads, batch.length)
    const size = Math.ceil(batch.length / parts)
    const slices: Array<typeof batch> = []
    for (let i = 0; i < batch.length; i += size) slices.push(batch.slice(i, i + size))
    const settled = await Promise.allSettled(slices.map((s) => this.d.workers.process({ now, messages: s.map((b) => b.input) })))
    const done: Array<{ msg: JsMsg; out: ProcessedMessage }> = []
    for (let i = 0; i < slices.length; i++) {
      const r = settled[i]
      if (r.status === 'fulfilled') {
        r.value.forEach((out, j) => done.push({ msg: slices[i][j].msg, out }))
        continue
      }
      for (const one of slices[i]) {
        try {
          const [out] = await this.d.workers.process({ now, messages: [one.input] })
          done.push({ msg: one.msg, out })
        } catch (err) {
          await this.fail(one.msg, new PoisonError('WORKER_FAILED', `worker failed on this message: ${(err as Error).message}`, err))
        }
      }
    }
    return done
  }

  private async handle(msgs: JsMsg[]): Promise<void> {
    const started = performance.now()
    const batch: Array<{ msg: JsMsg; input: IngestMessage }> = []
    for (const msg of msgs) {
      const labId = this.d.topology.labOfIngestSubject(msg.subject)
      if (labId === null) {
        await this.fail(msg, new PoisonError('BAD_SUBJECT', 'ingest subject does not name a valid lab id'), true)
        continue
      }
      batch.push({ msg, input: this.toIngestMessage(msg, labId) })
    }
    if (!batch.length) return
    const processed = await this.runWorkers(batch)
    if (!processed.length) return
    this.d.telemetry.stageTimed('workers', processed.reduce((n, p) => n + p.out.pgRows.length, 0), (performance.now() - started) / 1000)
    // two batches in flight at most: this one's workers stage overlapped the previous one's commit, which
    // must finish first (commit order = arrival order) before this one starts committing
    await this.committing
    this.committing = this.commitStage(processed)
  }

  /** Never rejects: every failure ends in a nak, a retry or a dead letter for the messages concerned. */
  private async commitStage(processed: Array<{ msg: JsMsg; out: ProcessedMessage }>): Promise<void> {
    try {
      await this.commit(processed)
    } catch (err) {
      if (err instanceof RetriableError) {
        this.d.telemetry.retrying('processor', err.code, { messages: processed.length, cause: causeOf(err) })
        for (const p of processed) p.msg.nak(RETRY_DELAY_MS)
        return
      }
      // bad data somewhere in the batch: isolate it by committing message by message
      for (const p of processed) {
        try {
          await this.commit([p])
        } catch (one) {
          if (one instanceof RetriableError) p.msg.nak(RETRY_DELAY_MS)
          else await this.fail(p.msg, one instanceof SidepError ? one : new PoisonError('PROCESSOR_FAILED', String(one), one))
        }
      }
    }
  }

  /** PostgreSQL, then every output, then the acks. */
  private async commit(processed: Array<{ msg: JsMsg; out: ProcessedMessage }>): Promise<void> {
    const t0 = performance.now()
    const outs = processed.map((p) => p.out)
    const outcomes = await applyToPostgres(this.d.pg, outs)
    const counts: Record<string, number> = {}
    for (const o of outcomes.values()) if (!o.replay) counts[o.status] = (counts[o.status] ?? 0) + 1
    this.d.telemetry.batchCommitted('postgres', counts, outcomes.size, (performance.now() - t0) / 1000)

    const t = this.d.topology
    const { messages, statuses } = buildOutputs(t, outs, outcomes, batchIdOf(outs))
    for (const { msg, out } of processed) for (const dl of this.deadLettersFor(out, msg.data)) messages.push(dl)
    const published = this.publishAll(messages)
    for (const { message: out, items } of statuses) {
      if (out.source === 'nats') {
        this.d.telemetry.submissionReceived('nats', publicSubmissionId(out.submissionId), out.labId, out.itemCount, out.accepted.index.length)
        this.d.telemetry.itemsRejected(out.rejected.flatMap((r) => r.errors.map((e) => e.code)))
      }
      this.d.nc.publish(t.labStatus(out.labId), JSON.stringify({ submissionId: publicSubmissionId(out.submissionId), items }))
    }
    try {
      await published
    } catch (err) {
      throw new RetriableError('NATS_PUBLISH_FAILED', `publishing outputs failed: ${(err as Error).message}`, err)
    }
    for (const { msg } of processed) msg.ack()
  }

  /** Plain NATS input that was unreadable or invalid reached a stream: it gets a dead-letter entry. */
  private deadLettersFor(out: ProcessedMessage, raw: Uint8Array): OutgoingMessage[] {
    const t = this.d.topology
    if (out.unreadable) {
      this.d.telemetry.deadLettered('parse', out.unreadable.code, { submissionId: publicSubmissionId(out.submissionId), labId: out.labId })
      return [{
        subject: t.dlq('parse'),
        data: Buffer.from(JSON.stringify({ stage: 'parse', labId: out.labId, submissionId: publicSubmissionId(out.submissionId), ingestSeq: out.seq, error: out.unreadable, data: Buffer.from(raw).toString('base64') })),
        msgID: `dlq:parse:${out.submissionId}`,
      }]
    }
    // items the gateway rejected were answered to the lab synchronously; plain NATS items were not
    if (out.source !== 'nats') return []
    return out.rejected.map((r) => {
      this.d.telemetry.deadLettered('validate', r.errors[0]?.code ?? 'INVALID', { submissionId: publicSubmissionId(out.submissionId), index: r.index })
      return {
        subject: t.dlq('validate'),
        data: Buffer.from(JSON.stringify({ stage: 'validate', labId: out.labId, submissionId: publicSubmissionId(out.submissionId), ingestSeq: out.seq, index: r.index, errors: r.errors, item: r.item })),
        msgID: `dlq:validate:${out.submissionId}:${r.index}`,
      }
    })
  }

  private publishAll(messages: OutgoingMessage[]): Promise<void> {
    if (!this.publisher) return Promise.reject(new Error('processor is not started'))
    return this.publisher.publishAll(messages)
  }

  /**
   * A message that failed on its own data: retried with a delay up to maxAttempts deliveries, then
   * dead-lettered with its error and acked, so it never blocks the stream.
   */
  private fail(msg: JsMsg, err: SidepError, immediately = false): Promise<void> {
    return retryOrDeadLetter({ js: this.d.js, topology: this.d.topology, telemetry: this.d.telemetry, maxAttempts: this.d.config.maxAttempts }, 'processor', msg, err, immediately)
  }
}
