/**
 * Laboratories and their API credentials. A token is random (256 bits), shown once, bound to one lab and
 * stored only as its SHA-256 (a fast hash is enough for a secret of that entropy; no password stretching).
 */
import { createHash, randomBytes } from 'node:crypto'
import type { PgPool } from '../postgres/pool.ts'
import { LabError } from '../errors.ts'
import { LAB_ID } from '../subjects.ts'

export interface Lab {
  labId: string
  name: string
  createdAt: string
  revokedAt: string | null
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}

export async function addLab(pool: PgPool, labId: string, name: string): Promise<{ lab: Lab; token: string }> {
  if (!LAB_ID.test(labId)) throw new LabError('LAB_ID_INVALID', 'lab id must be 1-64 characters among A-Z a-z 0-9 _ -', { status: 400 })
  if (!name.trim()) throw new LabError('LAB_NAME_REQUIRED', 'a lab needs a name (--name)', { status: 400 })
  const token = `sidep_${labId}_${randomBytes(32).toString('base64url')}`
  try {
    const { rows } = await pool.query(
      `INSERT INTO labs (lab_id, name, token_hash) VALUES ($1, $2, $3) RETURNING created_at`,
      [labId, name.trim(), hashToken(token)],
    )
    return { lab: { labId, name: name.trim(), createdAt: rows[0].created_at.toISOString(), revokedAt: null }, token }
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new LabError('LAB_EXISTS', `lab ${labId} already exists`, { status: 409 })
    throw err
  }
}

export async function listLabs(pool: PgPool): Promise<Lab[]> {
  const { rows } = await pool.query('SELECT lab_id, name, created_at, revoked_at FROM labs ORDER BY lab_id')
  return rows.map((r) => ({ labId: r.lab_id, name: r.name, createdAt: r.created_at.toISOString(), revokedAt: r.revoked_at?.toISOString() ?? null }))
}

export async function revokeLab(pool: PgPool, labId: string): Promise<void> {
  const { rowCount } = await pool.query('UPDATE labs SET revoked_at = coalesce(revoked_at, now()) WHERE lab_id = $1', [labId])
  if (rowCount === 0) throw new LabError('LAB_UNKNOWN', `no lab ${labId}`, { status: 404 })
}

/** The lab a bearer token belongs to, or null for unknown and revoked tokens. */
export async function labForToken(pool: PgPool, token: string): Promise<string | null> {
  const { rows } = await pool.query('SELECT lab_id FROM labs WHERE token_hash = $1 AND revoked_at IS NULL', [hashToken(token)])
  return rows.length ? rows[0].lab_id : null
}
