/**
 * Admission of one lab submission, whatever door it came through (HTTP body, streamed CSV, MLLP frame):
 * parse and validate in the worker pool, publish the validated results to INGEST as authenticated envelopes
 * (workers/envelope.ts; each with a Nats-Msg-Id, so a retried publish is stored once), record the submission so its status reads 'pending'
 * at once. Resolves only once JetStream has stored every envelope.
 */
import { randomUUID } from 'node:crypto'
import type { Readable } from 'node:stream'
import { headers as natsHeaders, type JetStreamClient } from 'nats'
import type { SidepConfig } from '../config.ts'
import type { Topology } from '../subjects.ts'
import type { PgPool } from '../postgres/pool.ts'
import type { WorkerPool } from '../workers-pool.ts'
import type { Telemetry } from '../telemetry.ts'
import { RequestError } from '../errors.ts'
import { ENVELOPE_AUTH_HEADER, ENVELOPE_HEADER, type EnvelopeChunk } from '../../workers/envelope.ts'
import type { AdmitFormat, AdmitOutcome, RejectedItem } from '../../workers/ingest-task.ts'
import type { ItemError } from '../../workers/model/canonical.ts'
import { parseCsvStream } from '../../workers/parse/csv.ts'
import { decodeToUtf8 } from '../../workers/parse/charset.ts'

export interface IngestDeps {
  config: SidepConfig
  topology: Topology
  js: JetStreamClient
  pg: PgPool
  workers: WorkerPool
  telemetry: Telemetry
}

export type Channel = 'http' | 'mllp'

export interface Admission {
  submissionId: string
  /** the whole input could not be read: nothing was published */
  malformed?: ItemError
  itemCount: number
  accepted: number
  rejected: RejectedItem[]
  acks?: string[]
  operationOutcome?: unknown
}

async function runAdmit(d: IngestDeps, task: Parameters<WorkerPool['admit']>[0]): Promise<AdmitOutcome> {
  try {
    return await d.workers.admit(task)
  } catch (err) {
    if (/queue is at limit/i.test((err as Error).message)) throw new RequestError('OVERLOADED', 503, 'the platform is busy, retry shortly')
    throw err
  }
}

async function publishChunks(d: IngestDeps, labId: string, internalId: string, chunks: EnvelopeChunk[], firstChunk: number): Promise<void> {
  try {
    await Promise.all(chunks.map((chunk, k) => {
      const h = natsHeaders()
      h.set(ENVELOPE_HEADER, chunk.version)
      // the tag that lets the processor trust the validated results (workers/envelope.ts)
      if (chunk.auth) h.set(ENVELOPE_AUTH_HEADER, chunk.auth)
      return d.js.publish(d.topology.ingest(labId), chunk.data, { msgID: `${internalId}#${firstChunk + k}`, headers: h })
    }))
  } catch (err) {
    d.telemetry.log.error({ event: 'ingest_publish_failed', submissionId: internalId, err: (err as Error).message })
    throw new RequestError('INGEST_UNAVAILABLE', 503, 'the results could not be stored durably; send the same submission again')
  }
}

/** Lets GET /v1/submissions/:id answer 'pending' at once; the processor inserts the row too if this fails. */
async function recordSubmission(d: IngestDeps, internalId: string, labId: string, channel: Channel, format: string, itemCount: number, receivedAt: number): Promise<void> {
  await d.pg
    .query(
      `INSERT INTO submissions (submission_id, lab_id, source, format, item_count, received_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (submission_id) DO UPDATE SET item_count = GREATEST(submissions.item_count, EXCLUDED.item_count)`,
      [internalId, labId, channel, format, itemCount, new Date(receivedAt).toISOString()],
    )
    .catch((err) => d.telemetry.log.warn({ event: 'submission_record_failed', submissionId: internalId, err: (err as Error).message }))
}

function account(d: IngestDeps, channel: Channel, submissionId: string, labId: string, a: { itemCount: number; accepted: number; rejected: RejectedItem[] }): void {
  d.telemetry.submissionReceived(channel === 'mllp' ? 'mllp' : 'http', submissionId, labId, a.itemCount, a.accepted)
  d.telemetry.itemsRejected(a.rejected.map((r) => r.code))
}

/** A whole body in memory: JSON, HL7 v2 (one or many messages) or a FHIR Bundle. */
export async function admitBody(d: IngestDeps, labId: string, format: Exclude<AdmitFormat, 'csv'>, body: Uint8Array, channel: Channel): Promise<Admission> {
  const submissionId = randomUUID()
  const internalId = `${labId}:${submissionId}`
  const receivedAt = Date.now()
  const out = await runAdmit(d, { labId, submissionId: internalId, receivedAt, now: receivedAt, format, channel, body, maxItems: d.config.maxItems, chunkItems: d.config.ingestChunkItems })
  if (out.kind === 'malformed') {
    d.telemetry.itemsRejected([out.error.code])
    return { submissionId, malformed: out.error, itemCount: 0, accepted: 0, rejected: [], acks: out.acks }
  }
  account(d, channel, submissionId, labId, out)
  if (out.accepted > 0) {
    await Promise.all([publishChunks(d, labId, internalId, out.chunks, 0), recordSubmission(d, internalId, labId, channel, format, out.itemCount, receivedAt)])
  }
  return { submissionId, itemCount: out.itemCount, accepted: out.accepted, rejected: out.rejected, acks: out.acks, operationOutcome: out.operationOutcome }
}

/**
 * A CSV upload, streamed: rows are parsed in batches as they arrive and each batch is validated and
 * published before the next is read, so memory holds one batch, not the file. Rejected rows are reported
 * by spreadsheet row (index = row − 2). A wrong header rejects the whole upload and publishes nothing.
 */
export async function admitCsvStream(d: IngestDeps, labId: string, body: Readable, maxRows: number): Promise<Admission> {
  const submissionId = randomUUID()
  const internalId = `${labId}:${submissionId}`
  const receivedAt = Date.now()
  const total: Admission = { submissionId, itemCount: 0, accepted: 0, rejected: [] }
  let chunkNo = 0
  // UTF-8, or Windows-1252 as old Excel versions export it (workers/parse/charset.ts)
  for await (const batch of parseCsvStream(decodeToUtf8(body), { batchSize: d.config.ingestChunkItems })) {
    const header = batch.errors.find((e) => e.code === 'BAD_HEADER')
    if (header && total.itemCount === 0 && batch.items.length === 0) {
      body.resume() // drain the rest of the upload so the client receives the answer
      return { ...total, malformed: { code: 'BAD_HEADER', field: header.field, message: header.message } }
    }
    const out = await runAdmit(d, { labId, submissionId: internalId, receivedAt, now: Date.now(), format: 'csv', channel: 'http', parsed: batch, maxItems: d.config.ingestChunkItems, chunkItems: d.config.ingestChunkItems })
    if (out.kind === 'malformed') throw new RequestError(out.error.code, 400, out.error.message)
    if (out.itemCount > maxRows) {
      body.resume()
      throw new RequestError('TOO_MANY_ROWS', 413, `a CSV upload holds at most ${maxRows} rows; rows before row ${maxRows + 2} were accepted`)
    }
    // rejected rows travel in envelopes too, so the processor records their statuses: a CSV's validity is
    // known only at its end, after earlier batches were published
    await publishChunks(d, labId, internalId, out.chunks, chunkNo)
    chunkNo += out.chunks.length
    total.itemCount = out.itemCount
    total.accepted += out.accepted
    total.rejected.push(...out.rejected)
  }
  account(d, 'http', submissionId, labId, total)
  if (chunkNo > 0) await recordSubmission(d, internalId, labId, 'http', 'csv', total.itemCount, receivedAt)
  return total
}
