/**
 * The HTTP server: the lab-facing API (gateway role) and, for every role, /healthz, /readyz and /metrics.
 * Submissions are parsed in the worker pool, off the event loop (results-route.ts); responses with a
 * schema are serialised by fast-json-stringify.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { registerApiDocs } from './api-docs.ts'
import { readFileSync } from 'node:fs'
import type { JetStreamClient, NatsConnection } from 'nats'
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
import { readSubmission, readResultsByAccession } from './lab-reads.ts'
import { registerResultsRoute } from './results-route.ts'

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

function mapFrameworkError(err: { code?: string; statusCode?: number; message: string }): RequestError {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new RequestError('BODY_TOO_LARGE', 413, err.message)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new RequestError('UNSUPPORTED_MEDIA_TYPE', 415, 'send Content-Type application/json, application/hl7-v2, application/fhir+json or text/csv')
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

  if (gateway) await registerApiDocs(app)

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }))
  app.get('/readyz', { schema: { hide: true } }, async (req, reply) => {
    const checks: Record<string, string> = {}
    if (d.nc) checks.nats = d.nc.isClosed() ? 'down' : 'ok'
    if (d.pg) checks.postgres = await d.pg.query('SELECT 1').then(() => 'ok', () => 'down')
    if (d.clickhouse) checks.clickhouse = await d.clickhouse.ping().then((r) => (r.success ? 'ok' : 'down'), () => 'down')
    const ready = Object.values(checks).every((v) => v === 'ok')
    reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks })
  })
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    reply.header('Content-Type', d.telemetry.registry.contentType).send(await d.telemetry.registry.metrics())
  })

  if (!gateway) return app
  const { nc, js, pg, workers, keys } = d
  if (!nc || !js || !pg || !workers || !keys) throw new Error('gateway role needs NATS, PostgreSQL, workers and keys')

  app.get('/v1/schemas/result.json', async () => RESULT_SCHEMA)

  app.register(async (v1) => {
    v1.addHook('onRequest', async (req: FastifyRequest) => {
      req.labId = await authenticateLab(pg, req.headers.authorization)
    })

    registerResultsRoute(v1, { config: d.config, topology: d.topology, js, pg, workers, telemetry: d.telemetry }, d.config.csvMaxRows)

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

