// FHIR R4 Bundles: the ReportStream fixture, reference resolution (urn:uuid and Type/id), bundle types,
// errors and their OperationOutcome.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { parseFhirBundle, toOperationOutcome } from '../../workers/parse/fhir.ts'

const text = readFileSync(new URL('../fixtures/fhir/sample_AK_20240220-0001.fhir.json', import.meta.url), 'utf8')

t.test('sample_AK_20240220-0001.fhir.json: one SARS-CoV-2 result out of the panel', async (t) => {
  const out = parseFhirBundle(text)
  t.same(out.errors, [])
  t.equal(out.items.length, 1)
  t.equal(out.items[0]!.source, 'Bundle.entry[12].resource Observation/06735b3b-a15d-4249-9ff6-6df8f7aab822')
  t.strictSame(out.items[0]!.item, {
    accession: '3ad338c6-125d-4141-9ce1-6040481304ab',
    loinc: '94500-6',
    result: '260373001',
    status: 'final',
    sampledAt: '2024-02-14T20:51:46+00:00',
    resultedAt: '2024-02-14T21:06:46+00:00',
    specimen: '258500001',
    device: '00884999048034',
    orderId: '3ad338c6-125d-4141-9ce1-6040481304ab',
    patient: {
      family: 'Diggory',
      given: ['Cedrick', 'Charles'],
      birthDate: '2000-12-18',
      sex: 'M',
      address: { line: '123 Main St', postcode: '99501', city: 'Anchorage', country: 'US' },
      phone: '+13405555555',
    },
    prescriber: { id: '1245319599', idType: 'NPI', family: 'McTester', given: 'Phil' },
  })
  t.equal(out.warnings.filter((w) => w.code === 'SKIPPED').length, 2, 'RSV and influenza B noted; the 5 AOE answers (supportingInfo) not')
})

// A small French transaction Bundle with urn:uuid references.
const bundle = (over: { type?: string; obs?: Record<string, unknown>; patient?: Record<string, unknown> } = {}) => ({
  resourceType: 'Bundle',
  type: over.type ?? 'transaction',
  entry: [
    {
      fullUrl: 'urn:uuid:11111111-1111-1111-1111-111111111111',
      resource: {
        resourceType: 'Patient',
        identifier: [{ system: 'urn:oid:1.2.250.1.213.1.4.8', value: '284037512345640' }],
        name: [{ use: 'usual', family: 'Dupont', given: ['M.'] }, { use: 'official', family: 'Dupont-Lefèvre', given: ['Marie', 'Anne'] }],
        gender: 'female',
        birthDate: '1984-03-12',
        address: [{ use: 'home', line: ['12 rue des Lilas'], postalCode: '75013', city: 'Paris', country: 'FR' }],
        telecom: [{ system: 'phone', use: 'home', value: '01 45 67 89 10' }, { system: 'phone', use: 'mobile', value: '06 12 34 56 78' }, { system: 'email', value: 'marie.dupont@example.fr' }],
        ...over.patient,
      },
    },
    {
      fullUrl: 'urn:uuid:22222222-2222-2222-2222-222222222222',
      resource: {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '94558-4' }] },
        subject: { reference: 'urn:uuid:11111111-1111-1111-1111-111111111111' },
        effectiveDateTime: '2026-11-24T08:30:00+01:00',
        issued: '2026-11-24T08:50:00+01:00',
        valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '260415000' }] },
        specimen: { reference: 'Specimen/sp1' },
        basedOn: [{ reference: 'ServiceRequest/sr1' }],
        device: { reference: 'Device/d1' },
        ...over.obs,
      },
    },
    {
      fullUrl: 'https://lab.example.fr/fhir/Specimen/sp1',
      resource: { resourceType: 'Specimen', id: 'sp1', accessionIdentifier: { value: 'ACC-9' }, type: { coding: [{ system: 'http://snomed.info/sct', code: '697989009' }] } },
    },
    {
      resource: {
        resourceType: 'ServiceRequest',
        id: 'sr1',
        identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PLAC' }] }, value: 'ord_7f3a' }],
        requester: { reference: 'Practitioner/p1' },
      },
    },
    { resource: { resourceType: 'Practitioner', id: 'p1', identifier: [{ system: 'urn:oid:1.2.250.1.71.4.2.1', value: '810001234567' }], name: [{ family: 'Martin', given: ['Paul'] }] } },
    { resource: { resourceType: 'Device', id: 'd1', identifier: [{ system: 'https://covid-19-diagnostics.jrc.ec.europa.eu/devices', value: '1232' }] } },
  ],
})

t.test('transaction Bundle: urn:uuid, absolute and Type/id references; French identifiers', async (t) => {
  const out = parseFhirBundle(bundle())
  t.same(out.errors, [])
  t.strictSame(out.items[0]!.item, {
    accession: 'ACC-9',
    loinc: '94558-4',
    result: '260415000',
    status: 'final',
    sampledAt: '2026-11-24T08:30:00+01:00',
    resultedAt: '2026-11-24T08:50:00+01:00',
    specimen: '697989009',
    device: '1232',
    orderId: 'ord_7f3a',
    patient: {
      ins: '284037512345640',
      family: 'Dupont-Lefèvre',
      given: ['Marie', 'Anne'],
      birthDate: '1984-03-12',
      sex: 'F',
      address: { line: '12 rue des Lilas', postcode: '75013', city: 'Paris', country: 'FR' },
      phone: '+33612345678',
      email: 'marie.dupont@example.fr',
    },
    prescriber: { id: '10001234567', idType: 'RPPS', family: 'Martin', given: 'Paul' },
  })
})

t.test('batch, collection and message Bundles are read; other types and resources are not', async (t) => {
  for (const type of ['batch', 'collection', 'message']) t.equal(parseFhirBundle(bundle({ type })).items.length, 1, type)
  t.strictSame(parseFhirBundle(bundle({ type: 'searchset' })).errors.map((e) => [e.code, e.field]), [['UNSUPPORTED_MESSAGE', 'Bundle.type']])
  t.strictSame(parseFhirBundle({ resourceType: 'Patient' }).errors.map((e) => e.code), ['UNSUPPORTED_MESSAGE'])
  t.strictSame(parseFhirBundle('{not json').errors.map((e) => e.code), ['SYNTAX'])
})

t.test('errors name the FHIR element; one bad Observation does not take the others down', async (t) => {
  const b = bundle({ obs: { status: 'preliminary' } })
  const good = structuredClone(b.entry[1]!)
  ;(good.resource as Record<string, unknown>).status = 'corrected'
  b.entry.push(good)
  const out = parseFhirBundle(b)
  t.strictSame(out.errors.map((e) => [e.index, e.code, e.field]), [[0, 'UNSUPPORTED_CODE', 'Bundle.entry[1].resource.status']])
  t.strictSame(out.items.map((i) => [i.index, i.item.status]), [[1, 'corrected']])

  const dangling = parseFhirBundle(bundle({ obs: { subject: { reference: 'Patient/nope' } } }))
  t.strictSame(dangling.errors.map((e) => [e.code, e.field]), [['UNRESOLVED_REFERENCE', 'Bundle.entry[1].resource.subject']])
  const other = parseFhirBundle(bundle({ patient: { gender: 'other' } }))
  t.strictSame(other.errors.map((e) => [e.code, e.field]), [['UNSUPPORTED_CODE', 'Bundle.entry[0].resource.gender']])
  const none = parseFhirBundle(bundle({ obs: { code: { coding: [{ system: 'http://loinc.org', code: '95419-8' }] } } }))
  t.strictSame(none.errors.map((e) => e.code), ['NO_RESULT'])
})

t.test('toOperationOutcome', async (t) => {
  const out = parseFhirBundle(bundle({ obs: { status: 'preliminary' } }))
  const oo = toOperationOutcome(out.errors, [{ index: -1, code: 'OMITTED', field: 'Bundle.entry[0].resource.telecom', message: 'phone left out' }])
  t.equal(oo.resourceType, 'OperationOutcome')
  t.match(oo.issue[0], {
    severity: 'error',
    code: 'code-invalid',
    details: { coding: [{ system: 'urn:sidep:error-code', code: 'UNSUPPORTED_CODE' }] },
    expression: ['Bundle.entry[1].resource.status'],
    diagnostics: /^item 0: /,
  })
  t.match(oo.issue[1], { severity: 'warning', code: 'informational' })
  t.strictSame(toOperationOutcome([]).issue.map((i) => i.severity), ['information'])
})
