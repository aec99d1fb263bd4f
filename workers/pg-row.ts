/**
 * The rows the processor stages for sidep_apply_staged (sql/postgres/006_apply_staged.sql): one line per item,
 * accepted or rejected, in PostgreSQL's COPY text format (tab-separated columns, `\N` for NULL, backslash
 * escapes; PostgreSQL documentation, "COPY", section "Text Format"), built in the worker so the main thread
 * only prefixes the arrival order and joins. The columns are those of sidep_staged_items after `ord`, in the order
 * of COPY_COLUMNS. Identified fields go to PostgreSQL only; the contact fields are sealed (crypto_secretbox)
 * before they leave the worker.
 *
 * Besides the item, the line carries what 004 used to derive in SQL (the patient's identity key, the fast-path
 * outcome of a new key) and a UUID version 7 (RFC 9562, section 5.7) as the result_id of a new key: time
 * ordered, so the primary key indexes of results and result_versions grow at their right edge.
 */
import { randomUUID } from 'node:crypto'
import { genericHashHex } from './sodium.ts'
import type { CanonicalResult, ItemError } from './model/canonical.ts'
import { seal } from './seal.ts'
import { normaliseName } from './validate/identity.ts'

export interface RowKeys {
  pseudonymKeyId: string
  sealKey: Uint8Array
  sealKeyId: string
}

/** the staging table's columns that a line fills, after `ord` (see sidep_apply_stage in 006) */
export const COPY_COLUMNS = 'kind, s, i, err, lab, acc, loinc, ts, seq, st, h, rid, ident, ins, fn, gn, bd, sex, family, given, ps, kid, tt, res, sa, dep, reg, co, rec, cs, o_status, o_state'

const NULL = '\\N'
const SPECIAL = /[\\\t\n\r]/
const SPECIAL_ALL = /[\\\t\n\r]/g
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

/** one COPY text field: NULL as \N, backslash, tab, newline and carriage return escaped */
function f(v: string | null | undefined): string {
  if (v === null || v === undefined) return NULL
  return SPECIAL.test(v) ? v.replace(SPECIAL_ALL, (ch) => ESCAPES[ch]) : v
}

/** a text[] literal (PostgreSQL "Arrays", section "Array Value Input"): every element double-quoted */
function textArray(values: string[]): string {
  let out = '{'
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    const quoted = v.indexOf('"') < 0 && v.indexOf('\\') < 0 ? v : v.replace(/["\\]/g, '\\$&')
    out += i ? ',"' + quoted + '"' : '"' + quoted + '"'
  }
  return out + '}'
}

// the time part of a UUIDv7 changes once a millisecond: its hex is kept for the rows of the same one
let uuidMs = -1
let uuidTime = ''

/** UUID version 7: 48-bit Unix milliseconds, then version, variant and 74 random bits from a v4 UUID */
function uuidV7(now: number): string {
  if (now !== uuidMs) {
    const ms = now.toString(16).padStart(12, '0')
    uuidTime = `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7`
    uuidMs = now
  }
  return uuidTime + randomUUID().slice(15)
}

/**
 * BLAKE2b-128 of the canonical result's JSON (UTF-8). PostgreSQL compares it with the stored version's to tell
 * a resend ('duplicate') from a correction, so its value must never change for the same result.
 */
function contentHash(r: CanonicalResult): string {
  return genericHashHex(16, JSON.stringify(r), null)
}

export function pgRowFor(r: CanonicalResult, submissionId: string, index: number, seq: number, pseudonym: string, k: RowKeys): string {
  const p = r.patient
  const contact = p.address || p.phone || p.email ? { address: p.address, phone: p.phone, email: p.email } : null
  // bytea in hex input format, its backslash escaped for COPY
  const sealed = contact ? `\\\\x${Buffer.from(seal(JSON.stringify(contact), k.sealKey, k.sealKeyId)).toString('hex')}` : NULL
  const record = {
    accession: r.accession, loinc: r.loinc, result: r.result, value: r.value, unit: r.unit, status: r.status,
    sampledAt: r.sampledAt, resultedAt: r.resultedAt, specimen: r.specimen, device: r.device, orderId: r.orderId,
    patient: { ins: p.ins, family: p.family, given: p.given, birthDate: p.birthDate, sex: p.sex },
    prescriber: r.prescriber,
  }
  const fn = normaliseName(p.family)
  const gn = normaliseName(p.given[0])
  // one patient per INS, else per normalised traits (the unit separator cannot occur in a normalised name)
  const ident = p.ins ? `I${p.ins}` : `T\x1f${fn}\x1f${gn}\x1f${p.birthDate}\x1f${p.sex}`
  const state = r.status === 'cancelled' || r.status === 'corrected' ? r.status : 'final'
  return `f\t${f(submissionId)}\t${index}\t${NULL}\t${f(r.labId)}\t${f(r.accession)}\t${f(r.loinc)}\t${f(r.resultedAt)}\t${seq}\t${f(r.status)}\t` +
    `\\\\x${contentHash(r)}\t${uuidV7(Date.now())}\t${f(ident)}\t${f(p.ins ?? null)}\t${f(fn)}\t${f(gn)}\t${f(p.birthDate)}\t${f(p.sex)}\t` +
    `${f(p.family)}\t${f(textArray(p.given))}\t${f(pseudonym)}\t${f(k.pseudonymKeyId)}\t${f(r.testType)}\t${f(r.result)}\t${f(r.sampledAt)}\t` +
    `${f(r.residence.department)}\t${f(r.residence.region)}\t${f(r.residence.country)}\t${f(JSON.stringify(record))}\t${sealed}\t` +
    `${state === 'cancelled' ? 'cancelled' : 'stored'}\t${state}`
}

/** the 28 columns after err that a rejected item leaves NULL */
const REJECTED_TAIL = `\t${NULL}`.repeat(28)

export function rejectedRow(submissionId: string, index: number, errors: ItemError[]): string {
  return `x\t${f(submissionId)}\t${index}\t${f(JSON.stringify(errors))}${REJECTED_TAIL}`
}
