/**
 * Lab names for the certificates' testing centre (`tc`, eu-dcc-schema test_entry), cached in the process:
 * the name was read with every batch (results ⋈ labs) although it changes only when an operator renames a
 * lab. Names are kept for `ttlMs` (default one minute: a rename shows on certificates within that), then
 * read again; a batch with a lab not yet seen costs one indexed query for the missing ones.
 */
import type { PgPool } from '../postgres/pool.ts'
import { classifyPgError } from '../postgres/pool.ts'

export class LabNames {
  private readonly names = new Map<string, string>()
  private loadedAt = 0

  constructor(
    private readonly pg: PgPool,
    private readonly ttlMs = 60_000,
  ) {}

  /** The name of every known lab among `labIds` (a lab PostgreSQL does not hold is simply absent). */
  async load(labIds: Iterable<string>): Promise<ReadonlyMap<string, string>> {
    const now = Date.now()
    if (now - this.loadedAt > this.ttlMs) {
      this.names.clear()
      this.loadedAt = now
    }
    let missing: string[] | undefined
    for (const id of labIds) if (!this.names.has(id)) (missing ??= []).push(id)
    if (missing) {
      try {
        const { rows } = await this.pg.query('SELECT lab_id, name FROM labs WHERE lab_id = ANY($1::text[])', [[...new Set(missing)]])
        for (const r of rows) this.names.set(r.lab_id, r.name)
      } catch (err) {
        throw classifyPgError(err)
      }
    }
    return this.names
  }
}
