/** Bearer-token authentication of labs (RFC 6750). The token decides the lab; the body never does. */
import type { PgPool } from '../postgres/pool.ts'
import { RequestError } from '../errors.ts'
import { labForToken } from '../labs/lab-registry.ts'

export async function authenticateLab(pg: PgPool, authorization: string | undefined): Promise<string> {
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]{1,512})$/i.exec(authorization ?? '')
  if (!match) throw new RequestError('UNAUTHORIZED', 401, 'send Authorization: Bearer <lab token>')
  const labId = await labForToken(pg, match[1])
  if (!labId) throw new RequestError('UNAUTHORIZED', 401, 'unknown or revoked token')
  return labId
}
