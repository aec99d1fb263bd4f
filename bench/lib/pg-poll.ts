/**
 * When each result version became queryable in PostgreSQL, polled at a cost PostgreSQL barely notices.
 *
 * The poll's own queries run on the PostgreSQL the platform is measured against, so they must stay
 * light. Two queries, both here so a change of the tables is adapted in one place:
 *
 * 1. The tail (every poll): the rows of `results` from the last heap page seen on, by a TID range scan
 *    (`ctid >= '(page,0)'`, PostgreSQL 14+: only the pages read, no index needed, no sequential scan of a
 *    table that grows by thousands of rows a second). New rows and the new tuples of updated rows go to
 *    the end of the heap, so the tail holds what committed since the last poll, plus the last page
 *    again. A row gives the commit stamp of version 1 (created_at) and of its current version
 *    (updated_at): the transaction's now(), so a lower bound by the transaction's length.
 *    Needs only results(lab_id, accession, loinc, version, result_id, created_at, updated_at).
 * 2. Stragglers, by key (rarely): a version the tail did not show although it is committed, i.e. its lab
 *    status message came (the processor publishes it after the PostgreSQL commit) more than
 *    STRAGGLER_AFTER_STATUS_MS ago, or it was accepted more than STRAGGLER_AFTER_ANSWER_MS ago (a status
 *    message lost on the core NATS subject). That happens when a row went into free space of an earlier
 *    page (after a vacuum), when a transaction's pages stayed invisible while a later one committed past
 *    them, or when two versions of a key committed between two polls (the row shows only the last).
 *    Looked up by (lab_id, accession, loinc) with the version's own stamp from result_versions. Bounded
 *    per poll.
 *
 * So every version is found with its own stamp (the lose-nothing check stays exact), and the steady-state
 * cost is one sequential read of the new pages instead of thousands of index lookups per poll.
 */
import type pg from 'pg'
import type { BenchLedger } from './ledger.ts'

export const STRAGGLER_AFTER_STATUS_MS = 1500
export const STRAGGLER_AFTER_ANSWER_MS = 10_000
/** most by-key lookups per poll */
export const STRAGGLER_MAX = 2000

/** results rows from heap page $1 on; the page of each row so the next poll starts where this one ended */
export const PG_TAIL_QUERY = `
SELECT lab_id, accession, loinc, version, result_id::text AS rid,
       (extract(epoch FROM created_at) * 1000)::float8 AS created_ms,
       (extract(epoch FROM updated_at) * 1000)::float8 AS updated_ms,
       (ctid::text::point)[0]::int AS page
  FROM results
 WHERE ctid >= $1::tid`

/** the commit stamp of given versions by key: results when it is the current version, result_versions otherwise */
export const PG_BY_KEY_QUERY = `
SELECT k.i::int AS i, r.result_id::text AS rid,
       (extract(epoch FROM CASE WHEN r.version = k.ver THEN (CASE WHEN k.ver = 1 THEN r.created_at ELSE r.updated_at END)
                                ELSE rv.created_at END) * 1000)::float8 AS ms
  FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) WITH ORDINALITY AS k(lab, acc, loinc, ver, i)
  JOIN results r ON r.lab_id = k.lab AND r.accession = k.acc AND r.loinc = k.loinc AND r.version >= k.ver
  LEFT JOIN result_versions rv ON r.version <> k.ver AND rv.result_id = r.result_id AND rv.version = k.ver`

export interface PgPollStats {
  polls: number
  /** rows the tail query returned (re-read ones included) */
  tail_rows: number
  /** versions the tail found */
  tail_found: number
  /** versions looked up by key, and found so */
  straggler_lookups: number
  straggler_found: number
  /** milliseconds spent waiting for the two queries (round trips included) */
  query_ms: number
}

export class PgPoller {
  private fromPage = 0
  readonly stats: PgPollStats = { polls: 0, tail_rows: 0, tail_found: 0, straggler_lookups: 0, straggler_found: 0, query_ms: 0 }

  constructor(
    private readonly pool: pg.Pool,
    private readonly ledger: BenchLedger,
  ) {}

  async poll(): Promise<void> {
    if (this.ledger.pgPendingCount === 0) return
    this.stats.polls++
    const t0 = performance.now()
    const tail = await this.pool.query<[string, string, string, number, string, number, number, number]>({
      text: PG_TAIL_QUERY,
      values: [`(${this.fromPage},0)`],
      rowMode: 'array',
    })
    this.stats.query_ms += performance.now() - t0
    const seen = Date.now()
    let maxPage = this.fromPage
    const rows = tail.rows
    this.stats.tail_rows += rows.length
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]
      this.stats.tail_found += this.ledger.pgRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], seen)
      if (r[7] > maxPage) maxPage = r[7]
    }
    // the last page may still fill: read again from it
    this.fromPage = maxPage

    const late = this.ledger.pgStragglers(seen, STRAGGLER_AFTER_STATUS_MS, STRAGGLER_AFTER_ANSWER_MS, STRAGGLER_MAX)
    if (late.length === 0) return
    this.stats.straggler_lookups += late.length
    const t1 = performance.now()
    const { rows: found } = await this.pool.query<{ i: number; rid: string; ms: number | null }>(PG_BY_KEY_QUERY, [
      late.map((o) => o.labId), late.map((o) => o.accession), late.map((o) => o.loinc), late.map((o) => o.version),
    ])
    this.stats.query_ms += performance.now() - t1
    const at = Date.now()
    for (const r of found) {
      const o = late[r.i - 1]
      if (this.ledger.pgSeen(o.id, r.rid, r.ms ?? at, at)) this.stats.straggler_found++
    }
  }
}
