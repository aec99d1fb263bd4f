import t from 'tap'
import { SNOMED_DETECTED, SNOMED_INCONCLUSIVE, SNOMED_NOT_DETECTED } from '../../workers/model/canonical.ts'
import { allowsQuantity, isResultValidFor, KNOWN_LOINC, testTypeOf } from '../../workers/validate/loinc.ts'

t.test('test type of known codes', async (t) => {
  for (const c of ['94500-6', '94309-2', '94306-8', '94531-1', '94533-7', '94534-5', '94559-2', '94565-9', '94759-8', '94760-6', '94845-5', '95406-5', '95409-9', '96091-4', '96123-5', '96448-6', '96986-5', '97098-8']) {
    t.equal(testTypeOf(c), 'naat', c)
  }
  for (const c of ['94558-4', '95209-3', '96119-3', '97097-0']) t.equal(testTypeOf(c), 'antigen', c)
  for (const c of ['94505-5', '94506-3', '94507-1', '94508-9', '94547-7', '94562-6', '94563-4', '94564-2', '94661-6', '94762-2', '94769-7', '95125-1', '95410-7', '95411-5', '95416-4']) {
    t.equal(testTypeOf(c), 'serology', c)
  }
})

t.test('unknown codes', async (t) => {
  t.equal(testTypeOf('94763-0'), null, 'culture is not one of the three test types')
  t.equal(testTypeOf('94822-4'), null, 'sequencing')
  t.equal(testTypeOf('94745-7'), null, 'cycle threshold')
  t.equal(testTypeOf('2345-7'), null, 'glucose')
  t.equal(testTypeOf('94500'), null)
  t.equal(testTypeOf(''), null)
})

t.test('the code list has no duplicates and well-formed codes', async (t) => {
  const codes = KNOWN_LOINC.map((c) => c.code)
  t.equal(new Set(codes).size, codes.length)
  for (const c of codes) t.match(c, /^[0-9]{4,7}-[0-9]$/)
  // LOINC check digit (mod 10, Luhn-like as LOINC defines it): catches a mistyped code in the table.
  for (const c of codes) {
    const [body, check] = c.split('-') as [string, string]
    const digits = body.split('').map(Number).reverse()
    let sum = 0
    digits.forEach((d, i) => {
      if (i % 2 === 0) {
        const x = d * 2
        sum += Math.floor(x / 10) + (x % 10)
      } else sum += d
    })
    t.equal((10 - (sum % 10)) % 10, Number(check), `check digit of ${c}`)
  }
})

t.test('results valid per test type', async (t) => {
  for (const type of ['naat', 'antigen', 'serology'] as const) {
    for (const r of [SNOMED_DETECTED, SNOMED_NOT_DETECTED, SNOMED_INCONCLUSIVE]) t.equal(isResultValidFor(type, r), true, `${type} ${r}`)
    t.equal(isResultValidFor(type, '10828004'), false, `${type}: "positive" is not in the value set`)
  }
  t.equal(isResultValidFor(null, SNOMED_DETECTED), true)
  t.equal(isResultValidFor(null, '123456'), false)
})

t.test('quantity only for serology', async (t) => {
  t.equal(allowsQuantity('serology'), true)
  t.equal(allowsQuantity('naat'), false)
  t.equal(allowsQuantity('antigen'), false)
})
