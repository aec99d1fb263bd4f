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
  // the sampling day is the UTC day of the instant (Date.parse gives the same time value as new Date)
  const t = Date.parse(sampledAt)
  if (birthDate.length !== 10 || !Number.isFinite(t)) return ageBandSlow(birthDate, sampledAt)
  const by = digits(birthDate, 0, 4)
  const bm = digits(birthDate, 5, 7)
  const bd = digits(birthDate, 8, 10)
  if (by < 0 || bm < 0 || bd < 0) return ageBandSlow(birthDate, sampledAt)
  const day = utcDay(t)
  let age = day.y - by
  if (day.m < bm || (day.m === bm && day.d < bd)) age--
  if (age < 0) age = 0
  return BANDS[age >= 90 ? 9 : Math.floor(age / 10)]
}

const BANDS = ['00-09', '10-19', '20-29', '30-39', '40-49', '50-59', '60-69', '70-79', '80-89', '90+']

/** the general form, for inputs that are not a YYYY-MM-DD birth date and a parseable instant */
function ageBandSlow(birthDate: string, sampledAt: string): string {
  const [by, bm, bd] = birthDate.split('-').map(Number)
  const s = new Date(sampledAt)
  let age = s.getUTCFullYear() - by
  if (s.getUTCMonth() + 1 < bm || (s.getUTCMonth() + 1 === bm && s.getUTCDate() < bd)) age--
  if (age < 0) age = 0
  if (age >= 90) return '90+'
  const low = Math.floor(age / 10) * 10
  return `${String(low).padStart(2, '0')}-${String(low + 9).padStart(2, '0')}`
}

/** the decimal number written by text[from, to), or -1 when a character there is not a digit */
function digits(text: string, from: number, to: number): number {
  let n = 0
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1
    n = n * 10 + c
  }
  return n
}

// results of a batch are sampled over a few days: the last day's calendar date is kept
let dayStart = Number.NaN
let dayOf = { y: 0, m: 0, d: 0 }
/** UTC calendar date (month 1-12) of an epoch-ms time value */
function utcDay(t: number): { y: number; m: number; d: number } {
  if (!(t >= dayStart && t < dayStart + 86_400_000)) {
    const s = new Date(t)
    dayOf = { y: s.getUTCFullYear(), m: s.getUTCMonth() + 1, d: s.getUTCDate() }
    dayStart = t - (t % 86_400_000 + 86_400_000) % 86_400_000
  }
  return dayOf
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

/**
 * factJsonTail(factOf(r, pseudonym, keyId)) without the intermediate object and JSON.stringify's generic walk:
 * the same text, byte for byte (same keys in the same order; strings through jsonString, which defers to
 * JSON.stringify whenever one needs escaping; numbers as JSON.stringify writes them).
 */
export function factJsonTailOf(r: CanonicalResult, pseudonym: string, keyId: string): string {
  const v = r.value
  return '"pseudonym":' + jsonString(pseudonym) +
    ',"keyId":' + jsonString(keyId) +
    ',"labId":' + jsonString(r.labId) +
    ',"testType":' + jsonString(r.testType) +
    ',"loinc":' + jsonString(r.loinc) +
    ',"result":' + jsonString(r.result) +
    ',"value":' + (v === undefined || v === null ? 'null' : JSON.stringify(v)) +
    ',"unit":' + jsonString(r.unit ?? '') +
    ',"ageBand":"' + ageBand(r.patient.birthDate, r.sampledAt) +
    '","sex":' + jsonString(r.patient.sex) +
    ',"department":' + jsonString(r.residence.department ?? '') +
    ',"region":' + jsonString(r.residence.region ?? '') +
    ',"country":' + jsonString(r.residence.country) +
    ',"sampledDate":' + jsonString(r.sampledAt.slice(0, 10)) +
    ',"resultedDate":' + jsonString(r.resultedAt.slice(0, 10)) + '}'
}

/** a JSON string literal: quoted as is when nothing in it needs escaping (RFC 8259 section 7), else JSON.stringify's */
function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    // control characters, quote, backslash, and surrogates (JSON.stringify escapes lone ones)
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s)
  }
  return '"' + s + '"'
}
