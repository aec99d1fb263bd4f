/**
 * The pseudonymised fact of a result: what ClickHouse and the agencies' feed receive. By construction it
 * holds no name, birth date, contact, address or INS: age band instead of birth date, department and region
 * instead of address, dates at day precision (DESIGN.md, "Stores" and "Privacy and security").
 */
import type { CanonicalResult } from './model/canonical.ts'

export interface ResultFact {
  pseudonym: string
  keyId: string
  labId: string
  testType: string
  loinc: string
  result: string
  value: number | null
  unit: string
  ageBand: string
  sex: string
  department: string
  region: string
  country: string
  sampledDate: string
  resultedDate: string
}

/** Ten-year bands, age in completed years on the sampling day; 90 and over together (small counts). */
export function ageBand(birthDate: string, sampledAt: string): string {
  const [by, bm, bd] = birthDate.split('-').map(Number)
  const s = new Date(sampledAt)
  let age = s.getUTCFullYear() - by
  if (s.getUTCMonth() + 1 < bm || (s.getUTCMonth() + 1 === bm && s.getUTCDate() < bd)) age--
  if (age < 0) age = 0
  if (age >= 90) return '90+'
  const low = Math.floor(age / 10) * 10
  return `${String(low).padStart(2, '0')}-${String(low + 9).padStart(2, '0')}`
}

export function factOf(r: CanonicalResult, pseudonym: string, keyId: string): ResultFact {
  return {
    pseudonym,
    keyId,
    labId: r.labId,
    testType: r.testType,
    loinc: r.loinc,
    result: r.result,
    value: r.value ?? null,
    unit: r.unit ?? '',
    ageBand: ageBand(r.patient.birthDate, r.sampledAt),
    sex: r.patient.sex,
    department: r.residence.department ?? '',
    region: r.residence.region ?? '',
    country: r.residence.country,
    // the calendar day in the lab's own offset (the French day for French labs), not the UTC day
    sampledDate: r.sampledAt.slice(0, 10),
    resultedDate: r.resultedAt.slice(0, 10),
  }
}
