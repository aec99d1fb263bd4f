/**
 * The ClickHouse sink role: FEED (durable pull consumer, adaptive batches) → one TabSeparated insert per
 * batch → ack. Idempotent through the table's ReplacingMergeTree(version): a redelivered batch inserts rows
 * that collapse with the first ones. Retriable failures (ClickHouse down) nak the batch and the consumer
 * lags; a message ClickHouse refuses on its data is isolated and dead-lettered after bounded attempts.
 */
import { Readable } from 'node:stream'
import { type JetStreamClient, type JsMsg } from 'nats'
import type { SidepConfig } from '../config.ts'
import type { Topology } from '../subjects.ts'
import type { Telemetry } from '../telemetry.ts'
import { PoisonError, RetriableError, type SidepError } from '../errors.ts'
import { retryOrDeadLetter, RETRY_DELAY_MS } from '../nats/dead-letter.ts'
import { consumeInBatches, type BatchLoop } from '../nats/batch-consumer.ts'
import { classifyClickHouseError, type ClickHouseClient } from '../clickhouse/client.ts'
import type { FeedRecord } from '../processor/outputs.ts'


/** The result_facts columns in the order feedTsvRows writes them (sql/clickhouse/001_result_facts.sql). */
export const FACT_COLUMNS: [string, ...string[]] = [
  'result_id', 'version', 'state', 'pseudonym', 'key_id', 'lab_id', 'test_type', 'loinc', 'result', 'value', 'unit',
  'age_band', 'sex', 'department', 'region', 'country', 'sampled_date', 'resulted_date', 'inserted_ms',
]

/** What TabSeparated escapes in a string (ClickHouse docs, "TabSeparated": \\, \t, \n; \r for safety). */
const TSV_SPECIAL = /[\\\t\n\r]/g
const TSV_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

/**
 * A Date column's text, checked here: a bad date refused by ClickHouse would fail the whole batch's insert and
 * send it through the message-by-message isolation; refused here, only its own message is dead-lettered.
 */
const DAY = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/
function tsvDate(v: unknown, field: string): string {
  if (typeof v === 'string' && DAY.test(v)) return v
  throw new Error(`FEED record field ${field} is not a YYYY-MM-DD date`)
}

/**
 * A FEED string field as a TabSeparated String. Absent is '' (the column default, as JSONEachRow gave it);
 * anything but a string is refused here rather than stringified into the table. `plain`: the message text
 * holds no backslash, so no string in it can hold one or a control character (RFC 8259 §7: both must be
 * escaped in JSON), and there is nothing to escape.
 */
function tsvString(v: unknown, field: string, plain: boolean): string {
  if (typeof v === 'string') return plain ? v : v.replace(TSV_SPECIAL, (c) => TSV_ESCAPES[c]!)
  if (v === undefined) return ''
  throw new Error(`FEED record field ${field} is not a string`)
}

/**
 * One FEED message (a JSON array of `sidep.feed.pseudo/v1` records) → TabSeparated lines in FACT_COLUMNS
 * order, one per record, counting each record's state into `counts`. One JSON.parse, then the columns
 * are written by hand, field by field (each FEED field to its column): no row object and no JSON re-encoding per
 * record, and nothing but these columns can reach ClickHouse. Throws on a message that is not such an
 * array or holds a field of the wrong type or a malformed date (the caller dead-letters it).
 */
export function feedTsvRows(data: Uint8Array, insertedMs: number, counts: Record<string, number>): string {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')
  const records = JSON.parse(text) as unknown
  if (!Array.isArray(records)) throw new Error('FEED message is not an array')
  const p = !text.includes('\\')
  const tail = `\t${insertedMs}\n`
  let out = ''
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as FeedRecord
    if (typeof r !== 'object' || r === null) throw new Error('FEED record is not an object')
    const version = r.version as unknown
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 0 || version > 0xffffffff) throw new Error('FEED record version is not a UInt32')
    const value = r.value as unknown
    if (value !== null && value !== undefined && typeof value !== 'number') throw new Error('FEED record value is not a number')
    out += tsvString(r.factId, 'factId', p) + '\t' + version + '\t' + tsvString(r.state, 'state', p) + '\t' +
      tsvString(r.pseudonym, 'pseudonym', p) + '\t' + tsvString(r.keyId, 'keyId', p) + '\t' + tsvString(r.labId, 'labId', p) + '\t' +
      tsvString(r.testType, 'testType', p) + '\t' + tsvString(r.loinc, 'loinc', p) + '\t' + tsvString(r.result, 'result', p) + '\t' +
      (value === null || value === undefined ? '\\N' : String(value)) + '\t' + tsvString(r.unit, 'unit', p) + '\t' +
      tsvString(r.ageBand, 'ageBand', p) + '\t' + tsvString(r.sex, 'sex', p) + '\t' + tsvString(r.department, 'department', p) + '\t' +
      tsvString(r.region, 'region', p) + '\t' + tsvString(r.country, 'country', p) + '\t' + tsvDate(r.sampledDate, 'sampledDate') + '\t' +
      tsvDate(r.resultedDate, 'resultedDate') + tail
  }
  // counted once the whole message is readable: a message dead-lettered half way counts nothing
  for (let i = 0; i < records.length; i++) {
    const state = (records[i] as FeedRecord).state
    counts[state] = (counts[state] ?? 0) + 1
  }
  return out
}

export interface ClickHouseSinkDeps {
  config: SidepConfig
  topology: Topology
  js: JetStreamClient
  clickhouse: ClickHouseClient
  telemetry: Telemetry
}

export class ClickHouseSink {
  private loop: BatchLoop | null = null

  constructor(private readonly d: ClickHouseSinkDeps) {}

  async start(): Promise<void> {
    const consumer = await this.d.js.consumers.get(this.d.topology.feedStream, this.d.topology.clickhouseDurable)
    this.loop = await consumeInBatches(consumer, this.d.config.clickhouseBatch, (batch) => this.handle(batch), (err) =>
      this.d.telemetry.retrying('clickhouse', 'UNEXPECTED', { err: (err as Error)?.message }),
    )
  }

  async stop(): Promise<void> {
    await this.loop?.stop()
    this.loop = null
  }

  private table(): string {
    return `${this.d.config.clickhouseDatabase}.result_facts`
  }

  /** TabSeparated rows (feedTsvRows) in one insert; the client sends raw formats from a stream. */
  private async insert(tsv: string): Promise<void> {
    try {
      await this.d.clickhouse.insert({ table: this.table(), columns: FACT_COLUMNS, values: Readable.from([Buffer.from(tsv)], { objectMode: false }), format: 'TabSeparated' })
    } catch (err) {
      throw classifyClickHouseError(err)
    }
  }

  private async handle(msgs: JsMsg[]): Promise<void> {
    const started = performance.now()
    const now = Date.now()
    const counts: Record<string, number> = {}
    const good: JsMsg[] = []
    const bodies: string[] = []
    for (const msg of msgs) {
      let tsv: string
      try {
        tsv = feedTsvRows(msg.data, now, counts)
      } catch (err) {
        await this.fail(msg, new PoisonError('FEED_UNREADABLE', (err as Error).message), true)
        continue
      }
      good.push(msg)
      bodies.push(tsv)
    }
    if (!good.length) return
    let rows = 0
    for (const state in counts) rows += counts[state]!
    try {
      // a batch of empty arrays has nothing to insert (the JSONEachRow path skipped it as well)
      if (rows) await this.insert(bodies.join(''))
    } catch (err) {
      if (err instanceof RetriableError) {
        this.d.telemetry.retrying('clickhouse', err.code, { messages: good.length })
        for (const msg of good) msg.nak(RETRY_DELAY_MS)
        return
      }
      for (let i = 0; i < good.length; i++) {
        try {
          if (bodies[i]) await this.insert(bodies[i])
          good[i].ack()
        } catch (one) {
          if (one instanceof RetriableError) good[i].nak(RETRY_DELAY_MS)
          else await this.fail(good[i], one as SidepError)
        }
      }
      return
    }
    this.d.telemetry.batchCommitted('clickhouse', counts, rows, (performance.now() - started) / 1000)
    for (const msg of good) msg.ack()
  }

  private fail(msg: JsMsg, err: SidepError, immediately = false): Promise<void> {
    return retryOrDeadLetter({ js: this.d.js, topology: this.d.topology, telemetry: this.d.telemetry, maxAttempts: this.d.config.maxAttempts }, 'clickhouse', msg, err, immediately)
  }
}
