/**
 * What the processor publishes once PostgreSQL has committed a batch: identified records on RESULTS
 * (msgpack), pseudonymised facts on FEED (JSON, the agencies' schema), per-item outcomes on the lab's status
 * subject, and dead-letter entries. RESULTS and FEED messages are grouped per committed batch and
 * department (buildOutputs); lab statuses stay per INGEST message (one submission, one lab).
 */
import { createHash } from 'node:crypto'
import type { ProcessedMessage } from '../../workers/ingest-task.ts'
import type { ResultFact } from '../../workers/fact.ts'
import type { Topology } from '../subjects.ts'
import { outcomeKey, type ItemOutcome } from '../sinks/postgres-apply.ts'
import { MsgpackWriter } from './msgpack-writer.ts'

/** A FEED record (schema `sidep.feed.pseudo/v1`, documented in the README). */
export interface FeedRecord extends ResultFact {
  schema: 'sidep.feed.pseudo/v1'
  factId: string
  version: number
  state: 'final' | 'corrected' | 'cancelled'
}

export interface OutgoingMessage {
  subject: string
  data: Uint8Array
  msgID?: string
}

export interface LabStatusItem {
  index: number
  status: string
  resultId: string | null
  error: { code: string; field: string; message: string } | null
}

export function publicSubmissionId(internal: string): string {
  return internal.slice(internal.indexOf(':') + 1)
}

const EFFECTIVE = new Set(['stored', 'corrected', 'cancelled'])

/** Per INGEST message: the subject of its lab and what each item became. */
export interface LabStatus {
  message: ProcessedMessage
  items: LabStatusItem[]
}

/**
 * Every RESULTS and FEED message of a committed batch, one per subject (region.department) for the whole
 * batch rather than per INGEST message: a pulled batch of ~1,000 results spread over ~100 departments made
 * ~1,000 publishes, now ~200. `batchId` names the batch's composition (batchIdOf), so a batch redelivered
 * whole republishes the same Nats-Msg-Ids; one redelivered in another grouping publishes copies that the
 * sinks' idempotence (result id + version) absorbs.
 */
export function buildOutputs(t: Topology, batch: readonly ProcessedMessage[], outcomes: Map<string, ItemOutcome>, batchId: string): { messages: OutgoingMessage[]; statuses: LabStatus[] } {
  const groups = new Map<string, Group>()
  const statuses: LabStatus[] = []
  for (let mi = 0; mi < batch.length; mi++) {
    const m = batch[mi]
    const a = m.accepted
    const status: LabStatusItem[] = []
    for (let i = 0; i < a.index.length; i++) {
      const index = a.index[i]
      const o = outcomes.get(outcomeKey(m.submissionId, index))
      status.push({ index, status: o?.status ?? 'pending', resultId: o?.resultId ?? null, error: null })
      if (!o || !o.resultId || o.version === null || o.state === null) continue
      // a replayed item is republished with its first outcome; the stream dedup and the ReplacingMergeTree
      // version make the second copy harmless
      if (!EFFECTIVE.has(o.status)) continue
      let g = groups.get(a.place[i])
      if (!g) groups.set(a.place[i], (g = { message: [], item: [], outcome: [], feed: [] }))
      g.message.push(mi)
      g.item.push(i)
      g.outcome.push(o)
      // the FEED record: outcome fields, then the fact the worker serialised (resultId is a UUID and state
      // one of three words: nothing to escape)
      g.feed.push(`{"schema":"sidep.feed.pseudo/v1","factId":"${o.resultId}","version":${o.version},"state":"${o.state}",${a.fact[i]}`)
    }
    for (const r of m.rejected) {
      for (const e of r.errors.slice(0, 1)) status.push({ index: r.index, status: 'rejected', resultId: null, error: e })
    }
    status.sort((x, y) => x.index - y.index)
    statuses.push({ message: m, items: status })
  }
  const results: OutgoingMessage[] = []
  const feed: OutgoingMessage[] = []
  for (const [key, g] of groups) {
    const dot = key.indexOf('.')
    const region = key.slice(0, dot)
    const department = key.slice(dot + 1)
    results.push({ subject: t.results(region, department), data: resultsMessage(batch, g), msgID: `r:${batchId}:${key}` })
    feed.push({ subject: t.feed(region, department), data: Buffer.from(`[${g.feed.join(',')}]`), msgID: `f:${batchId}:${key}` })
  }
  return { messages: results.concat(feed), statuses }
}

/** The effective items of one department in a batch. */
interface Group {
  message: number[]
  item: number[]
  outcome: ItemOutcome[]
  feed: string[]
}

const writer = new MsgpackWriter()

/**
 * A RESULTS message: an array of maps {resultId, version, state, patientId, submissionId, index, result}
 * (the certifier's decodeResultsMessage), each map written around the result bytes the worker encoded.
 */
function resultsMessage(batch: readonly ProcessedMessage[], g: Group): Uint8Array {
  writer.reset()
  writer.arrayHeader(g.item.length)
  for (let k = 0; k < g.item.length; k++) {
    const m = batch[g.message[k]]
    const a = m.accepted
    const i = g.item[k]
    const o = g.outcome[k]
    writer.mapHeader(7)
    writer.str('resultId').str(o.resultId as string)
    writer.str('version').uint(o.version as number)
    writer.str('state').str(o.state as string)
    writer.str('patientId')
    if (o.patientId === null) writer.nil()
    else writer.str(o.patientId)
    writer.str('submissionId').str(publicSubmissionId(m.submissionId))
    writer.str('index').uint(a.index[i])
    writer.str('result').raw(a.results, i === 0 ? 0 : a.resultEnds[i - 1], a.resultEnds[i])
  }
  return writer.bytes()
}

/**
 * A name for a batch's composition: its INGEST messages (submission id and stream sequence, in order),
 * hashed. Same messages in the same order, same name.
 */
export function batchIdOf(batch: readonly ProcessedMessage[]): string {
  const h = createHash('sha256')
  for (const m of batch) h.update(`${m.submissionId}\n${m.seq}\n`)
  return h.digest('base64url').slice(0, 24)
}
