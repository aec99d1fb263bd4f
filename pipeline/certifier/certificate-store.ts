/**
 * The certifier's PostgreSQL side: what each result currently is (before signing), and one transaction per
 * batch that records the certificates issued, the results that get none, and the revocations.
 *
 * Correctness across redeliveries and several certifier processes:
 * - a certificate is inserted only for the version that is current in `results` at write time, and only
 *   once per (result_id, version) (ON CONFLICT DO NOTHING): a stale or redelivered record changes nothing;
 * - the revocation pass looks at `results`, not at the batch: every unrevoked certificate of an older
 *   version than the current one is 'superseded', every certificate of a cancelled result is 'cancelled';
 * - certifier transactions touching the same result are serialised by a transaction-level advisory lock
 *   per result (taken in a fixed order), so an older version's insert can never commit after a newer
 *   version's revocation pass has looked.
 */
import type { PgPool } from '../postgres/pool.ts'
import { classifyPgError } from '../postgres/pool.ts'

/** advisory lock namespace of the certifier (the migration lock uses 7_311_001) */
const CERTIFIER_LOCK = 7_311_005

export interface CurrentResult {
  version: number
  state: 'final' | 'corrected' | 'cancelled'
  labName: string
  /** a certificate or a skip is already recorded for the current version */
  decided: boolean
}

export async function currentResults(pg: PgPool, resultIds: string[]): Promise<Map<string, CurrentResult>> {
  const out = new Map<string, CurrentResult>()
  if (resultIds.length === 0) return out
  try {
    const { rows } = await pg.query(
      `SELECT r.result_id::text AS id, r.version, r.state, l.name AS lab_name,
              (EXISTS (SELECT 1 FROM certificates c WHERE c.result_id = r.result_id AND c.version = r.version)
               OR EXISTS (SELECT 1 FROM certificate_skips s WHERE s.result_id = r.result_id AND s.version = r.version)) AS decided
         FROM results r JOIN labs l ON l.lab_id = r.lab_id
        WHERE r.result_id = ANY($1::uuid[])`,
      [resultIds],
    )
    for (const r of rows) out.set(r.id, { version: r.version, state: r.state, labName: r.lab_name, decided: r.decided })
  } catch (err) {
    throw classifyPgError(err)
  }
  return out
}

export interface IssuedCertificate {
  resultId: string
  version: number
  labId: string
  ci: string
  ciHash: Buffer
  hc1: string
  kid: string
  /** seconds since the epoch */
  iat: number
  exp: number
}

export interface SkippedResult {
  resultId: string
  version: number
  reason: string
}

export interface WriteOutcome {
  issued: number
  skipped: number
  revoked: { superseded: number; cancelled: number }
}

export async function writeCertificates(pg: PgPool, resultIds: string[], issued: IssuedCertificate[], skipped: SkippedResult[]): Promise<WriteOutcome> {
  const outcome: WriteOutcome = { issued: 0, skipped: 0, revoked: { superseded: 0, cancelled: 0 } }
  if (resultIds.length === 0) return outcome
  let client
  try {
    client = await pg.connect()
  } catch (err) {
    throw classifyPgError(err)
  }
  try {
    await client.query('BEGIN')
    await client.query(
      `SELECT pg_advisory_xact_lock($1, k) FROM (SELECT DISTINCT hashtext(id) AS k FROM unnest($2::text[]) AS id ORDER BY 1) locks`,
      [CERTIFIER_LOCK, resultIds],
    )
    if (issued.length) {
      const ins = await client.query(
        `INSERT INTO certificates (result_id, version, lab_id, ci, ci_hash, hc1, kid, issued_at, exp)
         SELECT x.result_id, x.version, x.lab_id, x.ci, x.ci_hash, x.hc1, x.kid, to_timestamp(x.iat), to_timestamp(x.exp)
           FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::bytea[], $6::text[], $7::text[], $8::float8[], $9::float8[])
                AS x(result_id, version, lab_id, ci, ci_hash, hc1, kid, iat, exp)
           JOIN results r ON r.result_id = x.result_id AND r.version = x.version AND r.state <> 'cancelled'
         ON CONFLICT (result_id, version) DO NOTHING`,
        [
          issued.map((c) => c.resultId),
          issued.map((c) => c.version),
          issued.map((c) => c.labId),
          issued.map((c) => c.ci),
          issued.map((c) => c.ciHash),
          issued.map((c) => c.hc1),
          issued.map((c) => c.kid),
          issued.map((c) => c.iat),
          issued.map((c) => c.exp),
        ],
      )
      outcome.issued = ins.rowCount ?? 0
    }
    if (skipped.length) {
      const sk = await client.query(
        `INSERT INTO certificate_skips (result_id, version, reason)
         SELECT x.result_id, x.version, x.reason FROM unnest($1::uuid[], $2::int[], $3::text[]) AS x(result_id, version, reason)
           JOIN results r ON r.result_id = x.result_id AND r.version = x.version
         ON CONFLICT (result_id, version) DO NOTHING`,
        [skipped.map((s) => s.resultId), skipped.map((s) => s.version), skipped.map((s) => s.reason)],
      )
      outcome.skipped = sk.rowCount ?? 0
    }
    const rev = await client.query(
      `UPDATE certificates c
          SET revoked_at = now(), revoked_reason = CASE WHEN r.state = 'cancelled' THEN 'cancelled' ELSE 'superseded' END
         FROM results r
        WHERE r.result_id = c.result_id AND c.result_id = ANY($1::uuid[]) AND c.revoked_at IS NULL
          AND (c.version < r.version OR r.state = 'cancelled')
        RETURNING c.revoked_reason`,
      [resultIds],
    )
    for (const r of rev.rows) outcome.revoked[r.revoked_reason as 'superseded' | 'cancelled']++
    await client.query('COMMIT')
    return outcome
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw classifyPgError(err)
  } finally {
    client.release()
  }
}
