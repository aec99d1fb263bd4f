// CSV uploads: semicolon delimiter and BOM, quoted fields with delimiters, quotes and line breaks, bad
// rows with their row and column, wrong header.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { CSV_COLUMNS, detectDelimiter, parseCsv } from '../../workers/parse/csv.ts'

t.test('the template is the documented header', async (t) => {
  const template = readFileSync(new URL('../../workers/parse/results-template.csv', import.meta.url), 'utf8')
  t.equal(template, CSV_COLUMNS.join(',') + '\n')
  const out = await parseCsv(template)
  t.strictSame(out, { items: [], errors: [] }, 'the empty template is a valid upload with no rows')
})

t.test('French spreadsheet export: BOM, semicolons, quoted line break, decimal comma', async (t) => {
  const out = await parseCsv(readFileSync(new URL('../fixtures/csv/results-semicolon-bom.csv', import.meta.url)))
  t.equal(out.items.length, 2)
  t.strictSame(out.items[0], {
    index: 0,
    source: 'row 2',
    item: {
      accession: '2026-11-24-000123',
      loinc: '94500-6',
      result: '260373001',
      status: 'final',
      sampledAt: '2026-11-24T08:30:00+01:00',
      resultedAt: '2026-11-24T15:02:00+01:00',
      specimen: '258500001',
      orderId: 'ord_7f3a',
      patient: {
        ins: '284037512345640',
        family: 'Dupont-Lefèvre',
        given: ['Marie', 'Anne'],
        birthDate: '1984-03-12',
        sex: 'F',
        address: { line: 'Bâtiment B; 2e étage, 12 rue des Lilas', postcode: '75013', city: 'Paris', country: 'FR' },
        phone: '+33612345678',
        email: 'marie.dupont@example.fr',
      },
      prescriber: { id: '10001234567', idType: 'RPPS', family: 'Martin', given: 'Paul' },
    },
  })
  t.match(out.items[1], {
    index: 1,
    source: 'row 3',
    item: { value: 12.5, unit: 'AU/mL', patient: { family: 'Martin "dit Paulo"', given: ['Anne Sophie', 'Marie'] } },
  })
  t.strictSame(
    out.errors.map((e) => [e.index, e.code, e.field]),
    [
      [2, 'SYNTAX', 'row 4'],
      [3, 'DATA_TYPE', 'row 5 column value'],
    ],
  )
  t.match(out.errors[0]!.message, /row 4: has 7 fields, the header has 26/)
})

t.test('comma delimiter, CRLF, empty lines skipped', async (t) => {
  const csv = 'accession,loinc,result,status,sampledAt,resultedAt,family,given,birthDate,sex\r\n\r\nA1,94500-6,260415000,final,2026-01-01T10:00:00Z,2026-01-01T12:00:00Z,Doe,John,1980-01-01,M\r\n'
  const out = await parseCsv(csv)
  t.same(out.errors, [])
  t.match(out.items, [{ index: 0, item: { accession: 'A1', patient: { given: ['John'] } } }])
})

t.test('a wrong header is one clear error and no row is read', async (t) => {
  const out = await parseCsv('accession;loinc;resultat;status\nA;B;C;D\n')
  t.equal(out.items.length, 0)
  t.equal(out.errors.length, 1)
  t.match(out.errors[0], { index: 0, code: 'BAD_HEADER', field: 'row 1' })
  t.match(out.errors[0]!.message, /unknown column\(s\) 'resultat'; missing required column\(s\) result, sampledAt/)
  t.match((await parseCsv('')).errors, [{ code: 'BAD_HEADER' }])
})

t.test('a quote never closed stops reading at that row', async (t) => {
  const out = await parseCsv('accession,loinc,result,status,sampledAt,resultedAt,family,given,birthDate,sex\nA1,"94500-6\n')
  t.match(out.errors, [{ code: 'SYNTAX', field: 'row 2' }])
})

t.test('delimiter detection', async (t) => {
  t.equal(detectDelimiter('a,b,c'), ',')
  t.equal(detectDelimiter('a;b;c'), ';')
  t.equal(detectDelimiter('"a;x",b,c'), ',')
})
