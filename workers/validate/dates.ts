/**
 * Date rules of a result. Pure: `now` (epoch ms) is always a parameter, never read from the clock here,
 * so rules and tests are deterministic.
 *
 * Instants are ISO 8601 (extended format) date-times with an explicit UTC offset or Z: a local time
 * without offset is ambiguous twice a year and across the overseas time zones (UTC-3 to UTC+4).
 * Seconds and fractions are optional; the offset may be ±hh, ±hhmm or ±hh:mm.
 */
import type { ItemError } from '../model/canonical.ts'

/** The first SARS-CoV-2 tests: nothing legitimate was sampled or resulted before 2020. */
export const MIN_INSTANT_MS = Date.UTC(2020, 0, 1)
/** Clock skew tolerated between a lab's system and ours. */
export const FUTURE_TOLERANCE_MS = 5 * 60 * 1000
export const MIN_BIRTH_DATE = '1900-01-01'
/** The easternmost offset in use (UTC+14, Kiribati): a date "today" somewhere on Earth is ≤ now+14h in UTC. */
const MAX_OFFSET_MS = 14 * 3600 * 1000

const INSTANT =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?(?:Z|([+-])([0-9]{2})(?::?([0-9]{2}))?)$/
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
}
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
function daysIn(y: number, m: number): number {
  return m === 2 && isLeap(y) ? 29 : DAYS[m - 1]!
}

/**
 * Epoch milliseconds of an ISO 8601 instant with explicit offset, or null when the text is not one
 * or names a moment that does not exist (2023-02-30, 25:00, offset +19:00). Date.parse is not used:
 * it accepts offset-less and non-ISO forms and its leniency differs between engines.
 */
export function parseInstant(text: string): number | null {
  const m = INSTANT.exec(text)
  if (m === null) return null
  const y = Number(m[1])
  const mo = Number(m[2])
  const d = Number(m[3])
  const h = Number(m[4])
  const mi = Number(m[5])
  const s = m[6] === undefined ? 0 : Number(m[6])
  const ms = m[7] === undefined ? 0 : Number((m[7] + '00').slice(0, 3))
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59) return null
  let offsetMin = 0
  if (m[8] !== undefined) {
    const oh = Number(m[9])
    const om = m[10] === undefined ? 0 : Number(m[10])
    if (oh > 18 || om > 59) return null // ISO 8601 / java.time bound; real offsets are -12..+14
    offsetMin = (m[8] === '-' ? -1 : 1) * (oh * 60 + om)
  }
  let t = Date.UTC(y, mo - 1, d, h, mi, s, ms)
  if (y < 100) t = new Date(t).setUTCFullYear(y) // Date.UTC maps years 0-99 to 1900-1999
  return t - offsetMin * 60_000
}

/** Whether text is a real Gregorian calendar date YYYY-MM-DD (rejects 2023-02-30, 2021-13-01). */
export function isCalendarDate(text: string): boolean {
  const m = DATE.exec(text)
  if (m === null) return false
  const mo = Number(m[2])
  const d = Number(m[3])
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(Number(m[1]), mo)
}

export interface InstantsOutcome {
  errors: ItemError[]
  /** parsed instants (null when absent or not a real ISO 8601 instant), even when a rule failed */
  sampledAtMs: number | null
  resultedAtMs: number | null
}

/**
 * sampledAt ≤ resultedAt ≤ now + 5 min, neither before 2020-01-01T00:00:00Z. Pass null for a field
 * that is absent or already reported unusable. Each field reports its first failing rule only; the
 * order rule is checked when both fields passed theirs.
 */
export function checkResultInstants(sampledAt: string | null, resultedAt: string | null, now: number): InstantsOutcome {
  const errors: ItemError[] = []
  const sampled = sampledAt === null ? null : checkInstant('sampledAt', sampledAt, now, 'SAMPLED_IN_FUTURE', errors)
  const resulted = resultedAt === null ? null : checkInstant('resultedAt', resultedAt, now, 'RESULTED_IN_FUTURE', errors)
  if (sampled !== null && resulted !== null && sampled.ok && resulted.ok && sampled.ms > resulted.ms) {
    errors.push({
      code: 'SAMPLED_AFTER_RESULTED',
      field: 'sampledAt',
      message: 'sampledAt must not be later than resultedAt (check the UTC offsets of both).',
    })
  }
  return { errors, sampledAtMs: sampled === null ? null : sampled.ms, resultedAtMs: resulted === null ? null : resulted.ms }
}

type Checked = { ms: number; ok: true } | { ms: number | null; ok: false }

function checkInstant(
  field: 'sampledAt' | 'resultedAt',
  text: string,
  now: number,
  futureCode: 'SAMPLED_IN_FUTURE' | 'RESULTED_IN_FUTURE',
  errors: ItemError[],
): Checked {
  const t = parseInstant(text)
  if (t === null) {
    errors.push({
      code: 'INVALID_FORMAT',
      field,
      message: `${field} must be a real ISO 8601 date and time with an explicit UTC offset or Z, e.g. 2026-11-24T08:30:00+01:00.`,
    })
    return { ms: null, ok: false }
  }
  if (t < MIN_INSTANT_MS) {
    errors.push({ code: 'DATE_BEFORE_2020', field, message: `${field} must not be before 2020-01-01T00:00:00Z.` })
    return { ms: t, ok: false }
  }
  if (t > now + FUTURE_TOLERANCE_MS) {
    errors.push({
      code: futureCode,
      field,
      message: `${field} is in the future (more than 5 minutes ahead of the platform clock); check the UTC offset.`,
    })
    return { ms: t, ok: false }
  }
  return { ms: t, ok: true }
}

// every item of a batch is checked against the same `now`: the date string is built once per `now`
let latestFor = Number.NaN
let latest = ''
/** the latest calendar date that is "today" somewhere on Earth at `now` */
function latestTodayAt(now: number): string {
  if (now !== latestFor) {
    latest = new Date(now + MAX_OFFSET_MS).toISOString().slice(0, 10)
    latestFor = now
  }
  return latest
}

/**
 * Birth date: a real calendar date, not before 1900-01-01, not in the future, not after the day the
 * specimen was taken. `sampledLocalDate` is the YYYY-MM-DD part of sampledAt as the lab wrote it (the
 * calendar day where the patient was), or null when sampledAt is unusable.
 * Messages never contain the date itself: it is personal data and messages end up in logs.
 */
export function checkBirthDate(birthDate: string, sampledLocalDate: string | null, now: number): ItemError | null {
  const field = 'patient.birthDate'
  if (!isCalendarDate(birthDate)) {
    return { code: 'INVALID_BIRTH_DATE', field, message: 'patient.birthDate must be a real calendar date written YYYY-MM-DD.' }
  }
  if (birthDate < MIN_BIRTH_DATE) {
    return { code: 'IMPLAUSIBLE_BIRTH_DATE', field, message: 'patient.birthDate must not be before 1900-01-01.' }
  }
  const latestToday = latestTodayAt(now)
  if (birthDate > latestToday) {
    return { code: 'IMPLAUSIBLE_BIRTH_DATE', field, message: 'patient.birthDate must not be in the future.' }
  }
  if (sampledLocalDate !== null && birthDate > sampledLocalDate) {
    return { code: 'IMPLAUSIBLE_BIRTH_DATE', field, message: 'patient.birthDate must not be after the day of sampledAt.' }
  }
  return null
}
