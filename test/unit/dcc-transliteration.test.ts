// ICAO Doc 9303 Part 3 §6 transliteration of names into nam.fnt / nam.gnt (eu-dcc-schema person_name).
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { icaoTransliterate } from '../../workers/dcc/transliterate.ts'

const EXAMPLES: Array<[string, string]> = [
  ['Dupont-Lefèvre', 'DUPONT<LEFEVRE'], // accents dropped, hyphen → filler
  ['Marie Anne', 'MARIE<ANNE'], // space → filler
  ["d'Červenková Panklová", 'DCERVENKOVA<PANKLOVA'], // eu-dcc-schema example: apostrophe omitted
  ['Jiřina-Maria Alena', 'JIRINA<MARIA<ALENA'], // eu-dcc-schema example
  ['Musterfrau-Gößinger', 'MUSTERFRAU<GOESSINGER'], // Ö → OE, ß → SS (Table A)
  ['Müller', 'MUELLER'],
  ['Ångström', 'AANGSTROEM'], // Å → AA
  ['Søren Kierkegaard', 'SOEREN<KIERKEGAARD'], // Ø → OE
  ['Cœur', 'COEUR'], // Œ → OE
  ['Łukasz Żółć', 'LUKASZ<ZOLC'], // Ł → L; Ż, ó, ć lose diacritics
  ['Þórunn', 'THORUNN'], // Þ → TH
  ['François', 'FRANCOIS'],
  ['Ñúñez', 'NUNEZ'],
  ["O'Brien", 'OBRIEN'],
  ['O’Neil', 'ONEIL'], // typographic apostrophe
  ['Jean - Luc', 'JEAN<LUC'], // runs of fillers collapse
  ['  Anne  ', 'ANNE'], // no leading / trailing fillers
  ['Smith, Jr.', 'SMITH<JR'], // comma → filler, full stop omitted
  ['Louis 14', 'LOUIS'], // digits omitted
  ['Иванов', 'IVANOV'], // Table B (Cyrillic)
  ['Щукин', 'SHCHUKIN'],
  ['Μενεξές Μάριος', 'MENEXES<MARIOS'], // Greek (ELOT 743), accents dropped
  ['', '']
]

for (const [input, want] of EXAMPLES) t.equal(icaoTransliterate(input), want, `${input} → ${want}`)

t.test('always within the schema pattern ^[A-Z<]*$ and 80 characters', async t => {
  const long = 'Abcdefghij-'.repeat(20)
  const out = icaoTransliterate(long)
  t.ok(out.length <= 80)
  t.notMatch(out, /<$/)
  for (const s of ['中文', '🙂', 'Ωμέγα', '\u0000', 'a\u0301']) t.match(icaoTransliterate(s), /^[A-Z<]*$/)
})

t.test('agrees with the official test vectors that carry fnt/gnt', async t => {
  // Where a vector's fnt was produced with a rule we do not apply, it is listed here with the reason.
  const root = new URL('../fixtures/dcc/testdata/', import.meta.url)
  let checked = 0
  const differences: string[] = []
  for (const cc of readdirSync(root, { withFileTypes: true })) {
    if (!cc.isDirectory()) continue
    const dir = new URL(`${cc.name}/2DCode/raw/`, root)
    for (const f of readdirSync(dir)) {
      const json = JSON.parse(readFileSync(new URL(f, dir), 'utf8')).JSON as { nam?: Record<string, string> } | undefined
      const nam = json?.nam
      if (nam === undefined) continue
      for (const [src, std] of [['fn', 'fnt'], ['gn', 'gnt']] as const) {
        if (nam[src] === undefined || nam[std] === undefined) continue
        checked++
        if (icaoTransliterate(nam[src]) !== nam[std]) differences.push(`${cc.name}/${f}: ${nam[src]} → ours ${icaoTransliterate(nam[src])}, vector ${nam[std]}`)
      }
    }
  }
  t.ok(checked > 50, `${checked} names checked`)
  t.same(differences, [
    // Doc 9303 Part 3 §6 Table A recommends Ä → AE; the issuer of this vector used the plain-letter form.
    'FR/DGC_QrCode_00017_Raw.json: mäel → ours MAEEL, vector MAEL'
  ], 'the only difference is the Ä → AE / A choice')
})
