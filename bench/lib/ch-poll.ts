/**
 * When each result version became queryable in ClickHouse: the rows of result_facts by inserted_ms (the
 * sink's clock when it wrote the row's batch), transferred and parsed once each.
 *
 * Each poll first counts the rows per inserted_ms stamp from the newest stamp seen minus an overlap
 * (a batch stamped earlier can become visible after a later one while inserts overlap), then fetches the
 * rows of only the stamps whose count changed since the last poll: a new batch, or one that grew or lost
 * rows (a ReplacingMergeTree merge removes the older versions of a result). Rows already handed to the
 * ledger are skipped by (result_id, version). Before, every poll re-read and re-parsed the whole overlap
 * window: four times each row at a 2 s overlap and a 500 ms period.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import type { BenchLedger } from './ledger.ts'

/** ClickHouse rows are looked for this far behind the newest inserted_ms seen */
export const CH_OVERLAP_MS = 2000

export interface ChPollStats {
  polls: number
  /** rows fetched (a stamp whose count changed is fetched whole again) */
  rows_fetched: number
  rows_new: number
}

export class ChPoller {
  private watermark = 0
  /** per stamp in the overlap window: its row count at the last fetch, and the rows seen */
  private readonly stamps = new Map<number, { count: number; seen: Set<string> }>()
  readonly stats: ChPollStats = { polls: 0, rows_fetched: 0, rows_new: 0 }

  constructor(
    private readonly ch: ClickHouseClient,
    private readonly table: string,
    private readonly ledger: BenchLedger,
  ) {}

  async poll(): Promise<void> {
    this.stats.polls++
    const from = Math.max(0, this.watermark - CH_OVERLAP_MS)
    const counts = await (await this.ch.query({ query: `SELECT inserted_ms, count() FROM ${this.table} WHERE inserted_ms >= ${from} GROUP BY inserted_ms`, format: 'TabSeparated' })).text()
    const changed: number[] = []
    const now = new Map<number, number>()
    for (const line of counts.split('\n')) {
      if (line === '') continue
      const tab = line.indexOf('\t')
      const ms = Number(line.slice(0, tab))
      const n = Number(line.slice(tab + 1))
      now.set(ms, n)
      if (this.stamps.get(ms)?.count !== n) changed.push(ms)
    }
    if (changed.length > 0) {
      const text = await (await this.ch.query({ query: `SELECT result_id, version, inserted_ms FROM ${this.table} WHERE inserted_ms IN (${changed.join(',')})`, format: 'TabSeparated' })).text()
      let start = 0
      while (start < text.length) {
        let end = text.indexOf('\n', start)
        if (end < 0) end = text.length
        const t1 = text.indexOf('\t', start)
        const t2 = text.indexOf('\t', t1 + 1)
        if (t1 > start && t2 > t1 && t2 < end) {
          this.stats.rows_fetched++
          const rid = text.slice(start, t1)
          const version = Number(text.slice(t1 + 1, t2))
          const ms = Number(text.slice(t2 + 1, end))
          let s = this.stamps.get(ms)
          if (!s) this.stamps.set(ms, (s = { count: -1, seen: new Set() }))
          const key = `${rid}:${version}`
          if (!s.seen.has(key)) {
            s.seen.add(key)
            this.stats.rows_new++
            this.ledger.chSeen(rid, version, ms)
          }
        }
        start = end + 1
      }
      // the count of the first query: rows that arrived in between make it differ next time, and are fetched then
      for (const ms of changed) {
        const s = this.stamps.get(ms)
        if (s) s.count = now.get(ms) ?? -1
      }
    }
    for (const ms of now.keys()) if (ms > this.watermark) this.watermark = ms
    // stamps older than the window are never counted again
    const oldest = Math.max(0, this.watermark - CH_OVERLAP_MS)
    for (const ms of this.stamps.keys()) if (ms < oldest) this.stamps.delete(ms)
  }
}
