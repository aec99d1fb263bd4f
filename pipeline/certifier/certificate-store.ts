/**
 * The certifier's PostgreSQL side: one call per batch (sql/postgres/005_certifier_record.sql,
 * sidep_certifier_record) that records the certificates issued, the results that get none, and the
 * revocations, in one transaction.
 *
 * Correctness across redeliveries and several certifier processes (the function's header has the details):
 * - a certificate is inserted only for the version that is current in `results` at write time, and only
 *   once per (result_id, version) (ON CONFLICT DO NOTHING): a stale or redelivered record changes nothing;
 * - the revocation pass looks at `results`, not at the batch: every unrevoked certificate of an older
 *   version than the current one is 'superseded', every certificate of a cancelled result is 'cancelled';
 * - the batch's results rows are locked FOR NO KEY UPDATE in (lab_id, accession, loinc) order (the
 *   processor's mode and order) until commit, so an older version's insert can never commit after a newer
 *   version's revocation pass has looked: the processor cannot commit the newer version meanwhile, and a
 *   later certifier waits for the row.
 */
import type { PgPool } from '../postgres/pool.ts'
import { classifyPgError } from '../postgres/pool.ts'
import { PoisonError } from '../errors.ts'

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

/** PostgreSQL's no_data_found, raised by sidep_certifier_record for a result id that results does not hold */
const NO_DATA_FOUND = 'P0002'

/**
 * Records a batch. `resultIds`: every result the batch names (the revocation pass and the lock cover them
 * all, also those that get neither a certificate nor a skip). Throws PoisonError RESULT_UNKNOWN (nothing
 * written) when one of them is not in results, else RetriableError / PoisonError from classifyPgError.
 */
export async function writeCertificates(pg: PgPool, resultIds: string[], issued: IssuedCertificate[], skipped: SkippedResult[]): Promise<WriteOutcome> {
  if (resultIds.length === 0) return { issued: 0, skipped: 0, revoked: { superseded: 0, cancelled: 0 } }
  const n = issued.length
  const cResultId = new Array<string>(n)
  const cVersion = new Array<number>(n)
  const cLabId = new Array<string>(n)
  const cCi = new Array<string>(n)
  const cCiHash = new Array<Buffer>(n)
  const cHc1 = new Array<string>(n)
  const cKid = new Array<string>(n)
  const cIat = new Array<number>(n)
  const cExp = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    const c = issued[i]
    cResultId[i] = c.resultId
    cVersion[i] = c.version
    cLabId[i] = c.labId
    cCi[i] = c.ci
    cCiHash[i] = c.ciHash
    cHc1[i] = c.hc1
    cKid[i] = c.kid
    cIat[i] = c.iat
    cExp[i] = c.exp
  }
  const m = skipped.length
  const sResultId = new Array<string>(m)
  const sVersion = new Array<number>(m)
  const sReason = new Array<string>(m)
  for (let i = 0; i < m; i++) {
    sResultId[i] = skipped[i].resultId
    sVersion[i] = skipped[i].version
    sReason[i] = skipped[i].reason
  }
  let row: { issued: number; skipped: number; superseded: number; cancelled: number }
  try {
    const { rows } = await pg.query(
      `SELECT issued, skipped, superseded, cancelled FROM sidep_certifier_record(
         $1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::text[], $6::bytea[], $7::text[], $8::text[], $9::float8[], $10::float8[],
         $11::uuid[], $12::int[], $13::text[])`,
      [resultIds, cResultId, cVersion, cLabId, cCi, cCiHash, cHc1, cKid, cIat, cExp, sResultId, sVersion, sReason],
    )
    row = rows[0]
  } catch (err) {
    if ((err as { code?: string })?.code === NO_DATA_FOUND) {
      throw new PoisonError('RESULT_UNKNOWN', 'a RESULTS record names a result that PostgreSQL does not hold', err)
    }
    throw classifyPgError(err)
  }
  return { issued: row.issued, skipped: row.skipped, revoked: { superseded: row.superseded, cancelled: row.cancelled } }
}
