/** PostgreSQL connection pool and the one place that classifies its errors (retriable vs bad data). */
import pg from 'pg'
import { RetriableError, PoisonError, SidepError } from '../errors.ts'

export type PgPool = pg.Pool

export function createPgPool(url: string, max = 8): PgPool {
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 30_000, application_name: 'sidep' })
  // An idle client losing its connection must not crash the process: the next query reconnects.
  pool.on('error', () => {})
  return pool
}

/**
 * SQLSTATE classes (PostgreSQL Appendix A): 08 connection, 53 insufficient resources, 57 operator
 * intervention, 40 transaction rollback (serialization, deadlock) and 23505 (a concurrent insert of the same
 * key) are worth retrying; 22 data exception and 23 integrity violations are the data's fault.
 */
export function classifyPgError(err: unknown): SidepError {
  if (err instanceof SidepError) return err
  const e = err as { code?: string; message?: string }
  const code = typeof e?.code === 'string' ? e.code : ''
  if (/^(08|53|57|40)/.test(code) || code === '23505' || /^E[A-Z]+$/.test(code) || !code) {
    return new RetriableError('PG_UNAVAILABLE', `PostgreSQL: ${code || 'connection'} ${e?.message ?? ''}`.trim(), err)
  }
  return new PoisonError('PG_REJECTED_DATA', `PostgreSQL rejected the data (SQLSTATE ${code})`, err)
}
