// Format detection from content.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { detectFormat } from '../../workers/parse/detect.ts'

const fixture = (p: string) => readFileSync(new URL(`../fixtures/${p}`, import.meta.url))

t.test('fixtures', async (t) => {
  for (const f of ['Example-hl7-file.hl7', 'marsotcelr-valid.hl7', 'sample_AK_20240220-0001.hl7', 'single_message.hl7', 'test-0001-input-covid-19.hl7']) {
    t.equal(detectFormat(fixture(`hl7/${f}`)), 'hl7v2', f)
  }
  t.equal(detectFormat(fixture('fhir/sample_AK_20240220-0001.fhir.json')), 'fhir')
  t.equal(detectFormat(fixture('csv/results-semicolon-bom.csv')), 'csv')
})

t.test('edge cases', async (t) => {
  t.equal(detectFormat('\x0bMSH|^~\\&|A'), 'hl7v2', 'MLLP start byte')
  t.equal(detectFormat('\uFEFF  BHS|^~\\&|A'), 'hl7v2')
  t.equal(detectFormat('[{"accession":"A"}]'), 'json')
  t.equal(detectFormat('{"accession":"A","loinc":"94500-6"}'), 'json')
  t.equal(detectFormat('{"resourceType":"Bundle","type":"batch"}'), 'fhir')
  t.equal(detectFormat('{"resourceType":"Patient"}'), 'json')
  t.equal(detectFormat('MSHIP,loinc\n'), 'csv', 'a header starting with MSH letters is not HL7')
  t.equal(detectFormat('accession,loinc\n'), 'csv')
})
