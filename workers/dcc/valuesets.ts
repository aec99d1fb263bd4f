/**
 * DCC value sets used at issuance (eu-dcc-valuesets; EU eHealth Network "Value Sets for Digital COVID
 * Certificates" §2.6-2.9), read once from the shipped copy in data/dcc/valuesets/.
 */
import { readFileSync } from 'node:fs'

interface ValueSetFile { valueSetId: string, valueSetValues: Record<string, { display: string, active: boolean }> }

function load (name: string): ValueSetFile {
  return JSON.parse(readFileSync(new URL(`../../data/dcc/valuesets/${name}`, import.meta.url), 'utf8')) as ValueSetFile
}

/** §2.1 disease or agent targeted: COVID-19 */
export const DISEASE_COVID19 = '840539006'
/** §2.7 covid-19-lab-test-type: NAAT (LOINC LP6464-4) and rapid antigen immunoassay (LP217198-3) */
export const TEST_TYPE_NAAT = 'LP6464-4'
export const TEST_TYPE_RAT = 'LP217198-3'

/** §2.9 covid-19-lab-test-manufacturer-and-name: the JRC device ids a RAT certificate may carry in `ma`. */
const devices = load('test-manf-example.json').valueSetValues

/** True when `deviceId` is an active entry of the rapid antigen device value set. */
export function isKnownRatDevice (deviceId: string): boolean {
  const entry = Object.hasOwn(devices, deviceId) ? devices[deviceId] : undefined
  return entry !== undefined && entry.active
}
