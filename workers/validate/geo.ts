/**
 * Residence: French postcode → INSEE department → INSEE region, for public-health statistics by
 * place of residence (DESIGN.md: ClickHouse keeps department / region of residence, never the address).
 *
 * A postcode is La Poste's, a department is INSEE's; for the vast majority of communes the first digits
 * of the postcode are the department's code (La Poste allocated them so). The rules, in order:
 *  - metropolitan France: the first two digits (01..95) are the department;
 *  - Corsica (department 20 split in 1976 into 2A Corse-du-Sud and 2B Haute-Corse, which kept the 20xxx
 *    postcodes): 20000-20199 → 2A (Ajaccio 20000/20090, Sartène 20100...), 20200-20699 → 2B (Bastia
 *    20200/20600, Corte 20250, Calvi 20260...), the split La Poste applies; anything else 20xxx is unknown;
 *  - overseas departments: the first three digits, 971 Guadeloupe, 972 Martinique, 973 Guyane,
 *    974 La Réunion, 976 Mayotte;
 *  - overseas collectivities are not departments (not in INSEE's department table): the residence is
 *    that territory's ISO 3166-1 country code with no department, as for any residence outside France:
 *    975xx Saint-Pierre-et-Miquelon (PM); 97133 Saint-Barthélemy (BL) and 97150 Saint-Martin (MF), which
 *    kept Guadeloupe postcodes when they left it in 2007 (INSEE codes 977 / 978 are not postcodes);
 *    984xx TAAF (TF), 986xx Wallis-et-Futuna (WF), 987xx Polynésie française (PF), 988xx
 *    Nouvelle-Calédonie (NC);
 *  - 980xx is Monaco (MC), which La Poste routes as if French: not France.
 * Known limit: a few communes have the postcode of a neighbouring department's post office; the exact
 * department needs the INSEE commune code, which labs do not send.
 *
 * Decisions where the brief was silent (documented in the report):
 *  - a country other than FR gives department null, never guessed from the postcode;
 *  - the ISO codes of the overseas departments (GP, MQ, GF, RE, YT) mean France: country FR and, when
 *    no postcode says otherwise, that department;
 *  - an address without country is French (labs are French and omit it);
 *  - no address at all: country 'ZZ' (ISO 3166 user-assigned, CLDR "Unknown Region"): an unknown
 *    residence is not counted as French.
 */
import { readFileSync } from 'node:fs'
import type { Residence } from '../model/canonical.ts'

export const UNKNOWN_COUNTRY = 'ZZ'

export interface Department {
  /** INSEE code: '01'..'95', '2A', '2B', '971'..'976' */
  code: string
  name: string
  regionCode: string
  regionName: string
  population: number
}

function loadDepartments(): ReadonlyMap<string, Department> {
  // Read once at module load; relative to this file so it works from any working directory.
  const text = readFileSync(new URL('../../data/geo/fr-departments.csv', import.meta.url), 'utf8')
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0)
  const header = lines.shift()
  if (header !== 'department_code,department_name,region_code,region_name,population') {
    throw new Error('data/geo/fr-departments.csv: unexpected header')
  }
  const map = new Map<string, Department>()
  for (const line of lines) {
    const cols = line.split(',')
    if (cols.length !== 5) throw new Error('data/geo/fr-departments.csv: expected 5 columns in ' + JSON.stringify(line))
    const [code, name, regionCode, regionName, population] = cols as [string, string, string, string, string]
    map.set(code, Object.freeze({ code, name, regionCode, regionName, population: Number(population) }))
  }
  return map
}

const DEPARTMENTS = loadDepartments()

/** INSEE department by code ('75', '2A', '971'), or undefined. */
export function departmentByCode(code: string): Department | undefined {
  return DEPARTMENTS.get(code)
}

/** All departments of the shipped table, in file order. */
export function allDepartments(): Department[] {
  return [...DEPARTMENTS.values()]
}

/** What a French postcode designates. */
export type PostcodeLookup =
  | { kind: 'department'; department: Department }
  /** a territory with its own ISO country code and no INSEE department (Monaco, overseas collectivities) */
  | { kind: 'territory'; country: string }
  | { kind: 'invalid' }
  | { kind: 'unknown' }

const FIVE_DIGITS = /^[0-9]{5}$/

const TERRITORY_BY_PREFIX3: Readonly<Record<string, string>> = {
  '975': 'PM',
  '980': 'MC',
  '984': 'TF',
  '986': 'WF',
  '987': 'PF',
  '988': 'NC',
}
const TERRITORY_BY_POSTCODE: Readonly<Record<string, string>> = { '97133': 'BL', '97150': 'MF' }

function dept(code: string): PostcodeLookup {
  const d = DEPARTMENTS.get(code)
  return d === undefined ? { kind: 'unknown' } : { kind: 'department', department: d }
}

export function lookupPostcode(postcode: string): PostcodeLookup {
  if (!FIVE_DIGITS.test(postcode)) return { kind: 'invalid' }
  const exact = TERRITORY_BY_POSTCODE[postcode]
  if (exact !== undefined) return { kind: 'territory', country: exact }
  const p2 = postcode.slice(0, 2)
  if (p2 === '20') {
    const n = Number(postcode)
    if (n <= 20199) return dept('2A')
    if (n <= 20699) return dept('2B')
    return { kind: 'unknown' }
  }
  if (p2 === '97' || p2 === '98') {
    const p3 = postcode.slice(0, 3)
    const territory = TERRITORY_BY_PREFIX3[p3]
    if (territory !== undefined) return { kind: 'territory', country: territory }
    return dept(p3) // 971..974, 976; 970, 977..979, 981.. are unknown
  }
  return dept(p2) // '00', '96', '99' are not departments → unknown
}

/** ISO codes of the overseas departments: France, with the department they designate. */
const OVERSEAS_DEPARTMENT_BY_COUNTRY: Readonly<Record<string, string>> = {
  GP: '971',
  MQ: '972',
  GF: '973',
  RE: '974',
  YT: '976',
}

export interface ResidenceOutcome {
  residence: Residence
  /** why the postcode was not used: the lab sent a malformed or unknown French postcode */
  problem: null | 'INVALID_FORMAT' | 'UNKNOWN_POSTCODE'
}

function res(country: string, d: Department | null, problem: ResidenceOutcome['problem'] = null): ResidenceOutcome {
  return {
    residence: { country, department: d === null ? null : d.code, region: d === null ? null : d.regionCode },
    problem,
  }
}

/**
 * The residence of an address as the lab sent it (postcode and country already trimmed). A postcode is
 * only interpreted for France; country is upper-cased.
 */
export function residenceOf(address: { postcode?: string; country?: string } | undefined): ResidenceOutcome {
  if (address === undefined) return res(UNKNOWN_COUNTRY, null)
  const country = address.country === undefined || address.country === '' ? 'FR' : address.country.toUpperCase()
  const overseas = OVERSEAS_DEPARTMENT_BY_COUNTRY[country]
  if (country !== 'FR' && overseas === undefined) return res(country, null)
  const postcode = address.postcode
  if (postcode === undefined || postcode === '') {
    return res('FR', overseas === undefined ? null : DEPARTMENTS.get(overseas) ?? null)
  }
  const found = lookupPostcode(postcode)
  switch (found.kind) {
    case 'department':
      return res('FR', found.department)
    case 'territory':
      return res(found.country, null)
    case 'invalid':
      return res('FR', null, 'INVALID_FORMAT')
    case 'unknown':
      return res('FR', null, 'UNKNOWN_POSTCODE')
  }
}
