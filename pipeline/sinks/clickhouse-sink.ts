/**
 * The ClickHouse sink role: FEED (durable pull consumer, adaptive batches) → one JSONEachRow insert per
 * batch → ack. Idempotent through the table's ReplacingMergeTree(version): a redelivered batch inserts rows
 * that collapse with the first ones. Retriable failures (ClickHouse down) nak the batch and the consumer
 * lags; a message ClickHouse refuses on its data is isolated and dead-lettered after bounded attempts.
 */
import { type JetStreamClient, type JsMsg } from 'nats'
import type { SidepConfig } from '../config.ts'
import type { Topology } from '../subjects.ts'
import type { Telemetry } from '../telemetry.ts'
import { PoisonError, RetriableError, type SidepError } from '../errors.ts'
import { retryOrDeadLetter, RETRY_DELAY_MS } from '../nats/dead-letter.ts'
import { consumeInBatches, type BatchLoop } from '../nats/batch-consumer.ts'
import { classifyClickHouseError, type ClickHouseClient } from '../clickhouse/client.ts'
import type { FeedRecord } from '../processor/outputs.ts'


export interface FactRow {
  result_id: string
  version: number
  state: string
  pseudonym: string
  key_id: string
  lab_id: string
  test_type: string
  loinc: string
  result: string
  value: number | null
  unit: string
  age_band: string
  sex: string
  department: string
  region: string
  country: string
  sampled_date: string
  resulted_date: string
  inserted_ms: number
}

/** Maps a FEED record to the result_facts columns, field by field: nothing else can slip into ClickHouse. */
export function factRow(r: FeedRecord, insertedMs: number): FactRow {
  return {
    result_id: r.factId,
    version: r.version,
    state: r.state,
    pseudonym: r.pseudonym,
    key_id: r.keyId,
    lab_id: r.labId,
    test_type: r.testType,
    loinc: r.loinc,
    result: r.result,
    value: r.value,
    unit: r.unit,
    age_band: r.ageBand,
    sex: r.sex,
    department: r.department,
    region: r.region,
    country: r.country,
    sampled_date: r.sampledDate,
    resulted_date: r.resultedDate,
    inserted_ms: insertedMs,
  }
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

  private async insert(rows: FactRow[]): Promise<void> {
    try {
      await this.d.clickhouse.insert({ table: this.table(), values: rows, format: 'JSONEachRow' })
    } catch (err) {
      throw classifyClickHouseError(err)
    }
  }

  private async handle(msgs: JsMsg[]): Promise<void> {
    const started = performance.now()
    const now = Date.now()
    const good: Array<{ msg: JsMsg; rows: FactRow[] }> = []
    for (const msg of msgs) {
      let rows: FactRow[]
      try {
        const records = JSON.parse(Buffer.from(msg.data).toString('utf8')) as FeedRecord[]
        if (!Array.isArray(records)) throw new Error('FEED message is not an array')
        rows = records.map((r) => factRow(r, now))
      } catch (err) {
        await this.fail(msg, new PoisonError('FEED_UNREADABLE', (err as Error).message), true)
        continue
      }
      good.push({ msg, rows })
    }
    if (!good.length) return
    const all = good.flatMap((g) => g.rows)
    try {
      await this.insert(all)
    } catch (err) {
      if (err instanceof RetriableError) {
        this.d.telemetry.retrying('clickhouse', err.code, { messages: good.length })
        for (const g of good) g.msg.nak(RETRY_DELAY_MS)
        return
      }
      for (const g of good) {
        try {
          await this.insert(g.rows)
          g.msg.ack()
        } catch (one) {
          if (one instanceof RetriableError) g.msg.nak(RETRY_DELAY_MS)
          else await this.fail(g.msg, one as SidepError)
        }
      }
      return
    }
    const counts: Record<string, number> = {}
    for (const r of all) counts[r.state] = (counts[r.state] ?? 0) + 1
    this.d.telemetry.batchCommitted('clickhouse', counts, all.length, (performance.now() - started) / 1000)
    for (const g of good) g.msg.ack()
  }

  private fail(msg: JsMsg, err: SidepError, immediately = false): Promise<void> {
    return retryOrDeadLetter({ js: this.d.js, topology: this.d.topology, telemetry: this.d.telemetry, maxAttempts: this.d.config.maxAttempts }, 'clickhouse', msg, err, immediately)
  }
}
