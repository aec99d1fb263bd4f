/**
 * The bench's bookkeeping: what each sent item should become, what the platform said and stored, and the
 * send → queryable latency of every result version in each store. Pure: no I/O, times are given by the
 * caller (epoch ms of this machine; PostgreSQL's now() and the ClickHouse sink's Date.now() run on the
 * same clock).
 *
 * Life of an item:
 *   submit()   the pacer released it (send time = release time: open loop, so per-lab queueing inside the
 *              bench counts as latency, as it would for a lab)
 *   answer()   the ingest answer: accepted, or rejected with codes (HTTP 202 body; for NATS nothing is
 *              rejected at ingest, the processor's status message says it later)
 *   status()   the per-item outcome on <root>.lab.<labId>.status
 *   pgSeen()   the result version is committed in PostgreSQL (commit stamp = the row's created_at or
 *              updated_at, i.e. the transaction's now(); observed = when the bench's poll saw it)
 *   chSeen()   the version is in ClickHouse result_facts (inserted_ms)
 *
 * Only items that write a version (expected stored, corrected or cancelled) are observed in the stores;
 * resends are duplicates and write nothing, invalid items are rejected.
 */
import type { ExpectedStatus, GeneratedItem, InvalidReason, ItemKind } from './synthetic-labs.ts'
import { LatencyRecorder } from './percentiles.ts'
import { BenchError } from './errors.ts'
import { KeyStates } from './key-states.ts'

/** The platform's error code (and field paths) for each invalid item the generator makes. */
export const INVALID_REASON_CODES: Readonly<Record<InvalidReason, { code: string; fields: readonly string[] }>> = Object.freeze({
  'unknown-loinc': { code: 'UNKNOWN_LOINC', fields: ['loinc'] },
  'dates-reversed': { code: 'SAMPLED_AFTER_RESULTED', fields: ['resultedAt', 'sampledAt'] },
  'bad-nir-key': { code: 'INVALID_NIR_KEY', fields: ['patient.ins'] },
})

export const STATUSES: readonly ExpectedStatus[] = ['stored', 'duplicate', 'corrected', 'cancelled', 'rejected']

export interface RejectedAnswer {
  index: number
  code: string
  field?: string
}

export interface StatusItem {
  index: number
  status: string
  resultId: string | null
  error?: { code: string; field?: string } | null
}

/** A result version the bench waits to see in the stores. */
export interface Observation {
  id: number
  /** keyOf(labId, accession, loinc), built once */
  key: string
  labId: string
  accession: string
  loinc: string
  version: number
  sentMs: number
  resultId?: string
  pgCommitMs?: number
  pgObservedMs?: number
  chInsertedMs?: number
  /** when the ingest answer and the lab status message came (the PostgreSQL poll's straggler rule) */
  answeredMs?: number
  statusMs?: number
  /** last by-key lookup of a straggler */
  lookedUpMs?: number
}

/**
 * What the ledger needs of a submission's items, extracted when the submission is generated (possibly
 * long before it is sent: bench/lib/submission-source.ts generates the whole schedule ahead): a byte of
 * codes and a LOINC index per item, and the accessions as one string, instead of the items themselves or
 * five arrays of pointers and a string per item (~80 bytes per item, 120 MB for a 5-minute schedule at
 * 5,000/s; now ~17).
 */
export interface Booking {
  labId: string
  /** per item: expected status | kind << 3 | invalid reason << 6 (indexes in STATUSES, KINDS, REASONS; reason 0 = none) */
  codes: Uint8Array
  /** the accessions joined by '\n' (split once, when the submission is sent) */
  accessions: string
  /** per item: index of its LOINC code in loincNames */
  loincs: Uint16Array
  /**
   * the submission's distinct LOINC codes (a handful): carried by the booking, not interned per process,
   * since bookings are made in the generation thread and read in the main one
   */
  loincNames: string[]
}

const KINDS: readonly ItemKind[] = ['new', 'resend', 'correction', 'cancellation', 'invalid']
const REASONS: readonly (InvalidReason | undefined)[] = [undefined, 'unknown-loinc', 'dates-reversed', 'bad-nir-key']
const STATUS_CODE = new Map<ExpectedStatus, number>(STATUSES.map((s, i) => [s, i]))
const KIND_CODE = new Map<ItemKind, number>(KINDS.map((k, i) => [k, i]))
const REASON_CODE = new Map<InvalidReason | undefined, number>(REASONS.map((r, i) => [r, i]))

export const loincOf = (b: Booking, i: number): string => b.loincNames[b.loincs[i]]
export const expectedOf = (b: Booking, i: number): ExpectedStatus => STATUSES[b.codes[i] & 7]
export const kindOf = (b: Booking, i: number): ItemKind => KINDS[(b.codes[i] >> 3) & 7]
export const reasonOf = (b: Booking, i: number): InvalidReason | undefined => REASONS[b.codes[i] >> 6]

export function bookingOf(labId: string, items: readonly GeneratedItem[]): Booking {
  const n = items.length
  const codes = new Uint8Array(n)
  const loincs = new Uint16Array(n)
  const accessions: string[] = new Array(n)
  const loincNames: string[] = []
  for (let i = 0; i < n; i++) {
    const g = items[i]
    codes[i] = STATUS_CODE.get(g.expected)! | (KIND_CODE.get(g.kind)! << 3) | (REASON_CODE.get(g.invalid?.reason)! << 6)
    let li = loincNames.indexOf(g.item.loinc)
    if (li < 0) {
      if (loincNames.length === 65_536) throw new BenchError('BENCH_TOO_MANY_LOINCS', 'more than 65,536 distinct LOINC codes in one submission')
      li = loincNames.push(g.item.loinc) - 1
    }
    loincs[i] = li
    const a = g.item.accession
    if (a.includes('\n')) throw new BenchError('BENCH_BAD_ACCESSION', `accession ${JSON.stringify(a)} holds a line feed, the booking's separator`)
    accessions[i] = a
  }
  return { labId, codes, accessions: accessions.join('\n'), loincs, loincNames }
}

interface Submission {
  id: number
  labId: string
  sentMs: number
  /** expected, kinds, reasons and key parts per index (expected is rewritten when the platform refuses an item) */
  b: Booking
  /** b.accessions split, while the submission waits for its status (dropped with it) */
  accessions: string[]
  /** observation per index (only for items that write a version) */
  obs: (Observation | undefined)[]
  answered: boolean
  statusSeen: boolean
}

export interface Mismatch {
  labId: string
  index: number
  expected: string
  observed: string
  detail?: string
}

export interface RatePoint {
  t_s: number
  sent: number
  accepted: number
  pg: number
  ch: number
  /** p99 of send → queryable in both stores, for versions that completed in this second */
  p99_ms?: number
}

/** state codes of the packed key entries */
const FINAL = 0
const CORRECTED = 1
const CANCELLED = 2

const keyOf = (labId: string, accession: string, loinc: string): string => `${labId}\u0000${accession}\u0000${loinc}`
const vKey = (resultId: string, version: number): string => `${resultId}:${version}`

export class BenchLedger {
  /** epoch ms of the start of the load (series are relative to it) */
  readonly t0: number
  private nextSub = 1
  private nextObs = 1
  private readonly subs = new Map<number, Submission>()
  /**
   * current version and state the platform should hold per key, packed in a small integer
   * (version × 4 + state code, a V8 Smi: no object per key; bench/lib/key-states.ts keeps the key itself
   * as a small integer too), and the keys counted per state as they
   * change, so the end of the run reads tallies instead of walking 1.4 M entries
   */
  private readonly keys = new KeyStates()
  private readonly stateTally = [0, 0, 0]
  /** observations not yet seen in PostgreSQL, in send order */
  private readonly pgPending = new Map<number, Observation>()
  /** the same, by key (lab, accession, loinc): what a polled results row resolves */
  private readonly pgPendingByKey = new Map<string, Observation[]>()
  /** seen in PostgreSQL, waiting for ClickHouse, by result_id:version */
  private readonly chPending = new Map<string, Observation>()
  /** ClickHouse rows that arrived before the bench matched their PostgreSQL row */
  private readonly chEarly = new Map<string, number>()
  /**
   * highest version of each result seen in ClickHouse, and when it was written: only versions ≥ 2 (a
   * version 1 row cannot stand for an older version merged away), i.e. corrections and cancellations,
   * ~2.5 % of the results instead of one entry per result for the whole run
   */
  private readonly chNewest = new Map<string, { version: number; ms: number }>()

  readonly counts = {
    submissions: 0,
    submissions_failed: 0,
    sent: 0,
    accepted: 0,
    rejected_at_ingest: 0,
    status_items: 0,
    pg_versions: 0,
    ch_versions: 0,
    unexpected_rejections: 0,
    missed_rejections: 0,
    status_mismatches: 0,
    ch_unmatched_rows: 0,
  }
  readonly expected: Record<ExpectedStatus, number> = { stored: 0, duplicate: 0, corrected: 0, cancelled: 0, rejected: 0 }
  readonly observedStatus: Record<string, number> = {}
  readonly expectedCodes: Record<string, number> = {}
  readonly observedCodes: Record<string, number> = {}
  readonly mismatches: Mismatch[] = []

  readonly pgLatency = new LatencyRecorder()
  readonly pgObservedLatency = new LatencyRecorder()
  readonly chLatency = new LatencyRecorder()
  readonly bothLatency = new LatencyRecorder()
  readonly statusLatency = new LatencyRecorder()

  private firstCommitMs = Number.POSITIVE_INFINITY
  private lastPgMs = Number.NEGATIVE_INFINITY
  private lastChMs = Number.NEGATIVE_INFINITY
  private readonly perSecond: { sent: number; accepted: number; pg: number; ch: number; both: number[] }[] = []

  constructor(t0: number) {
    this.t0 = t0
  }

  private bucket(ms: number): { sent: number; accepted: number; pg: number; ch: number; both: number[] } {
    const s = Math.max(0, Math.floor((ms - this.t0) / 1000))
    while (this.perSecond.length <= s) this.perSecond.push({ sent: 0, accepted: 0, pg: 0, ch: 0, both: [] })
    return this.perSecond[s]
  }

  /**
   * Books a submission as released at `sentMs`: its expected outcomes, and the version each item that
   * writes one should produce. Must be called in generation order (it tracks versions per key).
   */
  submit(labId: string, items: readonly GeneratedItem[], sentMs: number): number {
    return this.submitBooking(bookingOf(labId, items), sentMs)
  }

  /** submit() of a submission booked ahead (bookingOf); the ledger owns `b` from now on. */
  submitBooking(b: Booking, sentMs: number): number {
    const id = this.nextSub++
    const labId = b.labId
    const n = b.codes.length
    const accessions = n > 0 ? b.accessions.split('\n') : []
    const sub: Submission = { id, labId, sentMs, b, accessions, obs: new Array(n), answered: false, statusSeen: false }
    for (let i = 0; i < n; i++) {
      const expected = expectedOf(b, i)
      this.expected[expected]++
      if (expected === 'rejected') {
        const reason = reasonOf(b, i)
        if (reason) {
          const code = INVALID_REASON_CODES[reason].code
          this.expectedCodes[code] = (this.expectedCodes[code] ?? 0) + 1
        }
        continue
      }
      if (expected === 'duplicate') continue
      const loinc = loincOf(b, i)
      const accession = accessions[i]
      let version: number
      if (expected === 'stored') {
        version = 1
        this.keys.set(labId, accession, loinc, 4 + FINAL)
        this.stateTally[FINAL]++
      } else {
        const cur = this.keys.get(labId, accession, loinc)
        if (cur === undefined) continue // its first version was refused: nothing sensible to expect
        version = (cur >> 2) + 1
        const state = expected === 'cancelled' ? CANCELLED : CORRECTED
        this.stateTally[cur & 3]--
        this.stateTally[state]++
        this.keys.set(labId, accession, loinc, (version << 2) | state)
      }
      sub.obs[i] = { id: this.nextObs++, key: keyOf(labId, accession, loinc), labId, accession, loinc, version, sentMs }
    }
    this.subs.set(id, sub)
    this.counts.submissions++
    this.counts.sent += n
    this.bucket(sentMs).sent += n
    return id
  }

  /**
   * The ingest answer. `rejected` lists the items refused at ingest with their code. Accepted items
   * that write a version start being watched in the stores.
   */
  answer(subId: number, accepted: number, rejected: readonly RejectedAnswer[], atMs: number): void {
    const sub = this.subs.get(subId)
    if (!sub || sub.answered) return
    sub.answered = true
    this.counts.accepted += accepted
    this.counts.rejected_at_ingest += rejected.length
    this.bucket(atMs).accepted += accepted
    // one count per item, whatever the number of errors it has
    const refused = new Map<number, RejectedAnswer[]>()
    for (const r of rejected) {
      const list = refused.get(r.index)
      if (list) list.push(r)
      else refused.set(r.index, [r])
    }
    for (const [index, errors] of refused) this.rejection(sub, index, errors)
    for (let i = 0; i < sub.obs.length; i++) {
      const o = sub.obs[i]
      if (o && !refused.has(i)) {
        o.answeredMs = atMs
        this.pgPending.set(o.id, o)
        const list = this.pgPendingByKey.get(o.key)
        if (list) list.push(o)
        else this.pgPendingByKey.set(o.key, [o])
      }
    }
  }

  /** The submission could not be delivered at all (retries exhausted): its expectations are withdrawn. */
  failed(subId: number): void {
    const sub = this.subs.get(subId)
    if (!sub || sub.answered) return
    sub.answered = true
    sub.statusSeen = true
    this.counts.submissions_failed++
    for (let i = 0; i < sub.b.codes.length; i++) this.withdraw(sub, i)
    this.subs.delete(subId)
  }

  private withdraw(sub: Submission, i: number): void {
    const e = expectedOf(sub.b, i)
    this.expected[e]--
    if (e === 'rejected') {
      const reason = reasonOf(sub.b, i)
      if (reason) this.expectedCodes[INVALID_REASON_CODES[reason].code]--
      return
    }
    const o = sub.obs[i]
    if (o) {
      if (this.pgPending.delete(o.id)) this.unindex(o)
      sub.obs[i] = undefined
    }
    // later versions of this key were computed on top of this one: the key leaves the expectations
    if (e === 'stored') {
      const accession = sub.accessions[i]
      const loinc = loincOf(sub.b, i)
      const cur = this.keys.get(sub.labId, accession, loinc)
      if (cur !== undefined) {
        this.stateTally[cur & 3]--
        this.keys.delete(sub.labId, accession, loinc)
      }
    }
  }

  /** One refused item with its errors: counted under the expected code when it is among them, else the first. */
  private rejection(sub: Submission, index: number, errors: readonly RejectedAnswer[]): void {
    const e = index >= 0 && index < sub.b.codes.length ? expectedOf(sub.b, index) : undefined
    const reason = e === 'rejected' ? reasonOf(sub.b, index) : undefined
    const want = reason ? INVALID_REASON_CODES[reason].code : undefined
    const hit = errors.find((x) => x.code === want) ?? errors[0]
    const code = hit?.code ?? 'UNKNOWN'
    const field = hit?.field
    this.observedCodes[code] = (this.observedCodes[code] ?? 0) + 1
    if (e === undefined) return
    if (e !== 'rejected') {
      this.counts.unexpected_rejections++
      this.mismatch({ labId: sub.labId, index, expected: e, observed: 'rejected', detail: `${code} ${field ?? ''}`.trim() })
      this.withdraw(sub, index)
      sub.b.codes[index] = (sub.b.codes[index] & ~7) | STATUS_CODE.get('rejected')! // booked as what happened, so status counts compare
      this.expected.rejected++
      return
    }
    if (want !== undefined && want !== code) {
      this.mismatch({ labId: sub.labId, index, expected: want, observed: code, detail: field })
    }
  }

  private mismatch(m: Mismatch): void {
    if (this.mismatches.length < 20) this.mismatches.push(m)
  }

  /**
   * The lab status message of a submission. For NATS, items are not refused at ingest: the rejections
   * come from here (`rejectionsFromStatus`).
   */
  status(subId: number, items: readonly StatusItem[], atMs: number, rejectionsFromStatus: boolean): void {
    const sub = this.subs.get(subId)
    if (!sub || sub.statusSeen) return
    sub.statusSeen = true
    this.statusLatency.record(atMs - sub.sentMs)
    const seen = new Set<number>()
    for (const it of items) {
      if (seen.has(it.index)) continue
      seen.add(it.index)
      this.counts.status_items++
      this.observedStatus[it.status] = (this.observedStatus[it.status] ?? 0) + 1
      if (rejectionsFromStatus && it.status === 'rejected') {
        this.rejection(sub, it.index, [{ index: it.index, code: it.error?.code ?? 'UNKNOWN', field: it.error?.field }])
      }
      const e = it.index >= 0 && it.index < sub.b.codes.length ? expectedOf(sub.b, it.index) : undefined
      if (e !== undefined && e !== it.status) {
        this.counts.status_mismatches++
        if (e === 'rejected') this.counts.missed_rejections++
        this.mismatch({ labId: sub.labId, index: it.index, expected: e, observed: it.status, detail: kindOf(sub.b, it.index) })
      }
      const o = sub.obs[it.index]
      if (o) {
        o.statusMs = atMs
        if (it.resultId && !o.resultId) o.resultId = it.resultId
      }
    }
    this.subs.delete(subId)
  }

  /** True when every submission has its status message. */
  get statusesComplete(): boolean {
    return this.subs.size === 0
  }

  get pendingSubmissions(): number {
    return this.subs.size
  }

  /**
   * Up to `max` observations not yet seen in PostgreSQL, oldest first from `skip` (callers rotate it
   * when a poll finds little: commits do not always follow send order, e.g. after a rolled-back batch).
   */
  pendingPg(max = Number.POSITIVE_INFINITY, skip = 0): Observation[] {
    const out: Observation[] = []
    let i = 0
    const from = skip < this.pgPending.size ? skip : 0
    for (const o of this.pgPending.values()) {
      if (out.length >= max) break
      if (i++ >= from) out.push(o)
    }
    return out
  }

  get pgPendingCount(): number {
    return this.pgPending.size
  }

  get chPendingCount(): number {
    return this.chPending.size + this.pgPending.size
  }

  private unindex(o: Observation): void {
    const list = this.pgPendingByKey.get(o.key)
    if (!list) return
    if (list.length === 1) {
      if (list[0] === o) this.pgPendingByKey.delete(o.key)
      return
    }
    const at = list.indexOf(o)
    if (at >= 0) list.splice(at, 1)
  }

  /**
   * A results row as polled (bench/lib/pg-poll.ts): the key's current `version`, stamped `updatedMs`,
   * and its version 1 stamped `createdMs`. Resolves the pending observations of this key that the row
   * proves and dates: version 1 and the current version. A version in between was overwritten before a
   * poll saw it: left to the by-key lookup, which has its own stamp. Returns how many it resolved.
   */
  pgRow(labId: string, accession: string, loinc: string, version: number, resultId: string, createdMs: number, updatedMs: number, observedMs: number): number {
    const list = this.pgPendingByKey.get(keyOf(labId, accession, loinc))
    if (!list) return 0
    let n = 0
    for (let i = list.length - 1; i >= 0; i--) {
      const o = list[i]
      if (o.version === version) n += this.pgSeen(o.id, resultId, version === 1 ? createdMs : updatedMs, observedMs) ? 1 : 0
      else if (o.version === 1 && version > 1) n += this.pgSeen(o.id, resultId, createdMs, observedMs) ? 1 : 0
    }
    return n
  }

  /**
   * Pending versions that must be committed by now but no tail poll showed: the lab status came more
   * than `afterStatusMs` ago, or the ingest answer more than `afterAnswerMs` ago. Oldest first, at most
   * `max`, each one at most every 5 s.
   */
  pgStragglers(nowMs: number, afterStatusMs: number, afterAnswerMs: number, max: number): Observation[] {
    const out: Observation[] = []
    for (const o of this.pgPending.values()) {
      if (out.length >= max) break
      const due = (o.statusMs !== undefined && nowMs - o.statusMs >= afterStatusMs) || (o.answeredMs !== undefined && nowMs - o.answeredMs >= afterAnswerMs)
      if (!due || (o.lookedUpMs !== undefined && nowMs - o.lookedUpMs < 5000)) continue
      o.lookedUpMs = nowMs
      out.push(o)
    }
    return out
  }

  /** The version is committed in PostgreSQL; commitMs is the row's stamp, observedMs when the poll saw it. False when it was not pending. */
  pgSeen(obsId: number, resultId: string, commitMs: number, observedMs: number): boolean {
    const o = this.pgPending.get(obsId)
    if (!o) return false
    this.pgPending.delete(obsId)
    this.unindex(o)
    o.resultId = resultId
    o.pgCommitMs = commitMs
    o.pgObservedMs = observedMs
    this.counts.pg_versions++
    this.pgLatency.record(commitMs - o.sentMs)
    this.pgObservedLatency.record(observedMs - o.sentMs)
    this.bucket(commitMs).pg++
    if (commitMs < this.firstCommitMs) this.firstCommitMs = commitMs
    if (commitMs > this.lastPgMs) this.lastPgMs = commitMs
    const k = vKey(resultId, o.version)
    const early = this.chEarly.get(k)
    const newest = this.chNewest.get(resultId)
    if (early !== undefined) {
      this.chEarly.delete(k)
      this.chDone(o, early)
    } else if (newest && newest.version > o.version) {
      // a later version is already in ClickHouse: this one may have merged away unseen (ReplacingMergeTree)
      this.chDone(o, newest.ms)
    } else {
      this.chPending.set(k, o)
    }
    return true
  }

  /** A ClickHouse row (result_id, version, inserted_ms). Rows seen twice are ignored by the caller. */
  chSeen(resultId: string, version: number, insertedMs: number): void {
    if (version > 1) {
      const newest = this.chNewest.get(resultId)
      if (!newest || newest.version < version) this.chNewest.set(resultId, { version, ms: insertedMs })
    }
    // ReplacingMergeTree keeps only the highest version once parts merge: an earlier version that merged
    // away before a poll saw it was in ClickHouse no later than this one
    for (let older = version - 1; older >= 1; older--) {
      const o = this.chPending.get(vKey(resultId, older))
      if (o) {
        this.chPending.delete(vKey(resultId, older))
        this.chDone(o, insertedMs)
      }
    }
    const k = vKey(resultId, version)
    const o = this.chPending.get(k)
    if (o) {
      this.chPending.delete(k)
      this.chDone(o, insertedMs)
    } else if (!this.chEarly.has(k)) {
      this.chEarly.set(k, insertedMs)
    }
  }

  private chDone(o: Observation, insertedMs: number): void {
    o.chInsertedMs = insertedMs
    this.counts.ch_versions++
    this.chLatency.record(insertedMs - o.sentMs)
    const done = Math.max(insertedMs, o.pgCommitMs ?? insertedMs)
    const both = done - o.sentMs
    this.bothLatency.record(both)
    this.bucket(insertedMs).ch++
    this.bucket(done).both.push(both)
    if (insertedMs > this.lastChMs) this.lastChMs = insertedMs
  }

  /** At the end: ClickHouse rows that never matched a version the bench expected. */
  finish(): void {
    this.counts.ch_unmatched_rows = this.chEarly.size
  }

  /** Everything the bench waits for has arrived. */
  get complete(): boolean {
    return this.pgPending.size === 0 && this.chPending.size === 0 && this.subs.size === 0
  }

  /** Expected current state per key, counted (what PostgreSQL results and ClickHouse FINAL should hold). */
  expectedStates(): Record<'final' | 'corrected' | 'cancelled', number> {
    return { final: this.stateTally[FINAL], corrected: this.stateTally[CORRECTED], cancelled: this.stateTally[CANCELLED] }
  }

  get expectedKeys(): number {
    return this.keys.size
  }

  /** Results/s committed: versions over the time from the first send to the last commit in that store. */
  storeRate(store: 'pg' | 'ch'): number {
    const last = store === 'pg' ? this.lastPgMs : this.lastChMs
    const n = store === 'pg' ? this.counts.pg_versions : this.counts.ch_versions
    return last > this.t0 ? (n * 1000) / (last - this.t0) : 0
  }

  /** Versions queryable in both stores by `ms` (to the second: counted from the per-second buckets). */
  bothDoneBy(ms: number): number {
    const last = Math.floor((ms - this.t0) / 1000)
    let n = 0
    for (let s = 0; s < this.perSecond.length && s < last; s++) n += this.perSecond[s].both.length
    return n
  }

  series(): RatePoint[] {
    return this.perSecond.map((b, s) => {
      const p: RatePoint = { t_s: s + 1, sent: b.sent, accepted: b.accepted, pg: b.pg, ch: b.ch }
      if (b.both.length > 0) {
        const sorted = Float64Array.from(b.both).sort()
        p.p99_ms = sorted[Math.max(1, Math.ceil(0.99 * sorted.length)) - 1]
      }
      return p
    })
  }
}
