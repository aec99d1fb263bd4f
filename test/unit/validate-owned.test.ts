import t from 'tap'
import { validateItem } from '../../workers/validate/validate.ts'
import { SyntheticLabs } from '../../bench/lib/synthetic-labs.ts'

// ownsItem trims in place instead of in a copy: every outcome must be the one the copying form gives
const NOW = Date.parse('2026-11-25T20:00:00Z')

function padded(v: unknown): unknown {
  if (typeof v === 'string') return `  ${v}\t`
  if (Array.isArray(v)) return v.map(padded)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, padded(x)]))
  return v
}

t.test('in-place trimming gives the outcome of the copy, for valid, padded and invalid items', async (t) => {
  const gen = new SyntheticLabs({ seed: 3, labs: 4, clock: () => NOW - 3_600_000 })
  const texts: string[] = []
  for (let i = 0; i < 8; i++) {
    for (const g of gen.batch(i % 4, 100)) {
      texts.push(JSON.stringify(g.item), JSON.stringify(padded(g.item)))
    }
  }
  texts.push(
    '{"__proto__":{"polluted":true},"accession":" A "}',
    '{"__proto__":"  x  ","accession":"A"}',
    '{"patient":{"given":["  ", " B "],"address":{"line":{"deep":{"deeper":"  x  "}}}}}',
    '"just a string"',
    '[1, " 2 "]',
    'null',
  )
  for (const text of texts) {
    const copied = validateItem(JSON.parse(text), { labId: 'lab-1', now: NOW })
    const owned = JSON.parse(text)
    const inPlace = validateItem(owned, { labId: 'lab-1', now: NOW, ownsItem: true })
    t.strictSame(inPlace, copied, text.slice(0, 80), { diagnostic: false })
    if (owned !== null && typeof owned === 'object') t.equal(Object.getPrototypeOf(owned), Array.isArray(owned) ? Array.prototype : Object.prototype)
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined)
})
