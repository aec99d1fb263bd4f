/**
 * The piscina task module (DESIGN.md, "Data flow"): pure CPU work on whole batches, off the event loop.
 *  - `admit`: the gateway's check of one HTTP submission: parse, validate every item, split the accepted
 *    ones into INGEST envelopes.
 *  - `process`: the processor's work on a batch of INGEST messages: decode, validate, normalise identity,
 *    pseudonymise, seal contact fields, and build the rows for PostgreSQL and the facts for ClickHouse.
 * Keys arrive once per thread through workerData; nothing here does I/O.
 */
import { workerData } from 'node:worker_threads'
import { sodiumReady } from './sodium.ts'
import type { WorkerKeys } from '../pipeline/keys/key-store.ts'
import type { CanonicalResult, ItemError } from './model/canonical.ts'
import { encodeEnvelope, decodeEnvelope, sealEnvelope, openEnvelope, EnvelopeError, ENVELOPE_VERSION, type IngestEnvelope, type EnvelopeChunk, type TrustedEnvelope } from './envelope.ts'
import { Packr } from 'msgpackr'
import { factJsonTailOf, placeKey } from './fact.ts'
import { validateItem } from './validate/validate.ts'
import { identityKey } from './validate/identity.ts'
import { pseudonymOf, initSodium } from './validate/pseudonym.ts'
import { parseHl7v2, buildAck, hl7LocationOf } from './parse/hl7v2.ts'
import { parseFhirBundle, toOperationOutcome } from './parse/fhir.ts'
import type { ParsedItem, ParseError } from './parse/types.ts'
import { pgRowFor, rejectedRow } from './pg-row.ts'

// No top-level await: tsx cannot load a worker entry that uses it (ERR_UNKNOWN_FILE_EXTENSION), so the
// first task waits for libsodium instead.
const sodiumLoaded = Promise.all([sodiumReady(), initSodium()])

// what each thread receives once through workerData (pipeline/keys/key-store.ts workerKeys); without the
// envelope keys (pools built for tests of other stages) admit writes version 1 envelopes
type ThreadKeys = WorkerKeys
const keys: ThreadKeys | undefined = (workerData as { keys?: ThreadKeys } | undefined)?.keys

// ---------------------------------------------------------------- admit (gateway)

/** What the gateway can hand over: a raw body to parse here, or CSV rows the gateway parsed while streaming. */
export type AdmitFormat = 'json' | 'hl7v2' | 'fhir' | 'csv'

export interface AdmitTask {
  kind: 'admit'
  labId: string
  submissionId: string
  receivedAt: number
  now: number
  format: AdmitFormat
  channel: 'http' | 'mllp'
  body?: Uint8Array
  /** csv: one streamed batch of parsed rows */
  parsed?: { items: ParsedItem[]; errors: ParseError[] }
  maxItems: number
  chunkItems: number
}

export type RejectedItem = { index: number } & ItemError

export type AdmitOutcome =
  | { kind: 'malformed'; error: ItemError; acks?: string[] }
  | {
      kind: 'admitted'
      /** units in this task: items and rejected units, indices 0..itemCount-1 (for csv: up to the last index seen) */
      itemCount: number
      accepted: number
      rejected: RejectedItem[]
      chunks: EnvelopeChunk[]
      /** hl7v2: one ACK per message (MSA AA/AE/AR with ERR segments), built from the same outcome */
      acks?: string[]
      /** fhir: the outcome as a FHIR OperationOutcome */
      operationOutcome?: unknown
    }

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

/**
 * Validates parsed units and packs them, in index order, into envelopes of at most `chunkItems` units.
 * `locate` turns a contract path into the lab's own field name (an HL7 location for HL7 input).
 */
function admitUnits(
  task: AdmitTask,
  items: ReadonlyArray<{ index: number; item: unknown; source?: string }>,
  parseErrors: readonly ParseError[],
  locate: (field: string, source: string) => string,
  /** the items are this task's own (parsed here or cloned in): validation may trim them in place */
  owned = false,
): Extract<AdmitOutcome, { kind: 'admitted' }> {
  type Unit = { index: number; item?: unknown; result?: CanonicalResult; errors?: ItemError[] }
  const units: Unit[] = []
  const rejected: RejectedItem[] = []
  const byIndex = new Map<number, ItemError[]>()
  for (const e of parseErrors) {
    const list = byIndex.get(e.index)
    const err = { code: e.code, field: e.field, message: e.message }
    if (list) list.push(err)
    else byIndex.set(e.index, [err])
  }
  for (const [index, errors] of byIndex) units.push({ index, errors })
  let accepted = 0
  const trusted = keys?.envelopeKeyId !== undefined && keys.envelopeKeys !== undefined
  // a version 1 envelope carries the items as the lab sent them: only a trusted one lets validation trim in place
  const ctx = { labId: task.labId, now: task.now, ownsItem: owned && trusted }
  for (const { index, item, source } of items) {
    const outcome = validateItem(item, ctx)
    if (outcome.ok) {
      units.push({ index, item, result: outcome.result })
      accepted++
    } else {
      units.push({ index, errors: outcome.errors.map((e) => ({ ...e, field: locate(e.field, source ?? '') || e.field })) })
    }
  }
  units.sort((a, b) => a.index - b.index)
  // every envelope states the units of this task; for a streamed CSV the gateway records the final count
  const itemCount = units.length ? units[units.length - 1].index + 1 : 0
  const chunks: EnvelopeChunk[] = []
  for (let start = 0; start < units.length; start += task.chunkItems) {
    const common = { submissionId: task.submissionId, format: task.format, channel: task.channel, receivedAt: task.receivedAt, itemCount }
    const envelopeRejected: IngestEnvelope['rejected'] = []
    const index: number[] = []
    const legacyItems: IngestEnvelope['items'] = []
    const packed: Uint8Array[] = []
    let bytes = 0
    for (const u of units.slice(start, start + task.chunkItems)) {
      if (u.errors) {
        envelopeRejected.push({ index: u.index, errors: u.errors })
        for (const e of u.errors) rejected.push({ index: u.index, ...e })
      } else if (trusted) {
        // the canonical result travels, so the processor neither parses nor validates it again
        const bin = resultPackr.pack(u.result)
        packed.push(bin)
        bytes += bin.length
        index.push(u.index)
      } else legacyItems.push({ index: u.index, item: u.item })
    }
    if (trusted) {
      const envelope: TrustedEnvelope = { v: 2, labId: task.labId, ...common, index, results: concat(packed, bytes), rejected: envelopeRejected }
      chunks.push(sealEnvelope(envelope, keys as Required<ThreadKeys>))
    } else {
      chunks.push({ data: encodeEnvelope({ v: 1, ...common, items: legacyItems, rejected: envelopeRejected }), version: ENVELOPE_VERSION })
    }
  }
  return { kind: 'admitted', itemCount, accepted, rejected, chunks }
}

const sameField = (field: string) => field

function tooMany(maxItems: number): AdmitOutcome {
  return { kind: 'malformed', error: { code: 'TOO_MANY_ITEMS', field: '', message: `a submission holds at most ${maxItems} results` } }
}

function admitHl7(task: AdmitTask): AdmitOutcome {
  const parsed = parseHl7v2(task.body ?? new Uint8Array())
  if (parsed.ack.messages.length === 0) {
    const error = parsed.errors[0] ?? { code: 'SYNTAX', field: 'MSH', message: 'no HL7 message (MSH segment) found' }
    return { kind: 'malformed', error: { code: error.code, field: error.field, message: error.message }, acks: [buildAck(null, { code: 'AR', errors: [error] })] }
  }
  if (parsed.items.length + parsed.errors.length > task.maxItems) return tooMany(task.maxItems)
  const out = admitUnits(task, parsed.items, parsed.errors, hl7LocationOf)
  const errorsOf = new Map<number, RejectedItem[]>()
  for (const r of out.rejected) {
    const list = errorsOf.get(r.index)
    if (list) list.push(r)
    else errorsOf.set(r.index, [r])
  }
  out.acks = parsed.ack.messages.map((m) => {
    const errors = [...m.errorIndexes, ...m.itemIndexes].flatMap((i) => errorsOf.get(i) ?? [])
    return buildAck(m.header, { errors })
  })
  return out
}

function admitFhir(task: AdmitTask): AdmitOutcome {
  const parsed = parseFhirBundle(task.body ?? new Uint8Array())
  if (parsed.items.length === 0 && parsed.errors.some((e) => e.index < 0 || e.code === 'SYNTAX')) {
    const e = parsed.errors[0]
    return { kind: 'malformed', error: { code: e.code === 'SYNTAX' ? 'MALFORMED_FHIR' : e.code, field: e.field, message: e.message } }
  }
  if (parsed.items.length + parsed.errors.length > task.maxItems) return tooMany(task.maxItems)
  const out = admitUnits(task, parsed.items, parsed.errors, sameField)
  out.operationOutcome = toOperationOutcome(out.rejected.map((r) => ({ ...r })), parsed.warnings)
  return out
}

function admit(task: AdmitTask): AdmitOutcome {
  switch (task.format) {
    case 'hl7v2':
      return admitHl7(task)
    case 'fhir':
      return admitFhir(task)
    case 'csv':
      return admitUnits(task, task.parsed?.items ?? [], task.parsed?.errors ?? [], sameField, true)
    default: {
      const parsed = parseItems(task.body ?? new Uint8Array(), task.maxItems)
      if ('error' in parsed) return { kind: 'malformed', error: parsed.error }
      return admitUnits(task, parsed.items.map((item, index) => ({ index, item })), [], sameField, true)
    }
  }
}

// ---------------------------------------------------------------- process (processor)

export interface IngestMessage {
  seq: number
  labId: string
  /** the submission id to use when the message is plain JSON from a lab (not an envelope) */
  fallbackSubmissionId: string
  envelope: boolean
  /** a version 2 envelope (Sidep-Envelope: 2): authenticated canonical results, not validated again */
  trusted?: boolean
  /** its Sidep-Envelope-Auth header */
  auth?: string
  data: Uint8Array
  receivedAt: number
}

/**
 * The accepted items of a message, column by column: the main thread needs no item object, only what it
 * publishes, already serialised, so the handoff clones a few arrays and one byte buffer instead of an object
 * graph per result (structured clone and the main thread's GC were 6% and 18% of its profile).
 */
export interface AcceptedItems {
  index: number[]
  /** `<region>.<department>` subject suffix of each item (fact.ts placeKey) */
  place: string[]
  /** each item's FEED fact as JSON without its opening brace (fact.ts factJsonTail) */
  fact: string[]
  /** each item's canonical result as msgpack, concatenated; item i spans resultEnds[i-1] (or 0) to resultEnds[i] */
  results: Uint8Array
  resultEnds: number[]
}

export interface ProcessedMessage {
  seq: number
  labId: string
  submissionId: string
  format: string
  source: 'http' | 'mllp' | 'nats'
  receivedAt: number
  itemCount: number
  /** the message could not be read at all (dead-letter it, tell the lab) */
  unreadable?: ItemError
  accepted: AcceptedItems
  rejected: Array<{ index: number; errors: ItemError[]; item?: unknown }>
  /** JSON array elements (without brackets) for sidep_apply_items, one per item, accepted and rejected */
  pgRows: string[]
}

export interface ProcessTask {
  kind: 'process'
  now: number
  messages: IngestMessage[]
}

/** What every envelope version says of its submission, and the items the gateway already rejected. */
function takeEnvelopeHeader(out: ProcessedMessage, e: Pick<IngestEnvelope, 'submissionId' | 'format' | 'channel' | 'receivedAt' | 'itemCount' | 'rejected'>, labId: string): void {
  // envelope submission ids are namespaced by lab so a forged one cannot touch another lab's submission
  out.submissionId = e.submissionId.startsWith(`${labId}:`) ? e.submissionId : `${labId}:${e.submissionId}`
  out.format = e.format
  out.source = e.channel === 'mllp' ? 'mllp' : 'http'
  out.receivedAt = e.receivedAt
  out.itemCount = e.itemCount
  for (const r of e.rejected) {
    out.rejected.push({ index: r.index, errors: r.errors })
    out.pgRows.push(rejectedRow(out.submissionId, r.index, r.errors))
  }
}

function processMessage(m: IngestMessage, now: number, k: ThreadKeys): ProcessedMessage {
  const out: ProcessedMessage = {
    seq: m.seq, labId: m.labId, submissionId: m.fallbackSubmissionId, format: 'json', source: m.envelope ? 'http' : 'nats',
    receivedAt: m.receivedAt, itemCount: 0, accepted: NO_ITEMS, rejected: [], pgRows: [],
  }
  if (m.trusted) return processTrusted(m, out, k)
  let entries: Array<{ index: number; item: unknown }>
  if (m.envelope) {
    let e: IngestEnvelope
    try {
      e = decodeEnvelope(m.data)
    } catch (err) {
      out.unreadable = { code: 'MALFORMED_ENVELOPE', field: '', message: (err as Error).message }
      return out
    }
    takeEnvelopeHeader(out, e, m.labId)
    entries = e.items
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
  const acc = newAccepted()
  const packed: Uint8Array[] = []
  let bytes = 0
  for (const { index, item } of entries) {
    const v = validateItem(item, { labId: m.labId, now })
    if (!v.ok) {
      // only plain NATS items reach here invalid; they are dead-lettered with their errors by the processor
      out.rejected.push({ index, errors: v.errors, item })
      out.pgRows.push(rejectedRow(out.submissionId, index, v.errors))
      continue
    }
    const r = v.result
    const bin = resultPackr.pack(r)
    packed.push(bin)
    acc.resultEnds.push((bytes += bin.length))
    accept(out, acc, r, index, m.seq, k)
  }
  acc.results = concat(packed, bytes)
  out.accepted = acc
  return out
}

/**
 * A version 2 envelope: once its tag verifies, its results are the gateway's validated canonical results,
 * decoded as they are and handed on in the very bytes that carried them.
 */
function processTrusted(m: IngestMessage, out: ProcessedMessage, k: ThreadKeys): ProcessedMessage {
  let e: TrustedEnvelope
  try {
    e = openEnvelope(m.data, m.auth, k.envelopeKeys)
    if (e.labId !== m.labId) throw new EnvelopeError('ENVELOPE_UNAUTHENTICATED', 'the envelope was made for another lab')
  } catch (err) {
    const code = err instanceof EnvelopeError ? err.code : 'MALFORMED_ENVELOPE'
    out.unreadable = { code, field: '', message: (err as Error).message }
    return out
  }
  takeEnvelopeHeader(out, e, m.labId)
  const acc = newAccepted()
  let i = 0
  if (e.results.length) {
    resultPackr.unpackMultiple(e.results, (r: CanonicalResult, _start?: number, end?: number) => {
      acc.resultEnds.push(end as number)
      accept(out, acc, r, e.index[i++], m.seq, k)
    })
  }
  // an exact-size copy: the decoded bytes are a view of the whole message
  acc.results = Uint8Array.prototype.slice.call(e.results) as Uint8Array
  out.accepted = acc
  return out
}

const NO_ITEMS: AcceptedItems = { index: [], place: [], fact: [], results: new Uint8Array(0), resultEnds: [] }
// plain maps, as the RESULTS stream always carried them (the certifier decodes them with msgpackr)
const resultPackr = new Packr({ useRecords: false })

function newAccepted(): AcceptedItems {
  return { index: [], place: [], fact: [], results: NO_ITEMS.results, resultEnds: [] }
}

/** Everything of one valid result but its msgpack bytes: pseudonym, fact, PostgreSQL row. */
function accept(out: ProcessedMessage, acc: AcceptedItems, r: CanonicalResult, index: number, seq: number, k: ThreadKeys): void {
  const pseudonym = pseudonymOf(identityKey(r.patient), k.pseudonymKey)
  acc.index.push(index)
  acc.place.push(placeKey(r))
  acc.fact.push(factJsonTailOf(r, pseudonym, k.pseudonymKeyId))
  out.pgRows.push(pgRowFor(r, out.submissionId, index, seq, pseudonym, k))
}

/** One exact-size buffer (a pooled or shared one would be cloned whole to the main thread). */
function concat(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
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
