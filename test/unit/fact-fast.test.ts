import t from 'tap'
import { ageBand, factOf, factJsonTail, factJsonTailOf } from '../../workers/fact.ts'
import type { CanonicalResult } from '../../workers/model/canonical.ts'

/** ageBand as first written (split + new Date): the fast path must give the same band for every input */
function reference(birthDate: string, sampledAt: string): string {
  const [by, bm, bd] = birthDate.split('-').map(Number)
  const s = new Date(sampledAt)
  let age = s.getUTCFullYear() - by
  if (s.getUTCMonth() + 1 < bm || (s.getUTCMonth() + 1 === bm && s.getUTCDate() < bd)) age--
  if (age < 0) age = 0
  if (age >= 90) return '90+'
  const low = Math.floor(age / 10) * 10
  return `${String(low).padStart(2, '0')}-${String(low + 9).padStart(2, '0')}`
}

t.test('ageBand equals the reference around birthdays, UTC day boundaries and offsets, and for odd input', async (t) => {
  let seed = 7
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n)
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0')
  const offsets = ['Z', '+01:00', '-03:00', '+14:00', '-12:00', '+0530', '+05', '.123Z', '.123456789+01:00', ',5Z']
  let checked = 0
  for (let i = 0; i < 20_000; i++) {
    const birth = `${1900 + rnd(130)}-${pad(1 + rnd(12))}-${pad(1 + rnd(28))}`
    const sampled = `${2020 + rnd(8)}-${birth.slice(5, 7)}-${pad(Math.max(1, Number(birth.slice(8)) + rnd(3) - 1))}T${pad(rnd(24))}:${pad(rnd(60))}:${pad(rnd(60))}${offsets[rnd(offsets.length)]}`
    t.equal(ageBand(birth, sampled), reference(birth, sampled), `${birth} ${sampled}`, { diagnostic: false })
    checked++
  }
  for (const [b, s] of [['1990-1-5', '2026-01-05T10:00:00Z'], ['1990-01-05', 'not a date'], ['abcd-ef-gh', '2026-01-05T10:00:00Z'], ['2030-01-01', '2026-01-01T00:00:00Z'], ['1999-12-31', '2000-01-01T00:30:00+01:00']]) {
    t.equal(ageBand(b, s), reference(b, s), `${b} ${s}`)
  }
  t.ok(checked)
})

const base: CanonicalResult = {
  labId: 'lab-1', accession: 'A', loinc: '94563-4', testType: 'serology', result: '260373001', value: 80.5, unit: 'AU/mL', status: 'final',
  sampledAt: '2026-11-24T00:30:00+01:00', resultedAt: '2026-11-24T15:00:00+01:00', sampledAtMs: 0, resultedAtMs: 0,
  patient: { family: 'Dupont', given: ['Marie'], birthDate: '1984-03-12', sex: 'F' },
  residence: { country: 'FR', department: '75', region: '11' },
}

t.test('factJsonTailOf writes exactly factJsonTail(factOf(…))', async (t) => {
  const variants: CanonicalResult[] = [
    base,
    { ...base, value: undefined, unit: undefined },
    { ...base, value: -1.5e-7, unit: "[arb'U]/mL" },
    { ...base, value: 1e21, unit: 'a"b\\c' },
    { ...base, labId: 'lab\t\u0001\u2028 é 😀 \ud800', residence: { country: 'DE', department: null, region: null } },
    { ...base, testType: 'naat', value: 0, unit: '' },
  ]
  for (const r of variants) {
    for (const [p, k] of [['ab'.repeat(32), 'pk-1'], ['x"y', 'k\\1']]) {
      t.equal(factJsonTailOf(r, p, k), factJsonTail(factOf(r, p, k)))
    }
  }
})
