import t from 'tap'
import {
  checkBirthDate,
  checkResultInstants,
  FUTURE_TOLERANCE_MS,
  isCalendarDate,
  MIN_INSTANT_MS,
  parseInstant,
} from '../../workers/validate/dates.ts'

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0) // 2026-11-25T12:00:00Z

t.test('parseInstant: ISO 8601 with explicit offset', async (t) => {
  t.equal(parseInstant('2026-11-24T08:30:00+01:00'), Date.UTC(2026, 10, 24, 7, 30))
  t.equal(parseInstant('2026-11-24T07:30:00Z'), Date.UTC(2026, 10, 24, 7, 30))
  t.equal(parseInstant('2026-11-24T07:30Z'), Date.UTC(2026, 10, 24, 7, 30), 'seconds optional')
  t.equal(parseInstant('2026-11-24T03:30:00.250-04:00'), Date.UTC(2026, 10, 24, 7, 30, 0, 250), 'fraction and negative offset')
  t.equal(parseInstant('2026-11-24T03:30:00,5-0400'), Date.UTC(2026, 10, 24, 7, 30, 0, 500), 'comma fraction, basic offset')
  t.equal(parseInstant('2026-11-24T09:30:00+02'), Date.UTC(2026, 10, 24, 7, 30), 'hour-only offset')
  t.equal(parseInstant('2026-11-24T07:30:00.123456789Z'), Date.UTC(2026, 10, 24, 7, 30, 0, 123), 'nanoseconds truncated')
  t.equal(parseInstant('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29), 'leap day')
})

t.test('parseInstant rejects what is not an instant', async (t) => {
  for (const s of [
    '2026-11-24T08:30:00', // no offset: ambiguous
    '2026-11-24',
    '2026-11-24 08:30:00Z', // space instead of T
    '24/11/2026 08:30',
    '2023-02-30T10:00:00Z', // no such day
    '2023-02-29T10:00:00Z', // not a leap year
    '2026-13-01T10:00:00Z',
    '2026-11-24T24:00:00Z',
    '2026-11-24T10:60:00Z',
    '2026-11-24T10:00:60Z',
    '2026-11-24T10:00:00+19:00',
    '2026-11-24T10:00:00+01:60',
    '1795505400000',
    '',
  ]) {
    t.equal(parseInstant(s), null, s)
  }
})

t.test('isCalendarDate', async (t) => {
  t.equal(isCalendarDate('1984-03-12'), true)
  t.equal(isCalendarDate('2000-02-29'), true, '2000 is a leap year')
  t.equal(isCalendarDate('1900-02-29'), false, '1900 is not')
  t.equal(isCalendarDate('2023-02-30'), false)
  t.equal(isCalendarDate('2023-04-31'), false)
  t.equal(isCalendarDate('2023-00-10'), false)
  t.equal(isCalendarDate('2023-1-10'), false)
  t.equal(isCalendarDate('12/03/1984'), false)
})

t.test('valid instants pass and are returned in ms', async (t) => {
  const r = checkResultInstants('2026-11-24T08:30:00+01:00', '2026-11-24T15:02:00+01:00', NOW)
  t.same(r, { errors: [], sampledAtMs: Date.UTC(2026, 10, 24, 7, 30), resultedAtMs: Date.UTC(2026, 10, 24, 14, 2) })
})

t.test('sampledAt equal to resultedAt is allowed; later is SAMPLED_AFTER_RESULTED', async (t) => {
  t.same(checkResultInstants('2026-11-24T08:30:00Z', '2026-11-24T09:30:00+01:00', NOW).errors, [])
  const r = checkResultInstants('2026-11-24T10:30:00+01:00', '2026-11-24T09:00:00Z', NOW)
  t.same(r.errors.map((e) => [e.code, e.field]), [['SAMPLED_AFTER_RESULTED', 'sampledAt']], 'offsets are taken into account')
})

t.test('RESULTED_IN_FUTURE beyond 5 minutes of skew, SAMPLED_IN_FUTURE likewise', async (t) => {
  const within = new Date(NOW + FUTURE_TOLERANCE_MS).toISOString()
  const beyond = new Date(NOW + FUTURE_TOLERANCE_MS + 1000).toISOString()
  t.same(checkResultInstants('2026-11-25T11:00:00Z', within, NOW).errors, [], 'exactly now + 5 min is accepted')
  t.same(checkResultInstants('2026-11-25T11:00:00Z', beyond, NOW).errors.map((e) => e.code), ['RESULTED_IN_FUTURE'])
  t.same(
    checkResultInstants(beyond, beyond, NOW).errors.map((e) => [e.code, e.field]),
    [
      ['SAMPLED_IN_FUTURE', 'sampledAt'],
      ['RESULTED_IN_FUTURE', 'resultedAt'],
    ],
  )
  t.same(checkResultInstants('2026-11-25T12:04:00Z', null, NOW).errors, [], 'a field passed as null is not checked')
})

t.test('DATE_BEFORE_2020 for both instants', async (t) => {
  t.equal(MIN_INSTANT_MS, Date.parse('2020-01-01T00:00:00Z'))
  const r = checkResultInstants('2019-12-31T23:59:59Z', '2019-12-31T23:59:59Z', NOW)
  t.same(r.errors.map((e) => [e.code, e.field]), [
    ['DATE_BEFORE_2020', 'sampledAt'],
    ['DATE_BEFORE_2020', 'resultedAt'],
  ])
  t.same(checkResultInstants('2020-01-01T00:30:00+01:00', '2020-01-02T00:00:00Z', NOW).errors.map((e) => e.code), ['DATE_BEFORE_2020'], 'the offset matters: 2019-12-31T23:30Z')
  t.same(checkResultInstants('2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z', NOW).errors, [], 'the bound itself is allowed')
})

t.test('INVALID_FORMAT for an instant that does not exist', async (t) => {
  const r = checkResultInstants('2023-02-30T10:00:00Z', '2026-11-24T10:00:00Z', NOW)
  t.same(r.errors.map((e) => [e.code, e.field]), [['INVALID_FORMAT', 'sampledAt']])
  t.equal(r.sampledAtMs, null)
})

t.test('birth date rules', async (t) => {
  t.equal(checkBirthDate('1984-03-12', '2026-11-24', NOW), null)
  t.equal(checkBirthDate('2026-11-24', '2026-11-24', NOW), null, 'born the day of sampling')
  t.equal(checkBirthDate('1900-01-01', null, NOW), null, 'the lower bound itself')
  t.equal(checkBirthDate('2023-02-30', null, NOW)?.code, 'INVALID_BIRTH_DATE')
  t.equal(checkBirthDate('1984-3-12', null, NOW)?.code, 'INVALID_BIRTH_DATE')
  t.equal(checkBirthDate('1899-12-31', null, NOW)?.code, 'IMPLAUSIBLE_BIRTH_DATE')
  t.equal(checkBirthDate('2026-11-27', null, NOW)?.code, 'IMPLAUSIBLE_BIRTH_DATE', 'future')
  t.equal(checkBirthDate('2026-11-26', null, NOW), null, 'already "today" at UTC+14 when it is noon UTC')
  t.equal(checkBirthDate('2026-11-25', '2026-11-24', NOW)?.code, 'IMPLAUSIBLE_BIRTH_DATE', 'after sampling')
  t.equal(checkBirthDate('2026-11-25', '2026-11-24', NOW)?.field, 'patient.birthDate')
})

t.test('birth date messages never contain the date', async (t) => {
  for (const b of ['2023-02-30', '1899-12-31', '2030-01-01', '2026-11-25']) {
    const e = checkBirthDate(b, '2026-11-24', NOW)
    t.ok(e)
    t.notMatch(e!.message, b)
  }
})
