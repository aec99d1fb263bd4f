/**
 * What the processor publishes once PostgreSQL has committed a batch: identified records on RESULTS
 * (msgpack), pseudonymised facts on FEED (JSON, the agencies' schema), per-item outcomes on the lab's status
 * subject, and dead-letter entries. RESULTS and FEED messages are grouped per committed batch and
 * department (buildOutputs); lab statuses stay per INGEST message (one submission, one lab).
 */
import { createHash } from 'node:crypto'
import { Packr } from 'msgpackr'
import type { ProcessedMessage } from '../../workers/ingest-task.ts'
import type { ResultFact } from '../../workers/fact.ts'
import type { Topology } from '../subjects.ts'
import { outcomeKey, type ItemOutcome } from '../sinks/postgres-apply.ts'

const packr = new Packr({ useRecords: false })

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

/** Residence → subject tokens: French residence by region and department, else 'foreign.<country>' or 'unknown.none'. */
export function placeTokens(department: string | null, region: string | null, country: string): [string, string] {
  if (department && region) return [region, department]
  if (country && country !== 'FR' && /^[A-Z]{2}$/.test(country)) return ['foreign', country]
  return ['unknown', 'none']
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
  const results = new Map<string, unknown[]>()
  const feed = new Map<string, FeedRecord[]>()
  const statuses: LabStatus[] = []
  for (const m of batch) {
    const publicId = publicSubmissionId(m.submissionId)
    const status: LabStatusItem[] = []
    for (const item of m.items) {
      const o = outcomes.get(outcomeKey(m.submissionId, item.index))
      status.push({ index: item.index, status: o?.status ?? 'pending', resultId: o?.resultId ?? null, error: null })
      if (!o || !o.resultId || o.version === null || o.state === null) continue
      // a replayed item is republished with its first outcome; the stream dedup and the ReplacingMergeTree
      // version make the second copy harmless
      if (!EFFECTIVE.has(o.status)) continue
      const r = item.result
      const [region, department] = placeTokens(r.residence.department, r.residence.region, r.residence.country)
      const key = `${region}.${department}`
      let list = results.get(key)
      if (!list) results.set(key, (list = []))
      list.push({ resultId: o.resultId, version: o.version, state: o.state, patientId: o.patientId, submissionId: publicId, index: item.index, result: r })
      let facts = feed.get(key)
      if (!facts) feed.set(key, (facts = []))
      facts.push({ schema: 'sidep.feed.pseudo/v1', factId: o.resultId, version: o.version, state: o.state, ...item.fact })
    }
    for (const r of m.rejected) {
      for (const e of r.errors.slice(0, 1)) status.push({ index: r.index, status: 'rejected', resultId: null, error: e })
    }
    status.sort((a, b) => a.index - b.index)
    statuses.push({ message: m, items: status })
  }
  const out: OutgoingMessage[] = []
  for (const [key, list] of results) {
    const [region, department] = key.split('.')
    out.push({ subject: t.results(region, department), data: packr.pack(list), msgID: `r:${batchId}:${key}` })
  }
  for (const [key, facts] of feed) {
    const [region, department] = key.split('.')
    out.push({ subject: t.feed(region, department), data: Buffer.from(JSON.stringify(facts)), msgID: `f:${batchId}:${key}` })
  }
  return { messages: out, statuses }
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
