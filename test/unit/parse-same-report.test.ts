// The HL7 v2 and FHIR versions of the same ReportStream report (sample_AK_20240220-0001) give the same
// item, field for field, except where the two fixture files themselves differ.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { parseFhirBundle } from '../../workers/parse/fhir.ts'
import { parseHl7v2 } from '../../workers/parse/hl7v2.ts'

const hl7 = parseHl7v2(readFileSync(new URL('../fixtures/hl7/sample_AK_20240220-0001.hl7', import.meta.url)))
const fhir = parseFhirBundle(readFileSync(new URL('../fixtures/fhir/sample_AK_20240220-0001.fhir.json', import.meta.url), 'utf8'))

t.test('same items on the contract fields', async (t) => {
  t.equal(hl7.items.length, 1)
  t.equal(fhir.items.length, 1)
  const { prescriber: hp, ...h } = hl7.items[0]!.item
  const { prescriber: fp, ...f } = fhir.items[0]!.item
  t.strictSame(h, f)
  // The files differ here: ORC-12 / OBR-16 carry no XCN-1 identifier ('^McTester^Phil^…^NPI'), while the
  // FHIR Practitioner has NPI 1245319599. Without an identifier there is no prescriber in the contract.
  t.equal(hp, undefined)
  t.strictSame(fp, { id: '1245319599', idType: 'NPI', family: 'McTester', given: 'Phil' })
})
