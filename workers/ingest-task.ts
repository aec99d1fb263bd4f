/**
 * The piscina task module (DESIGN.md, "Data flow"): pure CPU work on whole batches, off the event loop.
 *  - `admit`: the gateway's check of one HTTP submission: parse, validate every item, split the accepted
 *    ones into INGEST envelopes.
 *  - `process`: the processor's work on a batch of INGEST messages: decode, validate, normalise identity,
 *    pseudonymise, seal contact fields, and build the rows for PostgreSQL and the facts for ClickHouse.
 * Keys arrive once per thread through workerData; nothing here does I/O.
 */
import { workerData } from 'node:worker_threads'
import { sodium, sodiumReady } from './sodium.ts'
import type { CanonicalResult, ItemError } from './model/canonical.ts'
import { encodeEnvelope, decodeEnvelope, type IngestEnvelope } from './envelope.ts'
import { seal } from './seal.ts'
import { factOf, type ResultFact } from './fact.ts'
import { validateItem } from './validate/validate.ts'
import { identityKey, normaliseName } from './validate/identity.ts'
import { pseudonymOf, initSodium } from './validate/pseudonym.ts'

// No top-level await: tsx cannot load a worker entry that uses it (ERR_UNKNOWN_FILE_EXTENSION), so the
// first task waits for libsodium instead.
const sodiumLoaded = Promise.all([sodiumReady(), initSodium()])

interface ThreadKeys {
  pseudonymKeyId: string
  pseudonymKey: Uint8Array
  sealKeyId: string
  sealKey: Uint8Array
}
const keys: ThreadKeys | undefined = (workerData as { keys?: ThreadKeys } | undefined)?.keys

// ---------------------------------------------------------------- admit (gateway)

export interface AdmitTask {
  kind: 'admit'
  labId: string
  submissionId: string
  receivedAt: number
  now: number
  body: Uint8Array
  maxItems: number
  chunkItems: number
}

export type AdmitOutcome =
  | { kind: 'malformed'; error: ItemError }
  | { kind: 'admitted'; itemCount: number; accepted: number; rejected: Array<{ index: number } & ItemError>; chunks: Uint8Array[] }

/** Parses a JSON body that must be one result object or an array of them. */
function parseItems(body: Uint8Array, maxItems: number): { items: unknown[] } | { error: ItemError } {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
  } catch (err) {
    return { error: { code: 'MALFORMED_JSON', field: '', message: `body is not valid JSON: ${(err as Error).message}` } }
  }
  const items = Array.isArray(parsed) ? parsed : [parsed]
  if (items.length === 0) return { error: { code: 'EMPTY_SUBMISSION', field: '', message: 'the array holds no result' } }
  if (items.length > maxItems) {
    return { error: { code: 'TOO_MANY_ITEMS', field: '', message: `a submission holds at most ${maxItems} results (got ${items.length})` } }
  }
  if (parsed === null || typeof parsed !== 'object') {
    return { error: { code: 'INVALID_TYPE', field: '', message: 'body must be a result object or an array of result objects' } }
  }
  return { items }
}

function admit(task: AdmitTask): AdmitOutcome {
  const parsed = parseItems(task.body, task.maxItems)
  if ('error' in parsed) return { kind: 'malformed', error: parsed.error }
  const { items } = parsed
  const rejected: Array<{ index: number } & ItemError> = []
  const chunks: Uint8Array[] = []
  let accepted = 0
  for (let start = 0; start < items.length; start += task.chunkItems) {
    const envelope: IngestEnvelope = {
      v: 1,
      submissionId: task.submissionId,
      format: 'json',
      receivedAt: task.receivedAt,
      itemCount: items.length,
      items: [],
      rejected: [],
    }
    const end = Math.min(items.length, start + task.chunkItems)
    for (let index = start; index < end; index++) {
      const outcome = validateItem(items[index], { labId: task.labId, now: task.now })
      if (outcome.ok) {
        envelope.items.push({ index, item: items[index] })
        accepted++
      } else {
        envelope.rejected.push({ index, errors: outcome.errors })
        for (const e of outcome.errors) rejected.push({ index, ...e })
      }
    }
    chunks.push(encodeEnvelope(envelope))
  }
  return { kind: 'admitted', itemCount: items.length, accepted, rejected, chunks }
}

// ---------------------------------------------------------------- process (processor)

export interface IngestMessage {
  seq: number
  labId: string
  /** the submission id to use when the message is plain JSON from a lab (not an envelope) */
  fallbackSubmissionId: string
  envelope: boolean
  data: Uint8Array
  receivedAt: number
}

export interface ProcessedItem {
  index: number
  result: CanonicalResult
  fact: ResultFact
}

export interface ProcessedMessage {
  seq: number
  labId: string
  submissionId: string
  format: string
  source: 'http' | 'nats'
  receivedAt: number
  itemCount: number
  /** the message could not be read at all (dead-letter it, tell the lab) */
  unreadable?: ItemError
  items: ProcessedItem[]
  rejected: Array<{ index: number; errors: ItemError[]; item?: unknown }>
  /** JSON array elements (without brackets) for sidep_apply_items, one per item, accepted and rejected */
  pgRows: string[]
}

export interface ProcessTask {
  kind: 'process'
  now: number
  messages: IngestMessage[]
}

function contentHash(r: CanonicalResult): string {
  return sodium.crypto_generichash(16, JSON.stringify(r), null, 'hex')
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

function pgRowFor(r: CanonicalResult, submissionId: string, index: number, seq: number, pseudonym: string, k: ThreadKeys): string {
  const p = r.patient
  const contact = p.address || p.phone || p.email ? { address: p.address, phone: p.phone, email: p.email } : null
  const sealed = contact ? base64(seal(JSON.stringify(contact), k.sealKey, k.sealKeyId)) : null
  const record = {
    accession: r.accession, loinc: r.loinc, result: r.result, value: r.value, unit: r.unit, status: r.status,
    sampledAt: r.sampledAt, resultedAt: r.resultedAt, specimen: r.specimen, device: r.device, orderId: r.orderId,
    patient: { ins: p.ins, family: p.family, given: p.given, birthDate: p.birthDate, sex: p.sex },
    prescriber: r.prescriber,
  }
  return JSON.stringify({
    s: submissionId, i: index, lab: r.labId, acc: r.accession, loinc: r.loinc, ts: r.resultedAt, seq, st: r.status,
    h: contentHash(r),
    p: { ins: p.ins ?? null, fn: normaliseName(p.family), gn: normaliseName(p.given[0]), bd: p.birthDate, sex: p.sex, family: p.family, given: p.given, cs: sealed },
    ps: pseudonym, kid: k.pseudonymKeyId, tt: r.testType, res: r.result, sa: r.sampledAt,
    dep: r.residence.department, reg: r.residence.region, co: r.residence.country, rec: record, cs: sealed,
  })
}

function rejectedRow(submissionId: string, index: number, errors: ItemError[]): string {
  return JSON.stringify({ s: submissionId, i: index, err: errors })
}

function processMessage(m: IngestMessage, now: number, k: ThreadKeys): ProcessedMessage {
  const out: ProcessedMessage = {
    seq: m.seq, labId: m.labId, submissionId: m.fallbackSubmissionId, format: 'json', source: m.envelope ? 'http' : 'nats',
    receivedAt: m.receivedAt, itemCount: 0, items: [], rejected: [], pgRows: [],
  }
  let entries: Array<{ index: number; item: unknown }>
  if (m.envelope) {
    let e: IngestEnvelope
    try {
      e = decodeEnvelope(m.data)
    } catch (err) {
      out.unreadable = { code: 'MALFORMED_ENVELOPE', field: '', message: (err as Error).message }
      return out
    }
    // envelope submission ids are namespaced by lab so a forged one cannot touch another lab's submission
    out.submissionId = e.submissionId.startsWith(`${m.labId}:`) ? e.submissionId : `${m.labId}:${e.submissionId}`
    out.format = e.format
    out.receivedAt = e.receivedAt
    out.itemCount = e.itemCount
    entries = e.items
    for (const r of e.rejected) {
      out.rejected.push({ index: r.index, errors: r.errors })
      out.pgRows.push(rejectedRow(out.submissionId, r.index, r.errors))
    }
  } else {
    const parsed = parseItems(m.data, 5000)
    if ('error' in parsed) {
      out.unreadable = parsed.error
      out.itemCount = 1
      out.rejected.push({ index: 0, errors: [parsed.error] })
      out.pgRows.push(rejectedRow(out.submissionId, 0, [parsed.error]))
      return out
    }
    out.itemCount = parsed.items.length
    entries = parsed.items.map((item, index) => ({ index, item }))
  }
  for (const { index, item } of entries) {
    const v = validateItem(item, { labId: m.labId, now })
    if (!v.ok) {
      // only plain NATS items reach here invalid; they are dead-lettered with their errors by the processor
      out.rejected.push({ index, errors: v.errors, item })
      out.pgRows.push(rejectedRow(out.submissionId, index, v.errors))
      continue
    }
    const r = v.result
    const pseudonym = pseudonymOf(identityKey(r.patient), k.pseudonymKey)
    out.items.push({ index, result: r, fact: factOf(r, pseudonym, k.pseudonymKeyId) })
    out.pgRows.push(pgRowFor(r, out.submissionId, index, m.seq, pseudonym, k))
  }
  return out
}

function processBatch(task: ProcessTask): ProcessedMessage[] {
  if (!keys) throw new Error('worker started without keys')
  const out: ProcessedMessage[] = []
  for (const m of task.messages) out.push(processMessage(m, task.now, keys))
  return out
}

export default async function run(task: AdmitTask | ProcessTask): Promise<AdmitOutcome | ProcessedMessage[]> {
  await sodiumLoaded
  return task.kind === 'admit' ? admit(task) : processBatch(task)
}
