/**
 * `sidep dcc verify <HC1 string | file> [--cert <pem>] [--trust-list <file|url>] [--now <iso>] [--json]`
 *
 * Decodes and verifies one HC1 (prefix → base45 → zlib → COSE → signature → CWT → schema → expiry, as
 * workers/dcc/verify.ts), prints the decoded payload and a verdict naming the failing step. Exit code 0
 * when valid, 1 when invalid, 2 on a usage error.
 *
 * The signature is checked against, in order of preference: the certificate given with --cert (PEM, or
 * base64 DER); a trust list given with --trust-list (a JSON file or the URL of a running platform's
 * GET /v1/trust-list); else this installation's own signer certificates (<dataDir>/dcc or
 * SIDEP_DCC_CERT_FILE, plus the trusted ones). A file may also be one of the official dgc-testdata JSON
 * files: its PREFIX is verified, with its TESTCTX.CERTIFICATE and VALIDATIONCLOCK unless overridden.
 */
import { existsSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { optionsFromEnv, parseConfig } from '../config.ts'
import { SidepError } from '../errors.ts'
import { loadDccKeys } from '../keys/dcc-keys.ts'
import { TrustStore, verifyHc1, type TrustListEntry, type VerifyOptions, type VerifyResult } from '../../workers/dcc/verify.ts'

export const DCC_USAGE = 'sidep dcc verify <HC1 string | file> [--cert <pem file>] [--trust-list <file | url>] [--now <ISO 8601>] [--json]'

interface Input {
  hc1: string
  certificate?: string
  now?: number
}

function readInput(arg: string): Input {
  const trimmed = arg.trim()
  if (/^HC1:/i.test(trimmed) || !existsSync(arg)) return { hc1: trimmed }
  const text = readFileSync(arg, 'utf8')
  const t = text.trim()
  if (t.startsWith('{')) {
    let doc: { PREFIX?: unknown; hc1?: unknown; TESTCTX?: { CERTIFICATE?: unknown; VALIDATIONCLOCK?: unknown } }
    try {
      doc = JSON.parse(t)
    } catch {
      return { hc1: t }
    }
    const hc1 = typeof doc.PREFIX === 'string' ? doc.PREFIX : typeof doc.hc1 === 'string' ? doc.hc1 : t
    const clock = typeof doc.TESTCTX?.VALIDATIONCLOCK === 'string' ? Date.parse(doc.TESTCTX.VALIDATIONCLOCK) : NaN
    return {
      hc1,
      certificate: typeof doc.TESTCTX?.CERTIFICATE === 'string' ? doc.TESTCTX.CERTIFICATE : undefined,
      now: Number.isFinite(clock) ? clock : undefined,
    }
  }
  return { hc1: t }
}

async function readTrustList(source: string): Promise<TrustStore> {
  let text: string
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source)
    if (!res.ok) throw new SidepError('TRUST_LIST_UNAVAILABLE', `GET ${source} answered ${res.status}`)
    text = await res.text()
  } else {
    text = readFileSync(source, 'utf8')
  }
  let doc: { certificates?: TrustListEntry[] }
  try {
    doc = JSON.parse(text)
  } catch {
    throw new SidepError('USAGE', `${source} is not a JSON trust list ({ "certificates": [{ "kid", "certificate" }] })`)
  }
  if (!Array.isArray(doc.certificates)) throw new SidepError('USAGE', `${source} has no "certificates" array`)
  return new TrustStore(doc.certificates)
}

function verdictLine(v: VerifyResult): string {
  if (v.valid) return 'VALID: every step passed (prefix, base45, zlib, COSE, signature, CWT, schema, expiry)'
  return `INVALID at step ${v.failedStep}: ${v.error?.code} ${v.error?.message ?? ''}`.trimEnd()
}

/** Returns the process exit code (0 valid, 1 invalid). */
export async function dccCommand(args: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { cert: { type: 'string' }, 'trust-list': { type: 'string' }, now: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  })
  const [verb, arg] = positionals
  if (verb !== 'verify' || arg === undefined || positionals.length > 2) throw new SidepError('USAGE', `usage: ${DCC_USAGE}`)
  const input = readInput(arg)
  const options: VerifyOptions = {}
  if (values.now !== undefined) {
    const now = Date.parse(values.now)
    if (!Number.isFinite(now)) throw new SidepError('USAGE', `--now must be an ISO 8601 instant (got '${values.now}')`)
    options.now = now
  } else if (input.now !== undefined) {
    options.now = input.now
  }
  if (values.cert !== undefined) {
    options.certificate = readFileSync(values.cert, 'utf8')
  } else if (values['trust-list'] !== undefined) {
    options.trustStore = await readTrustList(values['trust-list'])
  } else if (input.certificate !== undefined) {
    options.certificate = input.certificate
  } else {
    const config = parseConfig(optionsFromEnv())
    try {
      options.trustStore = (await loadDccKeys(config, { privateKey: false })).trustStore
    } catch (err) {
      // no local signer: the signature step then fails with "no trusted certificate given", naming itself
      if ((err as SidepError).code !== 'DCC_KEYS_MISSING') throw err
    }
  }
  let verdict: VerifyResult
  try {
    verdict = verifyHc1(input.hc1, options)
  } catch (err) {
    // a --cert that is not a certificate: name the step it broke
    verdict = { valid: false, failedStep: 'signature', error: { code: 'DCC_BAD_KEY', message: (err as Error).message } }
  }
  if (values.json) {
    out.write(JSON.stringify(verdict, null, 2) + '\n')
  } else {
    if (verdict.header) out.write(`header   ${JSON.stringify(verdict.header)}\n`)
    if (verdict.claims) {
      const c = verdict.claims
      const at = (s?: number) => (s === undefined ? undefined : new Date(s * 1000).toISOString())
      out.write(`claims   ${JSON.stringify({ iss: c.iss, iat: at(c.iat), exp: at(c.exp) })}\n`)
    }
    if (verdict.payload) out.write(`payload  ${JSON.stringify(verdict.payload, null, 2).replace(/\n/g, '\n         ')}\n`)
    if (verdict.schemaErrors?.length) out.write(`schema   ${verdict.schemaErrors.join('\n         ')}\n`)
    out.write(`${verdictLine(verdict)}\n`)
  }
  return verdict.valid ? 0 : 1
}
