/**
 * The PostgreSQL stage of the processor: one transaction per batch records the submissions, stages every
 * item by COPY (the worker's lines from workers/pg-row.ts, each prefixed with its arrival order) and applies
 * them with sidep_apply_staged (sql/postgres/006_apply_staged.sql; its staging table sidep_staged_items and the
 * json record; 004 took one jsonb parameter, 002 went item by item). The
 * decision (stored, duplicate, corrected, cancelled, superseded) is made there, under row locks taken in key
 * order, so it is the same whichever processor instance commits first. Measured by `npm run bench:pg`.
 */
import { from as copyFrom } from 'pg-copy-streams'
import type { PgPool } from '../postgres/pool.ts'
import { classifyPgError } from '../postgres/pool.ts'
import type { ProcessedMessage } from '../../workers/ingest-task.ts'
import { COPY_COLUMNS } from '../../workers/pg-row.ts'

const COPY_SQL = `COPY sidep_staged_items (ord, ${COPY_COLUMNS}) FROM STDIN`

export interface ItemOutcome {
  submissionId: string
  index: number
  status: 'stored' | 'duplicate' | 'corrected' | 'cancelled' | 'superseded' | 'rejected'
  resultId: string | null
  version: number | null
  state: 'final' | 'corrected' | 'cancelled' | null
  patientId: string | null
  replay: boolean
}

export function outcomeKey(submissionId: string, index: number): string {
  return `${submissionId}#${index}`
}

export async function applyToPostgres(pool: PgPool, messages: ProcessedMessage[]): Promise<Map<string, ItemOutcome>> {
  const subs = new Map<string, ProcessedMessage>()
  // the COPY payload: "<arrival order>\t<worker's line>\n" per item
  let copy = ''
  let n = 0
  for (const m of messages) {
    if (!subs.has(m.submissionId)) subs.set(m.submissionId, m)
    for (const r of m.pgRows) copy += `${++n}\t${r}\n`
  }
  const client = await pool.connect().catch((err) => {
    throw classifyPgError(err)
  })
  try {
    // the staging table exists once per session, before the COPY into it
    await client.query('BEGIN; SELECT sidep_apply_stage()')
    const list = [...subs.values()]
    await client.query(
      `INSERT INTO submissions (submission_id, lab_id, source, format, item_count, received_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::timestamptz[])
       ON CONFLICT (submission_id) DO NOTHING`,
      [
        list.map((m) => m.submissionId),
        list.map((m) => m.labId),
        list.map((m) => m.source),
        list.map((m) => m.format),
        list.map((m) => m.itemCount),
        list.map((m) => new Date(m.receivedAt).toISOString()),
      ],
    )
    const outcomes = new Map<string, ItemOutcome>()
    if (n) {
      const stream = client.query(copyFrom(COPY_SQL))
      await new Promise<void>((resolve, reject) => {
        stream.on('error', reject)
        stream.on('finish', resolve)
        stream.end(copy)
      })
      const { rows: applied } = await client.query(
        'SELECT submission_id, item_index, status, result_id, version, state, patient_id, replay FROM sidep_apply_staged()',
      )
      for (const a of applied) {
        outcomes.set(outcomeKey(a.submission_id, a.item_index), {
          submissionId: a.submission_id,
          index: a.item_index,
          status: a.status,
          resultId: a.result_id,
          version: a.version,
          state: a.state,
          patientId: a.patient_id === null ? null : String(a.patient_id),
          replay: a.replay,
        })
      }
    }
    await client.query('COMMIT')
    return outcomes
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw classifyPgError(err)
  } finally {
    client.release()
  }
}
