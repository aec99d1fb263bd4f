/**
 * The rows the processor hands to sidep_apply_items (sql/postgres/): one JSON object per item, accepted or
 * rejected, built in the worker so the main thread only joins strings. Identified fields go to PostgreSQL
 * only; the contact fields are sealed (crypto_secretbox) before they leave the worker.
 */
import { sodium } from './sodium.ts'
import type { CanonicalResult, ItemError } from './model/canonical.ts'
import { seal } from './seal.ts'
import { normaliseName } from './validate/identity.ts'

export interface RowKeys {
  pseudonymKeyId: string
  sealKey: Uint8Array
  sealKeyId: string
}

function contentHash(r: CanonicalResult): string {
  return sodium.crypto_generichash(16, JSON.stringify(r), null, 'hex')
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

export function pgRowFor(r: CanonicalResult, submissionId: string, index: number, seq: number, pseudonym: string, k: RowKeys): string {
  const p = r.patient
  const contact = p.address || p.phone || p.email ? { address: p.address, phone: p.phone, email: p.email } : null
  const sealed = contact ? base64(seal(JSON.stringify(contact), k.sealKey, k.sealKeyId)) : null
  const record = {
    accession: r.accession, loinc: r.loinc, result: r.result, value: r.value, unit: r.unit, status: r.status,
    sampledAt: r.sampledAt, resultedAt: r.resultedAt, specimen: r.specimen, device: r.device, orderId: r.orderId,
    patient: { ins: p.ins, family: p.family, given: p.given, birthDate: p.birthDate, sex: p.sex },
    prescriber: r.prescriber,
  }
  return JSON.stringify({
    s: submissionId, i: index, lab: r.labId, acc: r.accession, loinc: r.loinc, ts: r.resultedAt, seq, st: r.status,
    h: contentHash(r),
    p: { ins: p.ins ?? null, fn: normaliseName(p.family), gn: normaliseName(p.given[0]), bd: p.birthDate, sex: p.sex, family: p.family, given: p.given, cs: sealed },
    ps: pseudonym, kid: k.pseudonymKeyId, tt: r.testType, res: r.result, sa: r.sampledAt,
    dep: r.residence.department, reg: r.residence.region, co: r.residence.country, rec: record, cs: sealed,
  })
}

export function rejectedRow(submissionId: string, index: number, errors: ItemError[]): string {
  return JSON.stringify({ s: submissionId, i: index, err: errors })
}
