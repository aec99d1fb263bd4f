/** Canonical result items as labs send them (DESIGN.md JSON contract), for tests. */
export function nirWithKey(body13: string): string {
  const n = BigInt(body13.replace('2A', '19').replace('2B', '18'))
  return body13 + String(97n - (n % 97n)).padStart(2, '0')
}

export interface ItemOverrides {
  accession?: string
  loinc?: string
  result?: string
  status?: string
  sampledAt?: string
  resultedAt?: string
  patient?: Record<string, unknown>
  [k: string]: unknown
}

const HOUR = 3600_000

export function makeItem(o: ItemOverrides = {}): Record<string, unknown> {
  const resulted = new Date(Date.now() - 2 * HOUR)
  const sampled = new Date(Date.now() - 20 * HOUR)
  const { patient, ...rest } = o
  return {
    accession: 'ACC-1',
    loinc: '94500-6',
    result: '260373001',
    status: 'final',
    sampledAt: sampled.toISOString(),
    resultedAt: resulted.toISOString(),
    patient: {
      ins: nirWithKey('2840375123456'),
      family: 'Dupont-Lefèvre',
      given: ['Marie', 'Anne'],
      birthDate: '1984-03-12',
      sex: 'F',
      address: { line: '12 rue des Lilas', postcode: '75013', city: 'Paris', country: 'FR' },
      phone: '+33612345678',
      email: 'marie.dupont@example.fr',
      ...(patient ?? {}),
    },
    ...rest,
  }
}
