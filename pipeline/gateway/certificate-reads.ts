/**
 * Reads of the certificates table for the HTTP API: a lab's certificate for one of its results (the read is
 * audited in the same round trip: the HC1 holds the holder's name and birth date), the revocation list, and
 * the revocation check of POST /v1/dcc/verify.
 */
import type { PgPool } from '../postgres/pool.ts'
import { revocationEntry, uciHash } from '../../workers/dcc/revocation.ts'

export type CertificateLookup =
  | { kind: 'found'; hc1: string; ci: string; exp: Date }
  | { kind: 'no-result' }
  | { kind: 'cancelled' }
  | { kind: 'not-issued'; reason: string }
  | { kind: 'pending' }

export async function readCertificate(pg: PgPool, labId: string, resultId: string, format: string): Promise<CertificateLookup> {
  const { rows } = await pg.query(
    `WITH r AS (
       SELECT result_id, version, state FROM results WHERE result_id = $1::uuid AND lab_id = $2
     ), c AS (
       SELECT c.ci, c.hc1, c.exp FROM certificates c JOIN r ON c.result_id = r.result_id AND c.version = r.version
        WHERE c.revoked_at IS NULL
     ), s AS (
       SELECT s.reason FROM certificate_skips s JOIN r ON s.result_id = r.result_id AND s.version = r.version
     ), audit AS (
       INSERT INTO audit_log (actor, action, subject, detail)
       SELECT 'lab:' || $2, 'certificate.read', $1, jsonb_build_object('format', $3::text) FROM c
     )
     SELECT r.state, c.ci, c.hc1, c.exp, s.reason FROM r LEFT JOIN c ON true LEFT JOIN s ON true`,
    [resultId, labId, format],
  )
  if (rows.length === 0) return { kind: 'no-result' }
  const row = rows[0]
  if (row.state === 'cancelled') return { kind: 'cancelled' }
  if (row.hc1) return { kind: 'found', hc1: row.hc1, ci: row.ci, exp: row.exp }
  if (row.reason) return { kind: 'not-issued', reason: row.reason }
  return { kind: 'pending' }
}

export interface RevocationEntry {
  /** base64 of the first 128 bits of SHA-256(UTF-8 ci) */
  hash: string
  kid: string
  /** the certificate's own expiry: after it the entry is dropped (the certificate is dead anyway) */
  expires: string
  revokedAt: string
  reason: string
}

export async function readRevocations(pg: PgPool): Promise<RevocationEntry[]> {
  const { rows } = await pg.query(
    `SELECT ci_hash, kid, exp, revoked_at, revoked_reason FROM certificates
      WHERE revoked_at IS NOT NULL AND exp > now() ORDER BY revoked_at, ci_hash`,
  )
  return rows.map((r) => ({
    hash: revocationEntry(r.ci_hash as Buffer),
    kid: r.kid,
    expires: (r.exp as Date).toISOString(),
    revokedAt: (r.revoked_at as Date).toISOString(),
    reason: r.revoked_reason,
  }))
}

/** True when a certificate with this ci was issued here and has been revoked. */
export async function isRevoked(pg: PgPool, ci: string): Promise<boolean> {
  const { rowCount } = await pg.query('SELECT 1 FROM certificates WHERE ci_hash = $1 AND revoked_at IS NOT NULL', [uciHash(ci)])
  return (rowCount ?? 0) > 0
}
