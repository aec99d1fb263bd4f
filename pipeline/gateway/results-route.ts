/**
 * POST /v1/results: a lab's submission in any of the formats labs speak, chosen by Content-Type:
 *   application/json                                  one canonical result or an array (DESIGN.md contract)
 *   application/hl7-v2, x-application/hl7-v2+er7      ORU^R01 message(s), optionally in FHS/BHS batches
 *   application/fhir+json                             a FHIR R4 Bundle
 *   text/csv                                          a bulk upload, streamed (template: /v1/templates/results.csv)
 * The answer is the same JSON summary for every format; HL7 senders that Accept application/hl7-v2 get
 * the HL7 ACK(s) instead, FHIR senders get an OperationOutcome unless they Accept application/json.
 */
import { readFileSync } from 'node:fs'
import type { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { RequestError } from '../errors.ts'
import { admitBody, admitCsvStream, type Admission, type IngestDeps } from './ingest-submission.ts'
import { resultSchema } from '../../workers/validate/validate.ts'

export const HL7_TYPES = ['application/hl7-v2', 'x-application/hl7-v2+er7']
const CSV_TEMPLATE = readFileSync(new URL('../../workers/parse/results-template.csv', import.meta.url))

const itemError = {
  type: 'object',
  properties: { index: { type: 'integer' }, code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } },
  required: ['index', 'code', 'field', 'message'],
}
/** The JSON answer (serialised by fast-json-stringify, and documented in the OpenAPI description). */
export const submissionAnswer = {
  type: 'object',
  properties: {
    submissionId: { type: 'string' },
    accepted: { type: 'integer' },
    rejected: { type: 'array', items: itemError },
    code: { type: 'string' },
    message: { type: 'string' },
  },
}
export const errorAnswer = {
  type: 'object',
  properties: { code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } },
  required: ['code', 'message'],
}

/** The request body as the OpenAPI description shows it: the same schema file the workers validate with. */
const jsonBody = { oneOf: [resultSchema, { type: 'array', items: resultSchema, minItems: 1, maxItems: 5000 }] }

function wants(req: FastifyRequest, type: string): boolean {
  return (req.headers.accept ?? '').toLowerCase().includes(type)
}

/** The submission id and counts as an informational issue, so a FHIR client needs nothing else. */
function withSummary(outcome: { issue: unknown[] }, a: Admission): unknown {
  const summary = {
    severity: 'information',
    code: 'informational',
    details: { coding: [{ system: 'urn:sidep:submission', code: a.submissionId }], text: `submission ${a.submissionId}: ${a.accepted} accepted, ${new Set(a.rejected.map((r) => r.index)).size} rejected` },
  }
  const issues = outcome.issue.filter((i) => (i as { diagnostics?: string }).diagnostics !== 'all items accepted')
  return { ...outcome, issue: [summary, ...issues] }
}

function statusOf(a: Admission): number {
  if (a.malformed) return a.malformed.code === 'TOO_MANY_ITEMS' ? 413 : 400
  return a.accepted > 0 ? 202 : 400
}

function sendAdmission(req: FastifyRequest, reply: FastifyReply, format: 'json' | 'hl7v2' | 'fhir' | 'csv', a: Admission) {
  const status = statusOf(a)
  if (!a.malformed && a.accepted + a.rejected.length > 0) {
    reply.header('Location', `/v1/submissions/${a.submissionId}`)
    reply.header('Sidep-Submission-Id', a.submissionId)
  }
  if (format === 'hl7v2' && a.acks && HL7_TYPES.some((t) => wants(req, t))) {
    // HL7 v2.5.1 2.9: one ACK per message; segments end with CR
    return reply.code(status).type('application/hl7-v2').send(a.acks.map((ack) => (ack.endsWith('\r') ? ack : `${ack}\r`)).join(''))
  }
  if (format === 'fhir' && !wants(req, 'application/json')) {
    const outcome = a.malformed
      ? { resourceType: 'OperationOutcome', issue: [{ severity: 'fatal', code: 'invalid', details: { coding: [{ system: 'urn:sidep:error-code', code: a.malformed.code }], text: a.malformed.message }, expression: a.malformed.field ? [a.malformed.field] : undefined }] }
      : withSummary(a.operationOutcome as { issue: unknown[] }, a)
    return reply.code(status).type('application/fhir+json').send(JSON.stringify(outcome))
  }
  if (a.malformed) return reply.code(status).send({ code: a.malformed.code, field: a.malformed.field || undefined, message: a.malformed.message })
  if (a.accepted === 0) {
    return reply.code(400).send({ submissionId: a.submissionId, accepted: 0, rejected: a.rejected, code: 'NO_VALID_ITEM', message: 'no item of the submission is valid' })
  }
  return reply.code(202).send({ submissionId: a.submissionId, accepted: a.accepted, rejected: a.rejected })
}

export function registerResultsRoute(v1: FastifyInstance, d: IngestDeps, csvMaxRows: number): void {
  v1.removeAllContentTypeParsers()
  // Bodies stay bytes: they are parsed and validated in the worker pool, off the event loop.
  v1.addContentTypeParser(['application/json', 'application/fhir+json', ...HL7_TYPES], { parseAs: 'buffer' }, (req, body, done) => done(null, body))
  // CSV is not buffered at all: the handler reads the request stream batch by batch.
  v1.addContentTypeParser('text/csv', (req, payload, done) => done(null, payload))

  v1.get('/v1/templates/results.csv', { schema: { summary: 'The CSV upload template (header line)', tags: ['results'] } }, async (req, reply) => {
    reply.type('text/csv; charset=utf-8').header('Content-Disposition', 'attachment; filename="results.csv"').send(CSV_TEMPLATE)
  })

  v1.post(
    '/v1/results',
    {
      schema: {
        summary: 'Submit results (JSON, HL7 v2.5.1 ORU^R01, FHIR R4 Bundle or CSV)',
        tags: ['results'],
        consumes: ['application/json', 'application/fhir+json', 'text/csv', ...HL7_TYPES],
        body: jsonBody,
        response: { 202: submissionAnswer, 400: submissionAnswer, 413: submissionAnswer, 401: errorAnswer, 415: errorAnswer, 503: errorAnswer },
      },
      // the body schema documents the contract; validation itself happens in the workers, item by item,
      // with the same schema file, so that one bad item does not reject its neighbours
      validatorCompiler: () => () => true,
    },
    async (req, reply) => {
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
      if (type === 'text/csv') {
        return sendAdmission(req, reply, 'csv', await admitCsvStream(d, req.labId, req.body as Readable, csvMaxRows))
      }
      const body = req.body as Buffer | undefined
      if (!body || body.length === 0) throw new RequestError('EMPTY_BODY', 400, 'the body is empty')
      const format = HL7_TYPES.includes(type) ? 'hl7v2' : type === 'application/fhir+json' ? 'fhir' : 'json'
      return sendAdmission(req, reply, format, await admitBody(d, req.labId, format, body, 'http'))
    },
  )
}
