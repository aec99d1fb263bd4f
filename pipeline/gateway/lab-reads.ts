/**
 * What a lab reads back: its submissions' per-item statuses and its own results. Reads of identified data
 * are written to the audit log in the same round trip.
 */
import type { PgPool } from '../postgres/pool.ts'
import type { KeyFile } from '../keys/key-store.ts'
import { sealKeyById } from '../keys/key-store.ts'
import { sealedKeyId, unseal } from '../../workers/seal.ts'

export interface SubmissionView {
  submissionId: string
  items: Array<{ index: number; status: string; resultId: string | null; error: unknown; errors?: unknown }>
}

export async function readSubmission(pg: PgPool, labId: string, publicId: string): Promise<SubmissionView | null> {
  const internal = `${labId}:${publicId}`
  const sub = await pg.query('SELECT item_count FROM submissions WHERE submission_id = $1 AND lab_id = $2', [internal, labId])
  if (sub.rowCount === 0) return null
  const { rows } = await pg.query('SELECT item_index, status, result_id, error FROM submission_items WHERE submission_id = $1 ORDER BY item_index', [internal])
  const byIndex = new Map(rows.map((r) => [r.item_index as number, r]))
  const items: SubmissionView['items'] = []
  const count = Math.max(sub.rows[0].item_count as number, rows.length ? (rows[rows.length - 1].item_index as number) + 1 : 0)
  for (let index = 0; index < count; index++) {
    const r = byIndex.get(index)
    if (!r) items.push({ index, status: 'pending', resultId: null, error: null })
    else {
      const errors = Array.isArray(r.error) ? r.error : null
      items.push({ index, status: r.status, resultId: r.result_id, error: errors ? errors[0] : null, ...(errors ? { errors } : {}) })
    }
  }
  return { submissionId: publicId, items }
}

export async function readResultsByAccession(pg: PgPool, keys: KeyFile, labId: string, accession: string): Promise<unknown[]> {
  const { rows } = await pg.query(
    `WITH found AS (
       SELECT result_id, version, state, record, contact_sealed FROM results WHERE lab_id = $1 AND accession = $2 ORDER BY loinc
     ), audit AS (
       INSERT INTO audit_log (actor, action, subject, detail)
       SELECT 'lab:' || $1, 'results.read', coalesce(string_agg(result_id::text, ','), ''), jsonb_build_object('count', count(*)) FROM found
     )
     SELECT * FROM found`,
    [labId, accession],
  )
  return rows.map((r) => {
    const record = r.record as Record<string, unknown> & { patient: Record<string, unknown> }
    if (r.contact_sealed) {
      const key = sealKeyById(keys, sealedKeyId(r.contact_sealed))
      if (key) Object.assign(record.patient, JSON.parse(unseal(r.contact_sealed, key)))
    }
    return { ...record, resultId: r.result_id, version: r.version, state: r.state }
  })
}
