/**
 * FHIR R4 Bundle (type message, transaction, batch or collection) → items of the lab JSON contract.
 * Pure: no I/O, no business validation (workers/validate does that). Types: @medplum/fhirtypes (R4).
 *
 * One item per SARS-CoV-2 result Observation (Observation.code LOINC, see loinc-selection.ts); the
 * Observations referenced from ServiceRequest.supportingInfo (ask-at-order-entry answers) and other
 * tests of a panel are skipped. Each Observation is read with the resources around it, found through
 * references (Reference.reference as 'urn:uuid:…' / absolute fullUrl, or relative 'Type/id'):
 *
 *   accession   DiagnosticReport.identifier of type FILL (v2-0203, the filler order number = OBR-3),
 *               else ServiceRequest.identifier FILL, else Specimen.accessionIdentifier
 *   orderId     ServiceRequest.identifier of type PLAC (placer = ORC-2), else DiagnosticReport's
 *   loinc       Observation.code.coding[system=http://loinc.org].code
 *   result      Observation.valueCodeableConcept.coding[system=http://snomed.info/sct].code
 *   value/unit  Observation.valueQuantity.value / .code (UCUM) or .unit; result then from
 *               Observation.interpretation (v3-ObservationInterpretation POS/DET, NEG/ND, IND)
 *   status      Observation.status: final, corrected|amended → corrected, cancelled|entered-in-error → cancelled
 *   sampledAt   Specimen.collection.collectedDateTime (or collectedPeriod.start), else
 *               Observation.effectiveDateTime (or effectivePeriod.start), else DiagnosticReport.effective[x]
 *   resultedAt  DiagnosticReport.issued (= OBR-22), else Observation.issued
 *   specimen    Specimen.type.coding[system=http://snomed.info/sct].code
 *   device      Observation.device → Device.identifier[0].value (or udiCarrier.deviceIdentifier)
 *   patient     Observation.subject (else DiagnosticReport.subject) → Patient: identifier with system
 *               urn:oid:1.2.250.1.213.1.4.8 / .9 (INS), name (official first), birthDate, gender,
 *               address (home first), telecom (phone: mobile first; email)
 *   prescriber  ServiceRequest.requester → PractitionerRole.practitioner or Practitioner: identifier
 *               (us-npi → NPI; urn:oid:1.2.250.1.71.4.2.1 → RPPS / ADELI by its prefix), name
 */
import type {
  Bundle,
  BundleEntry,
  CodeableConcept,
  Device,
  DiagnosticReport,
  Identifier,
  Observation,
  OperationOutcome,
  OperationOutcomeIssue,
  Patient,
  Practitioner,
  PractitionerRole,
  Reference,
  Resource,
  ServiceRequest,
  Specimen,
} from '@medplum/fhirtypes'
import { toAlpha2 } from './country.ts'
import { classifyLoinc } from './loinc-selection.ts'
import { phoneFromText } from './phone.ts'
import { compact, ParseErrorCode as C } from './types.ts'
import type { ParsedItem, ParseError, ParseOutput } from './types.ts'
import { QUALITATIVE_INTERPRETATION } from './interpretation.ts'

const LOINC = 'http://loinc.org'
const SNOMED = 'http://snomed.info/sct'
const UCUM = 'http://unitsofmeasure.org'
const NPI = 'http://hl7.org/fhir/sid/us-npi'
const INS_SYSTEMS = new Set(['urn:oid:1.2.250.1.213.1.4.8', 'urn:oid:1.2.250.1.213.1.4.9'])
const IDNATPS = 'urn:oid:1.2.250.1.71.4.2.1'
const BUNDLE_TYPES = new Set(['message', 'transaction', 'batch', 'collection'])

const STATUS: Record<string, 'final' | 'corrected' | 'cancelled'> = {
  final: 'final',
  corrected: 'corrected',
  amended: 'corrected',
  cancelled: 'cancelled',
  'entered-in-error': 'cancelled',
}
// FHIR R4 administrative-gender → contract sex; 'other' is reported (as HL7 PID-8 'O' is).
const GENDER: Record<string, 'F' | 'M' | 'U'> = { female: 'F', male: 'M', unknown: 'U' }

type Located<T> = { resource: T; path: string }

class BundleIndex {
  private byUrl = new Map<string, Located<Resource>>()
  private byTypeId = new Map<string, Located<Resource>>()

  constructor(entries: BundleEntry[]) {
    entries.forEach((e, i) => {
      const r = e.resource
      if (!r || typeof r !== 'object') return
      const loc = { resource: r, path: `Bundle.entry[${i}].resource` }
      if (e.fullUrl) this.byUrl.set(e.fullUrl, loc)
      if (r.id) this.byTypeId.set(`${r.resourceType}/${r.id}`, loc)
    })
  }

  /** Resolve a Reference inside the Bundle (FHIR R4 Bundle, "Resolving references in Bundles"). */
  resolve<T extends Resource>(ref: Reference | undefined, types: string[]): Located<T> | undefined | null {
    const s = ref?.reference
    if (!s) return undefined
    const hit =
      this.byUrl.get(s) ??
      this.byTypeId.get(s) ??
      // absolute URL ending in Type/id, or Type/id/_history/v
      this.byTypeId.get(/([A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(\/_history\/.*)?$/.exec(s)?.[1] ?? '')
    if (!hit || !types.includes(hit.resource.resourceType)) return null
    return hit as Located<T>
  }
}

function codeIn(cc: CodeableConcept | undefined, system: string): string | undefined {
  return cc?.coding?.find((c) => c.system === system && c.code)?.code
}

function identifierOfType(ids: Identifier[] | undefined, type: string): string | undefined {
  return ids?.find((i) => i.value && i.type?.coding?.some((c) => c.code === type))?.value
}

/** Parse a FHIR R4 Bundle given as JSON text, bytes or an already parsed object. Never throws. */
export function parseFhirBundle(input: string | Uint8Array | unknown): ParseOutput & { warnings: ParseError[] } {
  const items: ParsedItem[] = []
  const errors: ParseError[] = []
  const warnings: ParseError[] = []
  let next = 0
  const fail = (code: string, field: string, message: string) => {
    errors.push({ index: next++, code, field, message })
    return { items, errors, warnings }
  }

  let bundle: Bundle
  if (typeof input === 'string' || input instanceof Uint8Array) {
    try {
      bundle = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8')) as Bundle
    } catch (err) {
      return fail(C.SYNTAX, '', `not JSON: ${(err as Error).message}`)
    }
  } else bundle = input as Bundle
  if (!bundle || typeof bundle !== 'object' || (bundle as Resource).resourceType !== 'Bundle') {
    return fail(C.UNSUPPORTED_MESSAGE, 'resourceType', 'a FHIR R4 Bundle is expected (resourceType "Bundle")')
  }
  if (!BUNDLE_TYPES.has(bundle.type)) {
    return fail(C.UNSUPPORTED_MESSAGE, 'Bundle.type', `Bundle.type '${bundle.type}' is not supported: send message, transaction, batch or collection`)
  }
  const entries = Array.isArray(bundle.entry) ? bundle.entry : []
  const index = new BundleIndex(entries)

  // Which Observations are results, and of which DiagnosticReport.
  const reportOf = new Map<Observation, Located<DiagnosticReport>>()
  const questions = new Set<Observation>()
  entries.forEach((e, i) => {
    const r = e.resource
    if (r?.resourceType === 'DiagnosticReport') {
      for (const ref of r.result ?? []) {
        const o = index.resolve<Observation>(ref, ['Observation'])
        if (o) reportOf.set(o.resource, { resource: r, path: `Bundle.entry[${i}].resource` })
      }
    }
    if (r?.resourceType === 'ServiceRequest') {
      for (const ref of r.supportingInfo ?? []) {
        const o = index.resolve<Observation>(ref, ['Observation'])
        if (o) questions.add(o.resource)
      }
    }
  })

  let results = 0
  entries.forEach((e, i) => {
    const obs = e.resource
    if (obs?.resourceType !== 'Observation' || questions.has(obs)) return
    const path = `Bundle.entry[${i}].resource`
    const loinc = codeIn(obs.code, LOINC)
    const kind = loinc ? classifyLoinc(loinc) : 'other'
    if (kind === 'question') return
    if (kind !== 'result' || !loinc) {
      warnings.push({
        index: -1,
        code: C.SKIPPED,
        field: `${path}.code`,
        message: `Observation/${obs.id ?? '?'} (${loinc ? `LOINC ${loinc}` : 'no LOINC code'}) is not a SARS-CoV-2 test result and was skipped`,
      })
      return
    }
    results++
    const unitErrors: Array<Omit<ParseError, 'index'>> = []
    const item = readResult({ resource: obs, path }, loinc, reportOf.get(obs), index, unitErrors, warnings)
    const idx = next++
    if (unitErrors.length) for (const err of unitErrors) errors.push({ index: idx, ...err })
    else items.push({ index: idx, item, source: `${path} Observation/${obs.id ?? i}` })
  })
  if (results === 0) return fail(C.NO_RESULT, 'Bundle.entry', 'no Observation with a SARS-CoV-2 test LOINC code: nothing to record')
  return { items, errors, warnings }
}

function readResult(
  obs: Located<Observation>,
  loinc: string,
  report: Located<DiagnosticReport> | undefined,
  index: BundleIndex,
  errors: Array<Omit<ParseError, 'index'>>,
  warnings: ParseError[],
): Record<string, unknown> {
  const o = obs.resource
  const dr = report?.resource
  const ref = <T extends Resource>(r: Reference | undefined, types: string[], where: string): Located<T> | undefined => {
    const hit = index.resolve<T>(r, types)
    if (hit === null) {
      errors.push({
        code: C.UNRESOLVED_REFERENCE,
        field: where,
        message: `${where} '${r?.reference}' does not resolve to a ${types.join(' or ')} in the Bundle`,
      })
      return undefined
    }
    return hit
  }

  const patient =
    ref<Patient>(o.subject, ['Patient'], `${obs.path}.subject`) ??
    (dr ? ref<Patient>(dr.subject, ['Patient'], `${report!.path}.subject`) : undefined)
  const specimen =
    ref<Specimen>(o.specimen, ['Specimen'], `${obs.path}.specimen`) ??
    (dr?.specimen?.[0] ? ref<Specimen>(dr.specimen[0], ['Specimen'], `${report!.path}.specimen[0]`) : undefined)
  const basedOn = o.basedOn?.[0] ?? dr?.basedOn?.[0]
  const order = basedOn ? ref<ServiceRequest>(basedOn, ['ServiceRequest'], `${o.basedOn?.[0] ? obs.path : report!.path}.basedOn[0]`) : undefined
  const device = o.device ? ref<Device>(o.device, ['Device', 'DeviceMetric'], `${obs.path}.device`) : undefined

  // status
  let status: string | undefined
  if (o.status) {
    status = STATUS[o.status]
    if (!status) {
      errors.push({
        code: C.UNSUPPORTED_CODE,
        field: `${obs.path}.status`,
        message: `Observation.status '${o.status}' is not final, corrected/amended or cancelled/entered-in-error: only final results are recorded`,
      })
    }
  }

  // value
  let result: string | undefined
  let value: number | undefined
  let unit: string | undefined
  if (o.valueCodeableConcept) {
    result = codeIn(o.valueCodeableConcept, SNOMED) ?? o.valueCodeableConcept.coding?.find((c) => c.code)?.code
  } else if (o.valueQuantity) {
    value = o.valueQuantity.value
    unit = o.valueQuantity.system === UCUM || o.valueQuantity.code ? (o.valueQuantity.code ?? o.valueQuantity.unit) : o.valueQuantity.unit
    const flag = o.interpretation?.flatMap((i) => i.coding ?? []).map((c) => c.code ?? '').find((c) => QUALITATIVE_INTERPRETATION[c])
    if (flag) result = QUALITATIVE_INTERPRETATION[flag]
  } else if (o.valueString !== undefined || o.valueBoolean !== undefined || o.valueInteger !== undefined) {
    errors.push({
      code: C.UNSUPPORTED_CODE,
      field: `${obs.path}.value[x]`,
      message: 'Observation.value[x] must be a valueCodeableConcept with a SNOMED CT code (or a valueQuantity for serology)',
    })
  }

  // dates
  const sp = specimen?.resource
  const sampledAt =
    sp?.collection?.collectedDateTime ??
    sp?.collection?.collectedPeriod?.start ??
    o.effectiveDateTime ??
    o.effectivePeriod?.start ??
    dr?.effectiveDateTime ??
    dr?.effectivePeriod?.start
  const resultedAt = dr?.issued ?? o.issued

  // identifiers of the order
  const sr = order?.resource
  const accession =
    identifierOfType(dr?.identifier, 'FILL') ?? identifierOfType(sr?.identifier, 'FILL') ?? sp?.accessionIdentifier?.value
  const orderId = identifierOfType(sr?.identifier, 'PLAC') ?? identifierOfType(dr?.identifier, 'PLAC')

  // device
  const dv = device?.resource as Device | undefined
  const deviceId =
    dv?.identifier?.find((i) => i.value)?.value ?? dv?.udiCarrier?.find((u) => u.deviceIdentifier)?.deviceIdentifier ?? o.device?.identifier?.value

  return compact({
    accession,
    loinc,
    result,
    value,
    unit,
    status,
    sampledAt,
    resultedAt,
    specimen: sp ? (codeIn(sp.type, SNOMED) ?? sp.type?.coding?.find((c) => c.code)?.code) : undefined,
    device: deviceId,
    orderId,
    patient: patient ? readPatient(patient, errors, warnings) : undefined,
    prescriber: sr ? readPrescriber(sr, order!.path, index, errors, warnings) : undefined,
  })
}

function readPatient(p: Located<Patient>, errors: Array<Omit<ParseError, 'index'>>, warnings: ParseError[]): Record<string, unknown> {
  const r = p.resource
  const ins = r.identifier?.find((i) => i.system && INS_SYSTEMS.has(i.system) && i.value)?.value
  const name = r.name?.find((n) => n.use === 'official') ?? r.name?.find((n) => n.use === 'usual') ?? r.name?.[0]
  let sex: string | undefined
  if (r.gender) {
    sex = GENDER[r.gender]
    if (!sex) {
      errors.push({
        code: C.UNSUPPORTED_CODE,
        field: `${p.path}.gender`,
        message: `Patient.gender '${r.gender}' has no equivalent in sidep: send female, male or unknown`,
      })
    }
  }
  const adr = r.address?.find((a) => a.use === 'home') ?? r.address?.[0]
  let address: Record<string, unknown> | undefined
  let country: string | null = null
  if (adr) {
    country = toAlpha2(adr.country)
    if (adr.country && !country) {
      warnings.push({
        index: -1,
        code: C.OMITTED,
        field: `${p.path}.address.country`,
        message: `Patient.address.country '${adr.country}' is not an ISO 3166 code; the address was left out`,
      })
    } else {
      address = compact({ line: (adr.line ?? []).filter(Boolean).join(', '), postcode: adr.postalCode, city: adr.city, country: country ?? undefined })
    }
  }
  const phones = (r.telecom ?? []).filter((t) => t.system === 'phone' || t.system === 'sms')
  phones.sort((a, b) => Number(b.use === 'mobile') - Number(a.use === 'mobile'))
  let phone: string | undefined
  if (phones[0]?.value) {
    const res = phoneFromText(phones[0].value, country)
    if (res.ok) phone = res.e164
    else warnings.push({ index: -1, code: C.OMITTED, field: `${p.path}.telecom`, message: `Patient phone left out: ${res.reason}` })
  }
  const email = r.telecom?.find((t) => t.system === 'email' && t.value)?.value
  return compact({
    ins,
    family: name?.family,
    given: (name?.given ?? []).filter(Boolean),
    birthDate: r.birthDate,
    sex,
    address,
    phone,
    email,
  })
}

function readPrescriber(
  sr: ServiceRequest,
  path: string,
  index: BundleIndex,
  errors: Array<Omit<ParseError, 'index'>>,
  warnings: ParseError[],
): Record<string, unknown> | undefined {
  if (!sr.requester) return undefined
  const who = index.resolve<Practitioner | PractitionerRole>(sr.requester, ['Practitioner', 'PractitionerRole'])
  if (who === null) {
    // A requester that is an Organization or a Patient (self-test) is not a prescriber.
    if (!/^(Organization|Patient|RelatedPerson|Device)\//.test(sr.requester.reference ?? '')) {
      errors.push({ code: C.UNRESOLVED_REFERENCE, field: `${path}.requester`, message: `ServiceRequest.requester '${sr.requester.reference}' does not resolve in the Bundle` })
    }
    return undefined
  }
  let practitioner: Located<Practitioner> | undefined | null
  if (who?.resource.resourceType === 'PractitionerRole') {
    practitioner = index.resolve<Practitioner>((who.resource as PractitionerRole).practitioner, ['Practitioner'])
  } else practitioner = who as Located<Practitioner> | undefined
  const pr = practitioner?.resource
  if (!pr) return undefined
  const name = pr.name?.find((n) => n.use === 'official') ?? pr.name?.[0]
  let id: string | undefined
  let idType: string | undefined
  for (const i of pr.identifier ?? []) {
    if (!i.value) continue
    if (i.system === NPI) {
      id = i.value
      idType = 'NPI'
      break
    }
    if (i.system === IDNATPS && /^[80]\d+$/.test(i.value)) {
      // ANS identifiant national de PS: prefix 8 + RPPS number, prefix 0 + ADELI number.
      id = i.value.slice(1)
      idType = i.value.startsWith('8') ? 'RPPS' : 'ADELI'
      break
    }
    id ??= i.value
  }
  if (!id) {
    warnings.push({ index: -1, code: C.OMITTED, field: `${practitioner!.path}.identifier`, message: 'Practitioner has no identifier; prescriber left out' })
    return undefined
  }
  return compact({ id, idType, family: name?.family, given: name?.given?.[0] })
}

const ISSUE_TYPE: Record<string, OperationOutcomeIssue['code']> = {
  SYNTAX: 'structure',
  STRUCTURE: 'structure',
  BAD_HEADER: 'structure',
  REQUIRED_MISSING: 'required',
  NO_RESULT: 'required',
  DATA_TYPE: 'value',
  UNSUPPORTED_CODE: 'code-invalid',
  UNSUPPORTED_MESSAGE: 'not-supported',
  UNSUPPORTED_VERSION: 'not-supported',
  UNRESOLVED_REFERENCE: 'not-found',
  OMITTED: 'informational',
  SKIPPED: 'informational',
  COUNT_MISMATCH: 'informational',
}

/**
 * Errors (and warnings) as a FHIR R4 OperationOutcome: one issue each, issue.code from the FHIR
 * IssueType value set, issue.details.coding the sidep code, issue.expression the FHIRPath of the field
 * when there is one, issue.diagnostics the message with the item index.
 */
export function toOperationOutcome(errors: ParseError[], warnings: ParseError[] = []): OperationOutcome {
  const issue = (e: ParseError, severity: OperationOutcomeIssue['severity']): OperationOutcomeIssue => {
    const out: OperationOutcomeIssue = {
      severity,
      code: ISSUE_TYPE[e.code] ?? (/MISSING|REQUIRED/.test(e.code) ? 'required' : /UNKNOWN|CODE/.test(e.code) ? 'code-invalid' : 'invalid'),
      details: { coding: [{ system: 'urn:sidep:error-code', code: e.code }], text: e.message },
      diagnostics: e.index >= 0 ? `item ${e.index}: ${e.message}` : e.message,
    }
    if (e.field) out.expression = [e.field]
    return out
  }
  const issues = [...errors.map((e) => issue(e, 'error')), ...warnings.map((w) => issue(w, 'warning'))]
  if (issues.length === 0) issues.push({ severity: 'information', code: 'informational', diagnostics: 'all items accepted' })
  return { resourceType: 'OperationOutcome', issue: issues }
}
