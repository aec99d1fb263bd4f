/**
 * The HTTP server: the lab-facing API (gateway role) and, for every role, /healthz, /readyz and /metrics.
 * Bodies are taken as raw bytes and parsed in the worker pool, off the event loop; responses are
 * serialised by fast-json-stringify from the schemas below.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { headers as natsHeaders, type JetStreamClient, type NatsConnection } from 'nats'
import type { SidepConfig } from '../config.ts'
import type { Topology } from '../subjects.ts'
import type { PgPool } from '../postgres/pool.ts'
import type { WorkerPool } from '../workers-pool.ts'
import type { Telemetry } from '../telemetry.ts'
import type { KeyFile } from '../keys/key-store.ts'
import type { ClickHouseClient } from '../clickhouse/client.ts'
import type { DccKeys } from '../keys/dcc-keys.ts'
import { registerCertificateRoutes } from './certificate-routes.ts'
import { RequestError, SidepError } from '../errors.ts'
import { authenticateLab } from './auth.ts'
import { ENVELOPE_HEADER, ENVELOPE_VERSION } from '../../workers/envelope.ts'
import { readSubmission, readResultsByAccession } from './lab-reads.ts'

declare module 'fastify' {
  interface FastifyRequest {
    labId: string
  }
}

export interface GatewayDeps {
  config: SidepConfig
  topology: Topology
  nc: NatsConnection | null
  js: JetStreamClient | null
  pg: PgPool | null
  clickhouse: ClickHouseClient | null
  workers: WorkerPool | null
  telemetry: Telemetry
  keys: KeyFile | null
  /** DCC signer certificates and trust list: certificate, trust-list, revocation-list and verify routes (issue 5) */
  dcc?: DccKeys | null
}

const RESULT_SCHEMA = JSON.parse(readFileSync(new URL('../../workers/schemas/result.schema.json', import.meta.url), 'utf8'))

const itemError = {
  type: 'object',
  properties: { index: { type: 'integer' }, code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } },
}
const submissionAnswer = {
  type: 'object',
  properties: {
    submissionId: { type: 'string' },
    accepted: { type: 'integer' },
    rejected: { type: 'array', items: itemError },
    code: { type: 'string' },
    message: { type: 'string' },
  },
}
const errorAnswer = {
  type: 'object',
  properties: { code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } },
}

function mapFrameworkError(err: { code?: string; statusCode?: number; message: string }): RequestError {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new RequestError('BODY_TOO_LARGE', 413, err.message)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new RequestError('UNSUPPORTED_MEDIA_TYPE', 415, 'send Content-Type: application/json')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new RequestError('EMPTY_BODY', 400, 'the body is empty')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new RequestError('INVALID_CONTENT_LENGTH', 400, err.message)
    default:
      if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new RequestError('BAD_REQUEST', err.statusCode, err.message)
      return new RequestError('INTERNAL', 500, 'internal error')
  }
}

export async function buildServer(d: GatewayDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: d.config.bodyLimit, return503OnClosing: true })
  const gateway = d.config.roles.includes('gateway')

  app.setErrorHandler((err, req, reply) => {
    const e = err instanceof RequestError ? err : err instanceof SidepError ? new RequestError(err.code, err.status, err.message) : mapFrameworkError(err as never)
    if (e.status >= 500) d.telemetry.log.error({ event: 'http_error', code: e.code, route: req.routeOptions.url, err: (err as Error).message })
    if (e.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="sidep"')
    if (e.status === 503) reply.header('Retry-After', '5')
    reply.code(e.status).send({ code: e.code, field: e.field || undefined, message: e.message })
  })
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` })
  })

  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (req, reply) => {
    const checks: Record<string, string> = {}
    if (d.nc) checks.nats = d.nc.isClosed() ? 'down' : 'ok'
    if (d.pg) checks.postgres = await d.pg.query('SELECT 1').then(() => 'ok', () => 'down')
    if (d.clickhouse) checks.clickhouse = await d.clickhouse.ping().then((r) => (r.success ? 'ok' : 'down'), () => 'down')
    const ready = Object.values(checks).every((v) => v === 'ok')
    reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks })
  })
  app.get('/metrics', async (req, reply) => {
    reply.header('Content-Type', d.telemetry.registry.contentType).send(await d.telemetry.registry.metrics())
  })

  if (!gateway) return app
  const { nc, js, pg, workers, keys } = d
  if (!nc || !js || !pg || !workers || !keys) throw new Error('gateway role needs NATS, PostgreSQL, workers and keys')

  // Bodies stay bytes here: JSON is parsed and validated in the worker pool.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => done(null, body))

  app.get('/v1/schemas/result.json', async () => RESULT_SCHEMA)

  app.register(async (v1) => {
    v1.addHook('onRequest', async (req: FastifyRequest) => {
      req.labId = await authenticateLab(pg, req.headers.authorization)
    })

    v1.post('/v1/results', { schema: { response: { 202: submissionAnswer, 400: submissionAnswer, 413: submissionAnswer } } }, async (req, reply) => {
      const body = req.body as Buffer | undefined
      if (!body || body.length === 0) throw new RequestError('EMPTY_BODY', 400, 'the body is empty')
      const labId = req.labId
      const submissionId = randomUUID()
      const internalId = `${labId}:${submissionId}`
      const receivedAt = Date.now()
      let admitted
      try {
        admitted = await workers.admit({ labId, submissionId: internalId, receivedAt, now: receivedAt, body, maxItems: d.config.maxItems, chunkItems: d.config.ingestChunkItems })
      } catch (err) {
        if (/queue is at limit/i.test((err as Error).message)) throw new RequestError('OVERLOADED', 503, 'the platform is busy, retry shortly')
        throw err
      }
      if (admitted.kind === 'malformed') {
        d.telemetry.itemsRejected([admitted.error.code])
        const status = admitted.error.code === 'TOO_MANY_ITEMS' ? 413 : 400
        return reply.code(status).send({ code: admitted.error.code, message: admitted.error.message })
      }
      d.telemetry.submissionReceived('http', submissionId, labId, admitted.itemCount, admitted.accepted)
      d.telemetry.itemsRejected(admitted.rejected.map((r) => r.code))
      if (admitted.accepted === 0) {
        return reply.code(400).send({ submissionId, accepted: 0, rejected: admitted.rejected, code: 'NO_VALID_ITEM', message: 'no item of the submission is valid' })
      }
      const h = natsHeaders()
      h.set(ENVELOPE_HEADER, ENVELOPE_VERSION)
      try {
        await Promise.all([
          ...admitted.chunks.map((chunk, k) => js.publish(d.topology.ingest(labId), chunk, { msgID: `${internalId}#${k}`, headers: h })),
          // lets GET /v1/submissions/:id answer 'pending' at once; the processor inserts it too if this fails
          pg.query(
            `INSERT INTO submissions (submission_id, lab_id, source, format, item_count, received_at)
             VALUES ($1, $2, 'http', 'json', $3, $4) ON CONFLICT (submission_id) DO NOTHING`,
            [internalId, labId, admitted.itemCount, new Date(receivedAt).toISOString()],
          ).catch(() => undefined),
        ])
      } catch (err) {
        d.telemetry.log.error({ event: 'ingest_publish_failed', submissionId, labId, err: (err as Error).message })
        throw new RequestError('INGEST_UNAVAILABLE', 503, 'the results could not be stored durably; retry the same submission')
      }
      return reply.code(202).send({ submissionId, accepted: admitted.accepted, rejected: admitted.rejected })
    })

    v1.get<{ Params: { id: string } }>('/v1/submissions/:id', async (req) => {
      const found = await readSubmission(pg, req.labId, req.params.id)
      if (!found) throw new RequestError('SUBMISSION_NOT_FOUND', 404, 'no such submission for this lab')
      return found
    })

    v1.get<{ Querystring: { accession?: string } }>('/v1/results', async (req) => {
      const accession = req.query.accession
      if (!accession || accession.length > 64) throw new RequestError('ACCESSION_REQUIRED', 400, 'give ?accession=<accession> (at most 64 characters)', 'accession')
      return { results: await readResultsByAccession(pg, keys, req.labId, accession) }
    })
  })
  if (d.dcc) await registerCertificateRoutes(app, { pg, telemetry: d.telemetry, dcc: d.dcc, country: d.config.dccCountry })
  return app
}

export { errorAnswer }
