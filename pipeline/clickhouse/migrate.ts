/** Creates the ClickHouse database and applies `sql/clickhouse/NNN_*.sql` (idempotent DDL, IF NOT EXISTS). */
import { readdir, readFile } from 'node:fs/promises'
import { createClickHouse } from './client.ts'

const SQL_DIR = new URL('../../sql/clickhouse/', import.meta.url)

export async function migrateClickHouse(url: string, database: string): Promise<string[]> {
  const client = createClickHouse(url)
  const applied: string[] = []
  try {
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` })
    const files = (await readdir(SQL_DIR)).filter((f) => /^\d{3}_.+\.sql$/.test(f)).sort()
    for (const file of files) {
      const sql = (await readFile(new URL(file, SQL_DIR), 'utf8')).replaceAll('{db}', database)
      // one statement per file section; ClickHouse's HTTP interface takes one statement per request
      for (const statement of sql.split(/;\s*$/m).map((s) => s.replace(/^\s*--.*$/gm, '').trim()).filter(Boolean)) {
        await client.command({ query: statement })
      }
      applied.push(file)
    }
  } finally {
    await client.close()
  }
  return applied
}
