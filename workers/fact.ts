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

/** Residence → subject tokens: French residence by region and department, else 'foreign.<country>' or 'unknown.none'. */
export function placeTokens(department: string | null, region: string | null, country: string): [string, string] {
  if (department && region) return [region, department]
  if (country && country !== 'FR' && /^[A-Z]{2}$/.test(country)) return ['foreign', country]
  return ['unknown', 'none']
}

/** The `<region>.<department>` subject suffix of a result's RESULTS and FEED messages. */
export function placeKey(r: CanonicalResult): string {
  const [region, department] = placeTokens(r.residence.department, r.residence.region, r.residence.country)
  return `${region}.${department}`
}

/**
 * A fact as JSON without its opening brace (`"pseudonym":…}`): the processor prepends the outcome fields of
 * a FEED record by string concatenation once PostgreSQL has given them (pipeline/processor/outputs.ts).
 */
export function factJsonTail(fact: ResultFact): string {
  return JSON.stringify(fact).slice(1)
}
