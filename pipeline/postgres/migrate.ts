/**
 * Creates the database when missing and applies `sql/postgres/NNN_*.sql` in order, each once, in its own
 * transaction, under an advisory lock so that several processes starting together do not race.
 */
import { readdir, readFile } from 'node:fs/promises'
import pg from 'pg'

const SQL_DIR = new URL('../../sql/postgres/', import.meta.url)
const MIGRATION_LOCK = 7_311_001

export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url)
  const name = decodeURIComponent(target.pathname.slice(1))
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new Error(`database name '${name}' is not a plain identifier`)
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  await client.connect()
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name}"`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err // created meanwhile by another process
      })
    }
  } finally {
    await client.end()
  }
}

export async function migratePostgres(url: string): Promise<string[]> {
  await ensureDatabase(url)
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const applied: string[] = []
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())')
    const done = new Set((await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name))
    const files = (await readdir(SQL_DIR)).filter((f) => /^\d{3}_.+\.sql$/.test(f)).sort()
    for (const file of files) {
      if (done.has(file)) continue
      const sql = await readFile(new URL(file, SQL_DIR), 'utf8')
      await client.query('BEGIN')
      try {
        await client.query(sql)
        await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file])
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK')
        throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err })
      }
      applied.push(file)
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {})
    await client.end()
  }
  return applied
}
