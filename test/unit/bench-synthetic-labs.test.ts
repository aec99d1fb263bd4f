import t from 'tap'
import {
  SyntheticLabs,
  departmentOfPostcode,
  isoWithOffset,
  loadDepartments,
  nirKey,
  parisOffsetMinutes,
  type GeneratedItem,
  type LabResultItem,
} from '../../bench/lib/synthetic-labs.ts'

/** Independent NIR key check (BigInt, Corsica 2A → 19, 2B → 18), not the generator's own function. */
function checkNir(ins: string): boolean {
  const m = /^([12]\d{4})(\d{2}|2A|2B)(\d{6})(\d{2})$/.exec(ins)
  if (!m) return false
  const dept = m[2] === '2A' ? '19' : m[2] === '2B' ? '18' : m[2]
  const n = BigInt(m[1] + dept + m[3])
  return 97n - (n % 97n) === BigInt(m[4])
}

const NOW = Date.UTC(2026, 10, 24, 14, 0, 0) // fixed clock: reproducible timestamps
const clock = (): number => NOW

function run(seed: number, n: number, extra: ConstructorParameters<typeof SyntheticLabs>[0] = {}): GeneratedItem[] {
  const g = new SyntheticLabs({ seed, labs: 4, clock, ...extra })
  const out: GeneratedItem[] = []
  for (let i = 0; out.length < n; i++) {
    if (i % 3 === 0) out.push(g.next())
    else out.push(...g.batch(i % 4, 50))
  }
  return out.slice(0, n)
}

const keyOf = (labId: string, it: LabResultItem): string => `${labId}|${it.accession}|${it.loinc}`

t.test('NIR key: known values and Corsica', async (t) => {
  t.equal(nirKey('2550814168025'), '38', 'the classic INSEE example 2 55 08 14 168 025 → 38')
  t.equal(nirKey('2840375123456'), '40', 'DESIGN.md example 284037512345640')
  t.equal(nirKey('18505' + '2A' + '004123'), String(97 - Number(1850519004123n % 97n)).padStart(2, '0'), '2A reads as 19')
  t.ok(checkNir('2550814168025' + '38'))
  t.notOk(checkNir('2550814168025' + '39'))
  t.equal(nirKey('18505' + '2B' + '004123'), String(97 - Number(1850518004123n % 97n)).padStart(2, '0'), '2B reads as 18')
})

t.test('deterministic with a seed, different with another', async (t) => {
  const a = JSON.stringify(run(11, 3000))
  const b = JSON.stringify(run(11, 3000))
  const c = JSON.stringify(run(12, 3000))
  t.equal(a, b, 'same seed and clock → same items')
  t.not(a, c, 'another seed → other items')
})

t.test('item shape, dates, contacts, test mix', async (t) => {
  const items = run(3, 20_000)
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/
  let badShape = 0
  let badDates = 0
  let badPhone = 0
  let badMail = 0
  const loincs = new Map<string, number>()
  let positives = 0
  let qualitative = 0
  for (const g of items) {
    const it = g.item
    if (!it.accession || !it.loinc || !it.result || !it.status || !it.patient?.family || !(it.patient.given.length >= 1 && it.patient.given.length <= 3)) badShape++
    if (!iso.test(it.sampledAt) || !iso.test(it.resultedAt) || !/^\d{4}-\d{2}-\d{2}$/.test(it.patient.birthDate)) badShape++
    if (!['F', 'M', 'U'].includes(it.patient.sex)) badShape++
    const s = Date.parse(it.sampledAt)
    const r = Date.parse(it.resultedAt)
    if (g.invalid?.reason !== 'dates-reversed') {
      if (!(s >= NOW - 2 * 86_400_000 && s < r && r <= NOW)) badDates++
    } else if (!(r < s)) badDates++
    if (it.patient.phone !== undefined && !/^\+33[67]\d{8}$/.test(it.patient.phone)) badPhone++
    if (it.patient.email !== undefined && !/^[a-z0-9.]+@example\.(fr|com|org|net)$/.test(it.patient.email)) badMail++
    if (g.kind === 'new') {
      loincs.set(it.loinc, (loincs.get(it.loinc) ?? 0) + 1)
      if (it.loinc === '94563-4') {
        if (it.unit !== 'AU/mL' || typeof it.value !== 'number') badShape++
      } else {
        qualitative++
        if (it.result === '260373001') positives++
      }
    }
  }
  t.equal(badShape, 0, 'required fields present and well formed')
  t.equal(badDates, 0, 'sampledAt within 2 days, resultedAt after it and not after now')
  t.equal(badPhone, 0, 'phones are +336/+337 E.164')
  t.equal(badMail, 0, 'e-mails are ASCII on example domains')
  const total = [...loincs.values()].reduce((a, b) => a + b, 0)
  t.ok(Math.abs(loincs.get('94500-6')! / total - 0.6) < 0.03, 'naat share ≈ 0.6')
  t.ok(Math.abs(loincs.get('94558-4')! / total - 0.35) < 0.03, 'antigen share ≈ 0.35')
  t.ok(Math.abs(loincs.get('94563-4')! / total - 0.05) < 0.015, 'serology share ≈ 0.05')
  t.ok(Math.abs(positives / qualitative - 0.1) < 0.02, 'positivity ≈ 0.1')

  const serologyOnly = run(4, 2000, { mix: { naat: 0, antigen: 0, serology: 1 }, positivity: 0.5 })
  t.ok(serologyOnly.every((g) => g.item.loinc === '94563-4' || g.item.loinc === '00000-0'), 'mix serology=1 gives only serology (and unknown-LOINC invalids)')
})

t.test('NIR keys valid for the valid share, invalid for the bad-key share', async (t) => {
  const items = run(5, 30_000, { badNirKeyShare: 0.05 })
  let withIns = 0
  let validOk = 0
  let bad = 0
  let badOk = 0
  let corsica = 0
  let overseas = 0
  let abroad = 0
  for (const g of items) {
    const ins = g.item.patient.ins
    if (g.invalid?.reason === 'bad-nir-key') {
      bad++
      if (ins && !checkNir(ins) && /^[12]\d{4}(\d{2}|2A|2B)\d{8}$/.test(ins)) badOk++
      if (g.invalid.field !== 'patient.ins') t.fail(`bad-key field ${g.invalid.field}`)
      continue
    }
    if (ins === undefined) continue
    withIns++
    if (checkNir(ins)) validOk++
    if (/^.{5}2[AB]/.test(ins)) corsica++
    if (ins.slice(5, 7) === '97') overseas++
    if (ins.slice(5, 7) === '99') abroad++
    const sexDigit = ins[0] === '1' ? 'M' : 'F'
    if (g.item.patient.sex !== sexDigit) t.fail(`NIR sex digit ${ins[0]} vs sex ${g.item.patient.sex}`)
    if (ins.slice(1, 3) !== g.item.patient.birthDate.slice(2, 4) || ins.slice(3, 5) !== g.item.patient.birthDate.slice(5, 7)) {
      t.fail(`NIR ${ins} does not match birth date ${g.item.patient.birthDate}`)
    }
  }
  t.ok(withIns > 20_000, `most patients carry an INS (${withIns})`)
  t.equal(validOk, withIns, 'every INS outside the bad-key share passes the key check')
  t.ok(bad > 1000, `bad-key share present (${bad})`)
  t.equal(badOk, bad, 'every bad-key INS is well formed and fails the key check')
  t.ok(corsica > 0, `Corsican births present (${corsica})`)
  t.ok(overseas > 0, `overseas births present (${overseas})`)
  t.ok(abroad > 0, `births abroad present (${abroad})`)
})

t.test('residence departments follow population over 100k draws', async (t) => {
  const depts = loadDepartments()
  t.equal(depts.length, 101, 'all departments in the table')
  const totalPop = depts.reduce((a, d) => a + d.population, 0)
  const g = new SyntheticLabs({ seed: 9, labs: 1, clock, returningPatientShare: 0 })
  const counts = new Map<string, number>()
  let fr = 0
  let foreign = 0
  for (let i = 0; i < 100_000; i++) {
    const a = g.next(0).item.patient.address!
    if (a.country !== 'FR') {
      foreign++
      continue
    }
    const d = departmentOfPostcode(a.postcode)
    if (d === null) {
      t.fail(`postcode ${a.postcode} maps to no department`)
      break
    }
    counts.set(d!, (counts.get(d!) ?? 0) + 1)
    fr++
  }
  t.ok(foreign > 0 && foreign < 1000, `a few foreign residences (${foreign})`)
  t.equal(counts.size, 101, 'every department drawn')
  let tv = 0
  let worst = 0
  for (const d of depts) {
    const expected = d.population / totalPop
    const observed = (counts.get(d.code) ?? 0) / fr
    tv += Math.abs(expected - observed) / 2
    if (expected * fr >= 1000) worst = Math.max(worst, Math.abs(observed - expected) / expected)
  }
  t.ok(tv < 0.03, `total variation distance to population weights is small (${tv.toFixed(4)})`)
  t.ok(worst < 0.12, `large departments within 12% of their population share (worst ${(worst * 100).toFixed(1)}%)`)
  const paris = (counts.get('75') ?? 0) / fr
  const lozere = (counts.get('48') ?? 0) / fr
  t.ok(paris > 10 * lozere, 'Paris drawn far more often than Lozère')
  t.ok((counts.get('2A') ?? 0) > 0 && (counts.get('2B') ?? 0) > 0, 'both Corsican departments drawn')
  for (const o of ['971', '972', '973', '974', '976']) t.ok((counts.get(o) ?? 0) > 0, `overseas ${o} drawn`)
})

t.test('postcode ranges and time zones', async (t) => {
  t.equal(departmentOfPostcode('20000'), '2A')
  t.equal(departmentOfPostcode('20199'), '2A')
  t.equal(departmentOfPostcode('20200'), '2B')
  t.equal(departmentOfPostcode('20620'), '2B')
  t.equal(departmentOfPostcode('97411'), '974')
  t.equal(departmentOfPostcode('75013'), '75')
  t.equal(parisOffsetMinutes(Date.UTC(2026, 0, 15)), 60, 'winter +01:00')
  t.equal(parisOffsetMinutes(Date.UTC(2026, 6, 15)), 120, 'summer +02:00')
  t.equal(parisOffsetMinutes(Date.UTC(2026, 2, 29, 0, 59)), 60, 'just before the March switch (29 March 2026 01:00 UTC)')
  t.equal(parisOffsetMinutes(Date.UTC(2026, 2, 29, 1, 0)), 120, 'at the March switch')
  t.equal(isoWithOffset(Date.UTC(2026, 10, 24, 7, 30), 60), '2026-11-24T08:30:00+01:00')
  t.equal(isoWithOffset(Date.UTC(2026, 10, 24, 7, 30), -240), '2026-11-24T03:30:00-04:00')
})

t.test('names carry accents, hyphens, apostrophes and particles', async (t) => {
  const families = new Set<string>()
  const given = new Set<string>()
  const counts = [0, 0, 0, 0]
  for (const g of run(6, 20_000)) {
    families.add(g.item.patient.family)
    for (const x of g.item.patient.given) given.add(x)
    counts[g.item.patient.given.length]++
  }
  const fam = [...families]
  t.ok(fam.some((f) => /[À-ÿ\u0100-\u024f\u1e00-\u1eff]/.test(f)), 'accented family names')
  t.ok(fam.some((f) => /\S-\S/.test(f)), 'hyphenated family names')
  t.ok(fam.some((f) => f.includes("'")), 'apostrophes')
  t.ok(fam.some((f) => /^(de|du|d') ?/.test(f) || /^Le /.test(f)), 'particles')
  t.ok([...given].some((f) => /[À-ÿ]/.test(f)), 'accented given names')
  t.ok(counts[1] > 0 && counts[2] > 0 && counts[3] > 0, `1, 2 and 3 given names (${counts.slice(1).join('/')})`)
})

t.test('resends, corrections, cancellations and invalid items are tagged and consistent', async (t) => {
  const items = run(8, 40_000)
  const byKind = new Map<string, number>()
  const latest = new Map<string, LabResultItem>()
  const accessionsPerLab = new Map<string, Set<string>>()
  let problems = 0
  for (const g of items) {
    byKind.set(g.kind, (byKind.get(g.kind) ?? 0) + 1)
    const k = keyOf(g.labId, g.item)
    const prev = latest.get(k)
    switch (g.kind) {
      case 'new': {
        if (g.expected !== 'stored') problems++
        const seen = accessionsPerLab.get(g.labId) ?? new Set()
        if (seen.has(g.item.accession) || prev) problems++
        seen.add(g.item.accession)
        accessionsPerLab.set(g.labId, seen)
        if (g.item.status !== 'final') problems++
        latest.set(k, g.item)
        break
      }
      case 'resend':
        if (!prev || JSON.stringify(prev) !== JSON.stringify(g.item)) problems++
        if (g.expected !== 'duplicate') problems++
        break
      case 'correction':
        if (!prev || g.item.status !== 'corrected' || g.item.result === prev.result) problems++
        if (prev && !(Date.parse(g.item.resultedAt) > Date.parse(prev.resultedAt))) problems++
        if (g.expected !== 'corrected') problems++
        latest.set(k, g.item)
        break
      case 'cancellation':
        if (!prev || g.item.status !== 'cancelled') problems++
        if (prev && !(Date.parse(g.item.resultedAt) > Date.parse(prev.resultedAt))) problems++
        if (g.expected !== 'cancelled') problems++
        latest.set(k, g.item)
        break
      case 'invalid':
        if (g.expected !== 'rejected' || !g.invalid) problems++
        if (g.invalid?.reason === 'unknown-loinc' && g.item.loinc !== '00000-0') problems++
        break
    }
    if ('kind' in g.item || 'expected' in g.item) problems++
  }
  t.equal(problems, 0, 'every tag matches the payload and the history')
  const share = (k: string): number => (byKind.get(k) ?? 0) / items.length
  t.ok(share('resend') > 0.02 && share('resend') < 0.04, `resends ≈ 3% (${share('resend')})`)
  t.ok(share('correction') > 0.013 && share('correction') < 0.027, `corrections ≈ 2% (${share('correction')})`)
  t.ok(share('cancellation') > 0.002 && share('cancellation') < 0.009, `cancellations ≈ 0.5% (${share('cancellation')})`)
  t.ok(share('invalid') > 0.013 && share('invalid') < 0.027, `invalid ≈ 2% (${share('invalid')})`)
})

t.test('a batch never refers to an item of the same batch', async (t) => {
  const g = new SyntheticLabs({ seed: 10, labs: 1, clock, resendShare: 0.2, correctionShare: 0.2, cancellationShare: 0.05 })
  const before = new Set<string>()
  const bad: string[] = []
  let refs = 0
  for (let b = 0; b < 50; b++) {
    const batch = g.batch(0, 100)
    const inBatch = new Set<string>()
    for (const x of batch) {
      const k = keyOf(x.labId, x.item)
      if (x.kind === 'resend' || x.kind === 'correction' || x.kind === 'cancellation') {
        if (!before.has(k)) bad.push(`${k} refers to no earlier batch`)
        if (inBatch.has(k)) bad.push(`${k} twice in one batch`)
      }
      inBatch.add(k)
    }
    for (const k of inBatch) before.add(k)
    refs += batch.filter((x) => x.kind !== 'new' && x.kind !== 'invalid').length
  }
  t.same(bad, [], 'resends, corrections and cancellations only refer to earlier batches, once per batch')
  t.ok(refs > 1000, `enough references checked (${refs})`)
})

t.test('option validation', async (t) => {
  t.throws(() => new SyntheticLabs({ positivity: 2 }), { code: 'BENCH_SYNTHETIC_CONFIG' })
  t.throws(() => new SyntheticLabs({ resendShare: 0.6, correctionShare: 0.6 }), { code: 'BENCH_SYNTHETIC_CONFIG' })
  t.throws(() => new SyntheticLabs({ mix: { naat: 0, antigen: 0, serology: 0 } }))
  t.throws(() => new SyntheticLabs({ labs: ['a', 'a'] }), { code: 'BENCH_SYNTHETIC_CONFIG' })
  const g = new SyntheticLabs({ labs: ['lab-x', 'lab-y'], clock })
  t.same(g.labIds, ['lab-x', 'lab-y'])
  t.throws(() => g.next(2), RangeError)
})
