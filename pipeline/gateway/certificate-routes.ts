/**
 * Proof of testing over HTTP (issue 5), one plugin registered by server.ts:
 *
 *   GET  /v1/results/:resultId/certificate[?format=json|png|svg]   the submitting lab (bearer token); audited
 *   GET  /v1/trust-list        { certificates: [{ kid, certificate }] }                public
 *   GET  /v1/revocation-list   { hashType: 'UCI', entries: [{ hash, kid, ... }] }     public
 *   POST /v1/dcc/verify        HC1 string, or { hc1, now? } → verdict naming the failing step   public
 *
 * The three public routes need no lab token on purpose: a trust list and a revocation list exist to be
 * downloaded by every verifier (the EU DCC gateway publishes the same data), and verifying a QR only
 * returns what the QR itself holds, checked against those public lists.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { PgPool } from '../postgres/pool.ts'
import type { Telemetry } from '../telemetry.ts'
import type { DccKeys } from '../keys/dcc-keys.ts'
import { RequestError } from '../errors.ts'
import { authenticateLab } from './auth.ts'
import { isRevoked, readCertificate, readRevocations } from './certificate-reads.ts'
import { hc1ToPng, hc1ToSvg } from '../../workers/dcc/qr.ts'
import { verifyHc1, type VerifyResult, type VerifyStep } from '../../workers/dcc/verify.ts'
import { REVOCATION_HASH_TYPE } from '../../workers/dcc/revocation.ts'

export interface CertificateRouteDeps {
  pg: PgPool
  telemetry: Telemetry
  dcc: DccKeys
  /** DCC `co` / CWT `iss` of this platform */
  country: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** an HC1 fits a version 40 QR code (4,296 alphanumeric characters); a JSON wrapper adds little */
const VERIFY_BODY_LIMIT = 16 * 1024

/** The library's verdict plus one step only the platform can check: its own revocation list. */
export interface VerifyVerdict extends Omit<VerifyResult, 'failedStep' | 'error'> {
  failedStep?: VerifyStep | 'revocation'
  error?: { code: string; message: string }
  /** set when every step passed but this platform has revoked the certificate */
  revoked?: boolean
}

function parseVerifyBody(body: unknown): { hc1: string; now?: number } {
  let value: unknown = body
  if (typeof value === 'string' && value.trimStart().startsWith('{')) {
    try {
      value = JSON.parse(value)
    } catch {
      throw new RequestError('MALFORMED_JSON', 400, 'the body is not valid JSON')
    }
  } else if (typeof value === 'string' && value.trimStart().startsWith('"')) {
    try {
      value = JSON.parse(value)
    } catch {
      throw new RequestError('MALFORMED_JSON', 400, 'the body is not valid JSON')
    }
  }
  if (typeof value === 'string') {
    if (value.trim() === '') throw new RequestError('EMPTY_BODY', 400, 'send the HC1 string, or { "hc1": "HC1:...", "now": "<ISO 8601>" }')
    return { hc1: value.trim() }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RequestError('INVALID_BODY', 400, 'send the HC1 string, or { "hc1": "HC1:...", "now": "<ISO 8601>" }')
  }
  const o = value as Record<string, unknown>
  if (typeof o.hc1 !== 'string') throw new RequestError('INVALID_VALUE', 400, 'hc1 must be a string', 'hc1')
  let now: number | undefined
  if (o.now !== undefined) {
    now = typeof o.now === 'number' ? o.now : typeof o.now === 'string' ? Date.parse(o.now) : NaN
    if (!Number.isFinite(now)) throw new RequestError('INVALID_VALUE', 400, 'now must be an ISO 8601 instant or epoch milliseconds', 'now')
  }
  return { hc1: o.hc1, now }
}

/** The `ci` of the one certificate entry (t, v or r) of a decoded payload. */
function ciOf(payload: Record<string, unknown> | undefined): string | undefined {
  for (const group of ['t', 'v', 'r']) {
    const entries = payload?.[group]
    if (Array.isArray(entries) && entries[0] && typeof entries[0].ci === 'string') return entries[0].ci
  }
  return undefined
}

export async function registerCertificateRoutes(app: FastifyInstance, d: CertificateRouteDeps): Promise<void> {
  await app.register(async (scope) => {
    // this plugin's own body parsers (encapsulated): the HC1 as text, or JSON read here
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser(['text/plain', 'application/json'], { parseAs: 'string', bodyLimit: VERIFY_BODY_LIMIT }, (req, body, done) => done(null, body))

    scope.get('/v1/trust-list', async (req, reply) => {
      reply.header('Cache-Control', 'public, max-age=300')
      return { certificates: d.dcc.trusted.map((t) => ({ kid: t.kid, certificate: t.certificate.raw.toString('base64') })) }
    })

    scope.get('/v1/revocation-list', async (req, reply) => {
      reply.header('Cache-Control', 'public, max-age=60')
      return { country: d.country, hashType: REVOCATION_HASH_TYPE, generatedAt: new Date().toISOString(), entries: await readRevocations(d.pg) }
    })

    scope.post('/v1/dcc/verify', async (req) => {
      const { hc1, now } = parseVerifyBody(req.body)
      const verdict: VerifyVerdict = verifyHc1(hc1, { trustStore: d.dcc.trustStore, now })
      if (verdict.valid) {
        const ci = ciOf(verdict.payload)
        if (ci !== undefined && (await isRevoked(d.pg, ci))) {
          verdict.valid = false
          verdict.revoked = true
          verdict.failedStep = 'revocation'
          verdict.error = { code: 'DCC_REVOKED', message: 'the issuer has revoked this certificate (revocation list, hash type UCI)' }
        }
      }
      d.telemetry.dccVerified(verdict.valid ? 'valid' : (verdict.failedStep ?? 'invalid'))
      return verdict
    })

    await scope.register(async (labScope) => {
      labScope.addHook('onRequest', async (req: FastifyRequest) => {
        req.labId = await authenticateLab(d.pg, req.headers.authorization)
      })
      labScope.get<{ Params: { resultId: string }; Querystring: { format?: string } }>('/v1/results/:resultId/certificate', async (req, reply) => {
        const format = req.query.format ?? 'json'
        if (format !== 'json' && format !== 'png' && format !== 'svg') {
          throw new RequestError('INVALID_FORMAT', 400, 'format must be json, png or svg', 'format')
        }
        const resultId = req.params.resultId
        // another lab's result and an unknown one answer alike: a lab learns nothing about others' results
        const found = UUID.test(resultId) ? await readCertificate(d.pg, req.labId, resultId, format) : { kind: 'no-result' as const }
        switch (found.kind) {
          case 'no-result':
            throw new RequestError('RESULT_NOT_FOUND', 404, 'no such result for this lab')
          case 'cancelled':
            throw new RequestError('CERTIFICATE_REVOKED', 410, 'the result was cancelled: its certificate is revoked')
          case 'not-issued':
            return reply.code(404).send({ code: 'NO_CERTIFICATE', reason: found.reason, message: `this result gets no EU DCC (${found.reason})` })
          case 'pending':
            reply.header('Retry-After', '2')
            throw new RequestError('CERTIFICATE_PENDING', 404, 'the certificate is not issued yet: retry shortly')
        }
        reply.header('Cache-Control', 'no-store')
        if (format === 'png') return reply.type('image/png').send(await hc1ToPng(found.hc1))
        if (format === 'svg') return reply.type('image/svg+xml').send(await hc1ToSvg(found.hc1))
        return { hc1: found.hc1, ci: found.ci, exp: found.exp.toISOString() }
      })
    })
  })
}
