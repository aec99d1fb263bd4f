/**
 * Fixtures of the validation unit tests: the DESIGN.md example (with a valid INS), a minimal item and a
 * fixed clock. Every call returns a fresh deep copy, so tests can mutate what they get.
 */
export const NOW = Date.parse('2026-11-25T00:00:00Z')
export const CTX = { labId: 'lab-0042', now: NOW }

/** The DESIGN.md example, with a valid INS; a fresh deep copy each call so tests can mutate it. */
export function validItem(): Record<string, any> {
  return {
    accession: '2026-11-24-000123',
    loinc: '94500-6',
    result: '260373001',
    status: 'final',
    sampledAt: '2026-11-24T08:30:00+01:00',
    resultedAt: '2026-11-24T15:02:00+01:00',
    specimen: '258500001',
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
  }
}

/** Only the required fields. */
export function minimalItem(): Record<string, any> {
  return {
    accession: 'A1',
    loinc: '94558-4',
    result: '260415000',
    status: 'final',
    sampledAt: '2026-11-24T08:30:00Z',
    resultedAt: '2026-11-24T08:45:00Z',
    patient: { family: 'Martin', given: ['Paul'], birthDate: '1950-06-01', sex: 'M' },
  }
}

/** Apply a mutation to a fresh valid item and return it. */
export function variant(mutate: (item: Record<string, any>) => void, base: () => Record<string, any> = validItem): Record<string, any> {
  const item = base()
  mutate(item)
  return item
}
