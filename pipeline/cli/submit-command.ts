/**
 * `sidep submit <file> --lab <labId> --token <token> [--url <gateway>] [--wait]`: sends a file the way a
 * lab system would (format detected from the content: HL7 v2, FHIR, JSON or CSV) and prints the itemised
 * outcome; with --wait, follows the submission until every item is processed. A tool for lab integrators.
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import { detectFormat, type LabFormat } from '../../workers/parse/detect.ts'
import { SidepError } from '../errors.ts'

const CONTENT_TYPES: Record<LabFormat, string> = {
  hl7v2: 'application/hl7-v2',
  fhir: 'application/fhir+json',
  json: 'application/json',
  csv: 'text/csv',
}

export const SUBMIT_USAGE = 'usage: sidep submit <file> --lab <labId> --token <token> [--url http://127.0.0.1:8080] [--wait]'

async function head(path: string): Promise<Buffer> {
  const file = await open(path, 'r')
  try {
    const buf = Buffer.alloc(64 * 1024)
    const { bytesRead } = await file.read(buf, 0, buf.length, 0)
    return buf.subarray(0, bytesRead)
  } finally {
    await file.close()
  }
}

export async function submitCommand(args: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { lab: { type: 'string' }, token: { type: 'string' }, url: { type: 'string', default: 'http://127.0.0.1:8080' }, wait: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  })
  const [file] = positionals
  if (!file || !values.lab || !values.token) throw new SidepError('USAGE', SUBMIT_USAGE, { status: 2 })
  // tokens are minted as sidep_<labId>_<secret>: catch a token pasted for the wrong lab before sending
  if (values.token.startsWith('sidep_') && !values.token.startsWith(`sidep_${values.lab}_`)) {
    throw new SidepError('TOKEN_LAB_MISMATCH', `this token was not issued to lab ${values.lab}`, { status: 2 })
  }
  const format = detectFormat(await head(file))
  const base = values.url.replace(/\/$/, '')
  const res = await fetch(`${base}/v1/results`, {
    method: 'POST',
    headers: { authorization: `Bearer ${values.token}`, 'content-type': CONTENT_TYPES[format], accept: 'application/json' },
    body: Readable.toWeb(createReadStream(file)) as unknown as BodyInit,
    duplex: 'half',
  } as RequestInit)
  const text = await res.text()
  let body: { submissionId?: string; accepted?: number; rejected?: Array<{ index: number; code: string; field: string; message: string }>; code?: string; message?: string }
  try {
    body = JSON.parse(text)
  } catch {
    out(`HTTP ${res.status}: ${text.slice(0, 500)}`)
    return 1
  }
  out(`${file}: ${format} → HTTP ${res.status}${body.submissionId ? `, submission ${body.submissionId}` : ''}`)
  if (body.code && !body.rejected) out(`  ${body.code}: ${body.message}`)
  if (body.accepted !== undefined) out(`  accepted ${body.accepted}, rejected ${new Set((body.rejected ?? []).map((r) => r.index)).size}`)
  for (const r of body.rejected ?? []) out(`  item ${r.index}  ${r.code}  ${r.field || '-'}  ${r.message}`)
  if (values.wait && body.submissionId && (body.accepted ?? 0) > 0) {
    const deadline = Date.now() + 120_000
    for (;;) {
      const s = await fetch(`${base}/v1/submissions/${body.submissionId}`, { headers: { authorization: `Bearer ${values.token}` } })
      const view = (await s.json()) as { items: Array<{ index: number; status: string; resultId: string | null }> }
      const pending = view.items.filter((i) => i.status === 'pending').length
      if (pending === 0 || Date.now() > deadline) {
        const counts = new Map<string, number>()
        for (const i of view.items) counts.set(i.status, (counts.get(i.status) ?? 0) + 1)
        out(`  processed: ${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')}`)
        for (const i of view.items) if (i.resultId) out(`  item ${i.index}  ${i.status}  result ${i.resultId}`)
        break
      }
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  return res.status >= 200 && res.status < 300 ? 0 : 1
}
