/**
 * Identity normalisation and the identity key the pseudonym is computed from (DESIGN.md "Privacy and
 * security": INS when present and valid, else family name + first given name + birth date + sex,
 * upper-cased, accents and punctuation removed).
 *
 * The same person is written differently by different labs ('Dupont-Lefèvre', 'DUPONT LEFEVRE ',
 * 'dupont  lefèvre'): the normal form makes those one key, so that results link across labs.
 * It follows the usual French identity-matching conventions (the INS référentiel's "traits"
 * are in upper case without diacritics; hyphens and apostrophes separate name parts).
 */
import { isValidNir } from './nir.ts'
import type { PatientIdentity } from '../model/canonical.ts'

/**
 * Letters that carry no combining mark to strip (NFKD does not decompose them): ligatures and
 * stroked letters, upper-cased already.
 */
const SPECIAL: Readonly<Record<string, string>> = {
  Œ: 'OE',
  Æ: 'AE',
  ẞ: 'SS', // capital sharp s; the small ß is upper-cased to SS by toUpperCase
  Ø: 'O',
  Ł: 'L',
  Đ: 'D',
  Ð: 'D',
  Þ: 'TH',
  Ħ: 'H',
  Ŧ: 'T',
  Ŋ: 'NG',
}
const SPECIAL_RE = /[ŒÆẞØŁĐÐÞĦŦŊ]/g
const MARKS = /\p{M}+/gu
/** anything that is not a letter or a digit (hyphen, apostrophes ' ’ ʼ, dots, commas, spaces...) */
const SEPARATORS = /[^\p{L}\p{N}]+/gu
const ALREADY_NORMAL = /^[A-Z0-9]+(?: [A-Z0-9]+)*$/

/**
 * Upper case, diacritics removed, ligatures expanded, every run of non-alphanumerics (hyphens,
 * apostrophes, punctuation, white space) made one space, trimmed.
 * NFKD rather than NFD: it also folds compatibility forms (ﬁ ligature, full-width letters) that some
 * systems emit; for ordinary accented letters the two are identical.
 */
export function normaliseName(name: string): string {
  if (ALREADY_NORMAL.test(name)) return name // fast path: most LIS already send upper-case ASCII
  // Names repeat a lot (given names above all) and the full form costs an NFKD pass and four regex
  // replacements (it was ~4% of an ingest worker thread): the result is memoised per thread, in a bounded map
  // emptied when full, so memory stays bounded whatever the input.
  let normal = normalised.get(name)
  if (normal === undefined) {
    if (normalised.size >= NORMALISED_MAX) normalised.clear()
    normalised.set(name, (normal = normaliseSlow(name)))
  }
  return normal
}

const NORMALISED_MAX = 8192
const normalised = new Map<string, string>()

function normaliseSlow(name: string): string {
  return name
    .normalize('NFKD')
    .replace(MARKS, '')
    .toUpperCase()
    .replace(SPECIAL_RE, (c) => SPECIAL[c]!)
    .replace(SEPARATORS, ' ')
    .trim()
}

/**
 * The identity key: `INS:<ins>` when a valid INS is present (the national identifier is the best
 * link), else `T:<FAMILY>|<FIRST GIVEN>|<birthDate>|<sex>` from the normalised traits.
 * '|' cannot occur inside a normalised name, so the fields cannot run into each other.
 */
export function identityKey(patient: Pick<PatientIdentity, 'ins' | 'family' | 'given' | 'birthDate' | 'sex'>): string {
  if (patient.ins !== undefined && isValidNir(patient.ins)) return 'INS:' + patient.ins
  const first = patient.given.length > 0 ? patient.given[0]! : ''
  return 'T:' + normaliseName(patient.family) + '|' + normaliseName(first) + '|' + patient.birthDate + '|' + patient.sex
}
