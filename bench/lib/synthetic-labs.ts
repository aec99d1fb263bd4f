/**
 * Seeded generator of realistic result items in the public JSON contract shape (DESIGN.md, "The
 * canonical result as labs send it in JSON"). Each item comes with a side tag (never in the payload)
 * saying what the platform should make of it, so the bench can count expected outcomes:
 *
 *   kind          expected    what it is
 *   new           stored      a fresh result key (labId, accession, loinc), status 'final'
 *   resend        duplicate   the latest version of an earlier key, byte-for-byte again
 *   correction    corrected   same key, later resultedAt, different result, status 'corrected'
 *   cancellation  cancelled   same key, later resultedAt, status 'cancelled'
 *   invalid       rejected    unknown LOINC '00000-0', resultedAt before sampledAt, or a bad NIR key
 *
 * Determinism: the same options (seed, clock readings) give the same items. Resends, corrections and
 * cancellations only ever refer to items generated in an earlier `next()` or an earlier `batch()`, so a
 * lab that sends its submissions in order never references a key the platform has not seen.
 *
 * Items are plain objects shared with the generator's history (a resend returns the very same object):
 * serialise them, never mutate them.
 */
import { readFileSync } from 'node:fs'
import { Prng, WeightedPicker } from './prng.ts'
import { SyntheticConfigError } from './errors.ts'

// ---------------------------------------------------------------------------------------------------
// Public types

export type TestType = 'naat' | 'antigen' | 'serology'
export type ItemKind = 'new' | 'resend' | 'correction' | 'cancellation' | 'invalid'
/** The item status the platform should end with (issue 2: GET /v1/submissions/:id item statuses). */
export type ExpectedStatus = 'stored' | 'duplicate' | 'corrected' | 'cancelled' | 'rejected'
export type InvalidReason = 'unknown-loinc' | 'dates-reversed' | 'bad-nir-key'

/** The public JSON contract as labs send it (field names are a public contract: keep them). */
export interface LabResultItem {
  accession: string
  loinc: string
  result: string
  value?: number
  unit?: string
  status: 'final' | 'corrected' | 'cancelled'
  sampledAt: string
  resultedAt: string
  specimen?: string
  device?: string
  orderId?: string
  patient: LabPatient
  prescriber?: { id: string; idType: string; family: string; given: string }
}

export interface LabPatient {
  ins?: string
  family: string
  given: string[]
  birthDate: string
  sex: 'F' | 'M' | 'U'
  address?: { line?: string; postcode: string; city?: string; country: string }
  phone?: string
  email?: string
}

export interface GeneratedItem {
  labId: string
  item: LabResultItem
  kind: ItemKind
  expected: ExpectedStatus
  /** only for kind 'invalid': why, and the field path the platform should name */
  invalid?: { reason: InvalidReason; field: string }
}

export interface Department {
  code: string
  name: string
  regionCode: string
  population: number
}

export interface TestMix {
  naat: number
  antigen: number
  serology: number
}

export interface SyntheticLabsOptions {
  /** PRNG seed (default 1) */
  seed?: number
  /** number of labs (ids bench-lab-001...) or the lab ids themselves (default 10) */
  labs?: number | readonly string[]
  /** goes into every accession so two runs against the same database never share keys (default: seed) */
  runId?: string
  /** shares of test types, normalised (default naat 0.6, antigen 0.35, serology 0.05) */
  mix?: Partial<TestMix>
  /** share of positive (detected) results (default 0.1) */
  positivity?: number
  /** share of inconclusive results among naat/antigen (default 0.005) */
  inconclusiveShare?: number
  /** share of patients that carry an INS/NIR (default 0.85) */
  insShare?: number
  /** shares of items, each in [0,1], sum <= 1 (defaults: 0.03, 0.02, 0.005) */
  resendShare?: number
  correctionShare?: number
  cancellationShare?: number
  /** shares of invalid items by reason (defaults: unknown LOINC 0.005, dates reversed 0.005, bad NIR key 0.01) */
  unknownLoincShare?: number
  datesReversedShare?: number
  badNirKeyShare?: number
  /** share of items whose patient was already tested (possibly at another lab) (default 0.05) */
  returningPatientShare?: number
  /** share of patients living abroad (default 0.003) */
  foreignResidenceShare?: number
  /** wall clock in epoch ms (default Date.now); fix it for reproducible timestamps */
  clock?: () => number
  /** department table (default: data/geo/fr-departments.csv) */
  departments?: readonly Department[]
  /** how many recent keys per lab can be resent/corrected/cancelled (default 4096) */
  historyPerLab?: number
}

// ---------------------------------------------------------------------------------------------------
// Reference values

/** LOINC codes (DESIGN.md and issue 3): the three SARS-CoV-2 test families the bench sends. */
export const LOINC: Readonly<Record<TestType, string>> = Object.freeze({
  naat: '94500-6',
  antigen: '94558-4',
  serology: '94563-4',
})
export const UNKNOWN_LOINC = '00000-0'
export const SNOMED_DETECTED = '260373001'
export const SNOMED_NOT_DETECTED = '260415000'
export const SNOMED_INCONCLUSIVE = '419984006'
/** Serology positivity cut-off in AU/mL (the order of magnitude of common quantitative IgG assays). */
export const SEROLOGY_CUTOFF_AU_ML = 50

const SPECIMEN_NASOPHARYNGEAL = '258500001'
const SPECIMEN_SALIVA = '258560004'
const SPECIMEN_SERUM = '119364003'
/** DCC rapid antigen test device identifiers (EU common list, value set covid-19-lab-test-manufacturer-and-name) */
const ANTIGEN_DEVICES = ['1232', '1833', '1268', '1304', '345', '1242', '2010', '1331'] as const

/** UTC offsets in minutes of the overseas departments (no daylight saving there). */
const OVERSEAS_OFFSET_MIN: Readonly<Record<string, number>> = { '971': -240, '972': -240, '973': -180, '974': 240, '976': 180 }

/** INSEE country codes (birth abroad: NIR department 99 + country code): Maroc, Algérie, Tunisie, Portugal, Italie, Espagne, Sénégal, Belgique, Allemagne, Turquie. */
const BIRTH_COUNTRIES = ['350', '352', '351', '139', '127', '134', '341', '131', '109', '208'] as const
const FOREIGN_RESIDENCES = [
  { country: 'BE', postcode: '1000', city: 'Bruxelles' },
  { country: 'CH', postcode: '1201', city: 'Genève' },
  { country: 'DE', postcode: '66111', city: 'Saarbrücken' },
  { country: 'LU', postcode: '1009', city: 'Luxembourg' },
  { country: 'ES', postcode: '08001', city: 'Barcelona' },
] as const

const FAMILY_NAMES = [
  'Martin', 'Bernard', 'Thomas', 'Petit', 'Robert', 'Richard', 'Durand', 'Dubois', 'Moreau', 'Laurent',
  'Simon', 'Michel', 'Lefèvre', 'Leroy', 'Roux', 'David', 'Bertrand', 'Morel', 'Fournier', 'Girard',
  'Bonnet', 'Dupont', 'Lambert', 'Fontaine', 'Rousseau', 'Vincent', 'Müller', 'Lefebvre', 'Mercier', 'Blanc',
  'Guérin', 'Boyer', 'Garnier', 'Chevalier', 'François', 'Legrand', 'Gauthier', 'Garcia', 'Perrin', 'Robin',
  'Clément', 'Morin', 'Nicolas', 'Henry', 'Roussel', 'Mathieu', 'Masson', 'Marchand', 'Duval', 'Denis',
  'Dumont', 'Lemaire', 'Noël', 'Meyer', 'Dufour', 'Meunier', 'Brun', 'Blanchard', 'Giraud', 'Joly',
  'Rivière', 'Lucas', 'Brunet', 'Gaillard', 'Barbier', 'Arnaud', 'Gérard', 'Roche', 'Renard', 'Schmitt',
  'Colin', 'Vidal', 'Caron', 'Picard', 'Fabre', 'Aubert', 'Lemoine', 'Renaud', 'Dumas', 'Lacroix',
  'Benoît', 'Leclerc', 'Payet', 'Hoarau', 'Grondin', 'Carré', 'Ménard', 'Hervé', 'Prévost', 'Lévêque',
  'Barré', 'Étienne', 'Lemaître', 'Bénard', 'Maréchal', 'Barthélemy', 'Gonçalves', 'Mendès', 'Çelik', 'Nguyễn',
  'Traoré', 'Diallo', 'Haddad', 'Da Silva', 'Le Gall', 'Le Roux', 'Le Goff', 'Le Hénaff', 'Le Bihan', "Le Floc'h",
  "N'Diaye", "N'Guessan", "D'Almeida", 'Ben Ahmed', 'El Amrani', 'Van den Berghe',
] as const
/** particle surnames written as in civil status (lower-case particle, capitalised article) */
const PARTICLE_NAMES = ['de La Tour', 'de Saint-Exupéry', 'de La Fontaine', 'du Bellay', "d'Estaing", 'de Gaulle', 'de Villèle', 'du Guesclin'] as const

const GIVEN_F = [
  'Marie', 'Anne', 'Hélène', 'Zoé', 'Léa', 'Chloé', 'Emma', 'Inès', 'Anaïs', 'Noémie', 'Cécile', 'Élodie',
  'Sophie', 'Camille', 'Manon', 'Jade', 'Louise', 'Alice', 'Juliette', 'Margaux', 'Maëlle', 'Océane',
  'Laëtitia', 'Gaëlle', 'Agnès', 'Françoise', 'Géraldine', 'Valérie', 'Nathalie', 'Isabelle', 'Sylvie',
  'Catherine', 'Aurélie', 'Mélanie', 'Séverine', 'Fatoumata', 'Aïcha', 'Yasmine', 'Thérèse', 'Joséphine',
  'Marie-Hélène', 'Anne-Sophie', 'Marie-Claire', 'Ève',
] as const
const GIVEN_M = [
  'Jean', 'Pierre', 'Paul', 'Jérôme', 'François', 'Loïc', 'Maël', 'Noé', 'Raphaël', 'Gabriel', 'Léo',
  'Lucas', 'Hugo', 'Louis', 'Arthur', 'Jules', 'Théo', 'Mathéo', 'Nathan', 'Enzo', 'Clément', 'Benoît',
  'Stéphane', 'Frédéric', 'Sébastien', 'Jérémy', 'Grégoire', 'Hervé', 'André', 'René', 'Gaëtan', 'Joël',
  'Noël', 'Aurélien', 'Mamadou', 'Mohamed', 'Karim', 'Yanis', 'Jean-Baptiste', 'Jean-François',
  'Jean-Pierre', 'Pierre-Louis', 'Marc-Antoine', 'Côme',
] as const
const STREETS = [
  'rue des Lilas', 'avenue de la République', 'boulevard Victor-Hugo', "place de l'Église", 'chemin des Écoliers',
  'allée des Peupliers', 'rue Jean-Jaurès', 'impasse du Moulin', 'route de Lyon', 'quai de la Loire',
  "rue de l'Hôpital", 'rue Pasteur', 'rue du Général-de-Gaulle', 'avenue Foch', 'rue Émile-Zola',
] as const
const MAIL_DOMAINS = ['example.fr', 'example.com', 'example.org', 'example.net'] as const
const BIG_CITIES: Readonly<Record<string, string>> = { '75': 'Paris', '13': 'Marseille', '69': 'Lyon', '31': 'Toulouse', '06': 'Nice', '33': 'Bordeaux' }

/** Age bands (years) of people tested, rough shape of 2021-2022 French testing (children and young adults over-represented). */
const AGE_BANDS: readonly (readonly [number, number])[] = [
  [0, 9], [10, 19], [20, 29], [30, 39], [40, 49], [50, 59], [60, 69], [70, 79], [80, 99],
]
const AGE_WEIGHTS = [10, 15, 17, 16, 14, 11, 8, 5, 4]

// ---------------------------------------------------------------------------------------------------
// Pure helpers (exported for tests and for the bench)

/**
 * NIR key: 97 - (13-digit number mod 97), two digits. Corsica: '2A' reads as 19 and '2B' as 18 in the
 * number (INSEE rule for the NIR of people born in Corsica since 1976).
 */
export function nirKey(nir13: string): string {
  if (nir13.length !== 13) throw new RangeError(`a NIR without key has 13 characters, got ${nir13.length}`)
  const place = nir13.slice(5, 7)
  const numeric = place === '2A' ? `${nir13.slice(0, 5)}19${nir13.slice(7)}` : place === '2B' ? `${nir13.slice(0, 5)}18${nir13.slice(7)}` : nir13
  // 13 digits < 2^53: exact in a double
  const n = Number(numeric)
  if (!Number.isInteger(n)) throw new RangeError(`not a NIR: ${nir13}`)
  return String(97 - (n % 97)).padStart(2, '0')
}

/** Department of a French postcode (Corsica 20000-20199 → 2A, 20200-20620 → 2B; 97x overseas). */
export function departmentOfPostcode(postcode: string): string | null {
  if (!/^\d{5}$/.test(postcode)) return null
  if (postcode.startsWith('97') || postcode.startsWith('98')) return postcode.slice(0, 3)
  if (postcode.startsWith('20')) {
    const n = Number(postcode)
    if (n < 20200) return '2A'
    if (n <= 20620) return '2B'
    return null
  }
  return postcode.slice(0, 2)
}

/** The department table shipped in the repo (INSEE codes, region, population). */
export function loadDepartments(path: string | URL = new URL('../../data/geo/fr-departments.csv', import.meta.url)): Department[] {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '')
  const header = lines.shift()
  if (header !== 'department_code,department_name,region_code,region_name,population') {
    throw new SyntheticConfigError(`unexpected header in the department table: ${header}`)
  }
  return lines.map((line, i) => {
    const [code, name, regionCode, , population] = line.split(',')
    const pop = Number(population)
    if (!code || !Number.isFinite(pop) || pop <= 0) throw new SyntheticConfigError(`department table line ${i + 2} is malformed: ${line}`)
    return { code, name, regionCode, population: pop }
  })
}

/** Central European time offset (minutes) at an instant: EU rule, summer time from the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC. */
export function parisOffsetMinutes(epochMs: number): number {
  const year = new Date(epochMs).getUTCFullYear()
  let dst = dstCache.get(year)
  if (dst === undefined) {
    const lastSunday = (month: number): number => {
      const d = new Date(Date.UTC(year, month + 1, 0, 1)) // last day of the month, 01:00 UTC
      return d.getTime() - d.getUTCDay() * 86_400_000
    }
    dst = [lastSunday(2), lastSunday(9)]
    dstCache.set(year, dst)
  }
  return epochMs >= dst[0] && epochMs < dst[1] ? 120 : 60
}
const dstCache = new Map<number, [number, number]>()

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n

/** ISO 8601 with seconds and a numeric offset, e.g. 2026-11-24T08:30:00+01:00 */
export function isoWithOffset(epochMs: number, offsetMinutes: number): string {
  const d = new Date(Math.floor(epochMs / 1000) * 1000 + offsetMinutes * 60_000)
  const sign = offsetMinutes < 0 ? '-' : '+'
  const abs = Math.abs(offsetMinutes)
  return (
    `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}` +
    `T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}` +
    `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`
  )
}

/** Accents and punctuation stripped, lower case: for e-mail local parts. */
function asciiSlug(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '')
}

// ---------------------------------------------------------------------------------------------------
// Generator

interface LabState {
  id: string
  offset: (epochMs: number) => number
  seq: number
  /** latest version of recent keys that can still be resent, corrected or cancelled */
  history: LabResultItem[]
}

const DAY_MS = 86_400_000
const MINUTE_MS = 60_000

function share(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!(v >= 0 && v <= 1)) throw new SyntheticConfigError(`${name} must be a number in [0, 1], got ${value}`)
  return v
}

export class SyntheticLabs {
  readonly labIds: readonly string[]
  private readonly rng: Prng
  private readonly clock: () => number
  private readonly runId: string
  private readonly labs: LabState[]
  private readonly departments: WeightedPicker<Department>
  private readonly ages = new WeightedPicker(AGE_BANDS, AGE_WEIGHTS)
  private readonly testTypes: WeightedPicker<TestType>
  private readonly positivity: number
  private readonly inconclusive: number
  private readonly insShare: number
  private readonly returningShare: number
  private readonly foreignShare: number
  private readonly historyPerLab: number
  /** cumulative thresholds for the item kind draw */
  private readonly tResend: number
  private readonly tCorrection: number
  private readonly tCancellation: number
  private readonly tUnknownLoinc: number
  private readonly tDatesReversed: number
  private readonly tBadNir: number
  private readonly patients: LabPatient[] = []
  /** during batch(): new items to remember after the batch, and history items already used in it */
  private deferred: { lab: LabState; item: LabResultItem }[] | null = null
  private touched: Set<LabResultItem> | null = null

  constructor(options: SyntheticLabsOptions = {}) {
    const seed = options.seed ?? 1
    if (!Number.isInteger(seed)) throw new SyntheticConfigError(`seed must be an integer, got ${seed}`)
    this.rng = new Prng(seed)
    this.clock = options.clock ?? Date.now
    this.runId = options.runId ?? `s${(seed >>> 0).toString(36)}`
    if (!/^[A-Za-z0-9]{1,16}$/.test(this.runId)) throw new SyntheticConfigError(`runId must be 1-16 letters or digits, got ${this.runId}`)

    const depts = options.departments ?? loadDepartments()
    this.departments = new WeightedPicker(depts, depts.map((d) => d.population))

    const mix = { naat: 0.6, antigen: 0.35, serology: 0.05, ...options.mix }
    for (const k of Object.keys(mix)) {
      if (!(k in LOINC)) throw new SyntheticConfigError(`unknown test type in mix: ${k}`)
    }
    const mixTypes: TestType[] = ['naat', 'antigen', 'serology']
    for (const t of mixTypes) share(`mix.${t}`, mix[t], 0)
    this.testTypes = new WeightedPicker(mixTypes, mixTypes.map((t) => mix[t]))

    this.positivity = share('positivity', options.positivity, 0.1)
    this.inconclusive = share('inconclusiveShare', options.inconclusiveShare, 0.005)
    if (this.positivity + this.inconclusive > 1) throw new SyntheticConfigError('positivity + inconclusiveShare must not exceed 1')
    this.insShare = share('insShare', options.insShare, 0.85)
    this.returningShare = share('returningPatientShare', options.returningPatientShare, 0.05)
    this.foreignShare = share('foreignResidenceShare', options.foreignResidenceShare, 0.003)
    this.historyPerLab = options.historyPerLab ?? 4096
    if (!Number.isInteger(this.historyPerLab) || this.historyPerLab < 1) throw new SyntheticConfigError('historyPerLab must be a positive integer')

    const shares = [
      share('resendShare', options.resendShare, 0.03),
      share('correctionShare', options.correctionShare, 0.02),
      share('cancellationShare', options.cancellationShare, 0.005),
      share('unknownLoincShare', options.unknownLoincShare, 0.005),
      share('datesReversedShare', options.datesReversedShare, 0.005),
      share('badNirKeyShare', options.badNirKeyShare, 0.01),
    ]
    const cum: number[] = []
    let sum = 0
    for (const v of shares) cum.push((sum += v))
    if (cum[5] > 1 + 1e-9) throw new SyntheticConfigError(`resend, correction, cancellation and invalid shares sum to ${cum[5]}, more than 1`)
    ;[this.tResend, this.tCorrection, this.tCancellation, this.tUnknownLoinc, this.tDatesReversed, this.tBadNir] = cum

    const labIds =
      typeof options.labs === 'object'
        ? [...options.labs]
        : Array.from({ length: options.labs ?? 10 }, (_, i) => `bench-lab-${String(i + 1).padStart(3, '0')}`)
    if (labIds.length === 0) throw new SyntheticConfigError('at least one lab is needed')
    if (new Set(labIds).size !== labIds.length) throw new SyntheticConfigError('lab ids must be unique')
    this.labIds = Object.freeze(labIds)
    this.labs = labIds.map((id) => {
      const dept = this.departments.pick(this.rng).code
      const overseas = OVERSEAS_OFFSET_MIN[dept]
      return { id, offset: overseas === undefined ? parisOffsetMinutes : () => overseas, seq: 0, history: [] }
    })
  }

  /** One item for lab number `labIndex` (0-based; default: a random lab). */
  next(labIndex?: number): GeneratedItem {
    const lab = this.lab(labIndex ?? this.rng.int(this.labs.length))
    return this.generate(lab, this.clock())
  }

  /**
   * One submission of `n` items for one lab. Resends, corrections and cancellations inside it refer
   * only to earlier submissions, never to an item of the same array.
   */
  batch(labIndex: number, n: number): GeneratedItem[] {
    const lab = this.lab(labIndex)
    const now = this.clock()
    const out: GeneratedItem[] = new Array(n)
    this.deferred = []
    this.touched = new Set()
    try {
      for (let i = 0; i < n; i++) out[i] = this.generate(lab, now)
    } finally {
      const pending = this.deferred
      this.deferred = null
      this.touched = null
      for (const p of pending) this.remember(p.lab, p.item)
    }
    return out
  }

  private lab(index: number): LabState {
    const lab = this.labs[index]
    if (!lab) throw new RangeError(`lab index ${index} out of range 0..${this.labs.length - 1}`)
    return lab
  }

  private generate(lab: LabState, now: number): GeneratedItem {
    const r = this.rng.float()
    if (r < this.tCancellation) {
      const h = lab.history
      const slot = h.length > 0 ? this.rng.int(h.length) : -1
      const prev = slot >= 0 ? h[slot] : undefined
      // inside one submission, a key is touched at most once (so item order inside it never matters)
      if (prev !== undefined && !this.touched?.has(prev)) {
        if (r < this.tResend) {
          this.touched?.add(prev)
          return { labId: lab.id, item: prev, kind: 'resend', expected: 'duplicate' }
        }
        const resultedAt = this.laterInstant(lab, prev, now)
        if (resultedAt !== null) {
          if (r < this.tCorrection) {
            const item: LabResultItem = { ...prev, ...this.changedOutcome(prev), status: 'corrected', resultedAt }
            h[slot] = item
            this.touched?.add(item)
            return { labId: lab.id, item, kind: 'correction', expected: 'corrected' }
          }
          const item: LabResultItem = { ...prev, status: 'cancelled', resultedAt }
          // a cancelled key leaves the pool: a later correction of it would be ambiguous to count
          h[slot] = h[h.length - 1]
          h.pop()
          return { labId: lab.id, item, kind: 'cancellation', expected: 'cancelled' }
        }
      }
      // no earlier key to refer to (start of the run, or no room in time): a fresh item instead
    } else if (r < this.tBadNir) {
      const reason: InvalidReason = r < this.tUnknownLoinc ? 'unknown-loinc' : r < this.tDatesReversed ? 'dates-reversed' : 'bad-nir-key'
      return this.invalidItem(lab, now, reason)
    }
    const item = this.freshItem(lab, now, false)
    if (this.deferred) this.deferred.push({ lab, item })
    else this.remember(lab, item)
    return { labId: lab.id, item, kind: 'new', expected: 'stored' }
  }

  private remember(lab: LabState, item: LabResultItem): void {
    if (lab.history.length < this.historyPerLab) lab.history.push(item)
    else lab.history[this.rng.int(this.historyPerLab)] = item
  }

  /** A resultedAt strictly after prev's (whole seconds) and not after now, or null when there is no room. */
  private laterInstant(lab: LabState, prev: LabResultItem, now: number): string | null {
    const prevMs = Date.parse(prev.resultedAt)
    const room = Math.floor((now - prevMs) / 1000)
    if (room < 1) return null
    const t = prevMs + 1000 * this.rng.range(1, Math.min(room, 6 * 3600))
    return isoWithOffset(t, lab.offset(t))
  }

  private changedOutcome(prev: LabResultItem): Pick<LabResultItem, 'result' | 'value'> {
    if (prev.value !== undefined) {
      // serology: the corrected value falls on the other side of the cut-off
      const wasPositive = prev.result === SNOMED_DETECTED
      return { result: wasPositive ? SNOMED_NOT_DETECTED : SNOMED_DETECTED, value: this.serologyValue(!wasPositive) }
    }
    if (prev.result === SNOMED_INCONCLUSIVE) return { result: this.rng.chance(0.5) ? SNOMED_DETECTED : SNOMED_NOT_DETECTED }
    return { result: prev.result === SNOMED_DETECTED ? SNOMED_NOT_DETECTED : SNOMED_DETECTED }
  }

  private serologyValue(positive: boolean): number {
    // log-uniform above the cut-off (antibody titres span decades), uniform below
    const v = positive
      ? SEROLOGY_CUTOFF_AU_ML * Math.exp(this.rng.float() * Math.log(800))
      : 0.5 + this.rng.float() * (SEROLOGY_CUTOFF_AU_ML - 0.6)
    return Math.round(v * 10) / 10
  }

  private invalidItem(lab: LabState, now: number, reason: InvalidReason): GeneratedItem {
    const item = this.freshItem(lab, now, reason === 'bad-nir-key')
    let field: string
    if (reason === 'unknown-loinc') {
      item.loinc = UNKNOWN_LOINC
      field = 'loinc'
    } else if (reason === 'dates-reversed') {
      const sampled = item.sampledAt
      item.sampledAt = item.resultedAt
      item.resultedAt = sampled
      field = 'resultedAt'
    } else {
      field = 'patient.ins'
    }
    return { labId: lab.id, item, kind: 'invalid', expected: 'rejected', invalid: { reason, field } }
  }

  private freshItem(lab: LabState, now: number, badNir: boolean): LabResultItem {
    const rng = this.rng
    const type = this.testTypes.pick(rng)
    // sampled within the last 2 days; resulted after it and at least a minute before now, so a later
    // correction always has room
    const sampledMs = now - MINUTE_MS * rng.range(5, 2 * 24 * 60)
    const turnaround = type === 'antigen' ? rng.range(1, 30) : rng.range(60, 30 * 60)
    const resultedMs = Math.min(sampledMs + turnaround * MINUTE_MS, now - MINUTE_MS)
    const resultedSafe = Math.max(resultedMs, sampledMs + 1000)

    lab.seq++
    const item: LabResultItem = {
      accession: `${this.runId}-${String(lab.seq).padStart(7, '0')}`,
      loinc: LOINC[type],
      result: SNOMED_NOT_DETECTED,
      status: 'final',
      sampledAt: isoWithOffset(sampledMs, lab.offset(sampledMs)),
      resultedAt: isoWithOffset(resultedSafe, lab.offset(resultedSafe)),
      patient: badNir ? this.newPatient(now, true) : this.patient(now),
    }
    const x = rng.float()
    if (type === 'serology') {
      const positive = x < this.positivity
      item.result = positive ? SNOMED_DETECTED : SNOMED_NOT_DETECTED
      item.value = this.serologyValue(positive)
      item.unit = 'AU/mL'
      item.specimen = SPECIMEN_SERUM
    } else {
      item.result = x < this.positivity ? SNOMED_DETECTED : x < this.positivity + this.inconclusive ? SNOMED_INCONCLUSIVE : SNOMED_NOT_DETECTED
      item.specimen = type === 'naat' && rng.chance(0.15) ? SPECIMEN_SALIVA : SPECIMEN_NASOPHARYNGEAL
      if (type === 'antigen') item.device = rng.pick(ANTIGEN_DEVICES)
    }
    if (rng.chance(0.3)) item.orderId = `ord_${rng.u32().toString(16)}`
    if (rng.chance(0.4)) {
      const sexM = rng.chance(0.5)
      item.prescriber = {
        id: `10${rng.digits(9)}`,
        idType: 'RPPS',
        family: rng.pick(FAMILY_NAMES),
        given: rng.pick(sexM ? GIVEN_M : GIVEN_F),
      }
    }
    return item
  }

  private patient(now: number): LabPatient {
    if (this.patients.length > 0 && this.rng.chance(this.returningShare)) return this.rng.pick(this.patients)
    const p = this.newPatient(now, false)
    if (this.patients.length < 10_000) this.patients.push(p)
    else this.patients[this.rng.int(10_000)] = p
    return p
  }

  private newPatient(now: number, badNir: boolean): LabPatient {
    const rng = this.rng
    const sexDraw = rng.float()
    const sex: 'F' | 'M' | 'U' = badNir ? (sexDraw < 0.52 ? 'F' : 'M') : sexDraw < 0.52 ? 'F' : sexDraw < 0.997 ? 'M' : 'U'
    const givenPool = sex === 'F' ? GIVEN_F : sex === 'M' ? GIVEN_M : rng.chance(0.5) ? GIVEN_F : GIVEN_M
    const nGiven = rng.chance(0.55) ? 1 : rng.chance(0.67) ? 2 : 3
    const given: string[] = []
    for (let i = 0; i < nGiven; i++) given.push(rng.pick(givenPool))

    const [minAge, maxAge] = this.ages.pick(rng)
    const birthMs = now - (minAge * 365.25 + rng.float() * (maxAge - minAge + 1) * 365.25) * DAY_MS
    const birth = new Date(Math.min(birthMs, now - DAY_MS))
    const birthDate = `${birth.getUTCFullYear()}-${pad2(birth.getUTCMonth() + 1)}-${pad2(birth.getUTCDate())}`

    let family: string
    const f = rng.float()
    if (f < 0.08) family = `${rng.pick(FAMILY_NAMES)}-${rng.pick(FAMILY_NAMES)}`
    else if (f < 0.11) family = rng.pick(PARTICLE_NAMES)
    else family = rng.pick(FAMILY_NAMES)

    const patient: LabPatient = { family, given, birthDate, sex }
    const foreign = rng.chance(this.foreignShare)
    const residence = foreign ? null : this.departments.pick(rng)
    if (sex !== 'U' && (badNir || rng.chance(this.insShare))) {
      patient.ins = this.nir(sex, birth, residence?.code ?? this.departments.pick(rng).code, badNir)
    }

    const line = `${rng.range(1, 150)}${rng.chance(0.05) ? ' bis' : ''} ${rng.pick(STREETS)}`
    if (residence) {
      const postcode = this.postcode(residence.code)
      const city = BIG_CITIES[residence.code]
      patient.address = city ? { line, postcode, city, country: 'FR' } : { line, postcode, country: 'FR' }
    } else {
      const abroad = rng.pick(FOREIGN_RESIDENCES)
      patient.address = { line, postcode: abroad.postcode, city: abroad.city, country: abroad.country }
    }
    if (rng.chance(0.85)) patient.phone = `+33${rng.chance(0.7) ? '6' : '7'}${rng.digits(8)}`
    if (rng.chance(0.6)) {
      const local = `${asciiSlug(given[0])}.${asciiSlug(family)}${rng.chance(0.4) ? rng.range(1, 99) : ''}`
      patient.email = `${local}@${rng.pick(MAIL_DOMAINS)}`
    }
    return patient
  }

  /** A 5-digit postcode inside the department (ranges as La Poste assigns them). */
  private postcode(dept: string): string {
    const rng = this.rng
    if (dept === '2A') return String(rng.range(20000, 20199))
    if (dept === '2B') return String(rng.range(20200, 20620))
    if (dept.length === 3) return `${dept}${pad2(rng.int(100))}`
    if (dept === '75') return `750${pad2(rng.range(1, 20))}`
    return `${dept}${String(rng.range(0, 99) * 10).padStart(3, '0')}`
  }

  /** NIR (13 characters) + key; the key is wrong (but well-formed) when `bad`. */
  private nir(sex: 'F' | 'M', birth: Date, residenceDept: string, bad: boolean): string {
    const rng = this.rng
    const yy = pad2(birth.getUTCFullYear() % 100)
    const mm = pad2(birth.getUTCMonth() + 1)
    let place: string
    const where = rng.float()
    if (where < 0.06) {
      place = `99${rng.pick(BIRTH_COUNTRIES)}` // born abroad: 99 + INSEE country code
    } else {
      const dept = where < 0.8 ? residenceDept : this.departments.pick(rng).code
      // overseas: '97' + the department's third digit + 2-digit commune; elsewhere dept + 3-digit commune
      place = dept.length === 3 ? `97${dept[2]}${pad2(rng.range(1, 34))}` : `${dept}${String(rng.range(1, 400)).padStart(3, '0')}`
    }
    const nir13 = `${sex === 'M' ? '1' : '2'}${yy}${mm}${place}${String(rng.range(1, 999)).padStart(3, '0')}`
    const key = Number(nirKey(nir13))
    // a wrong key in 01..97, never the right one
    const shown = bad ? ((key - 1 + rng.range(1, 96)) % 97) + 1 : key
    return nir13 + pad2(shown)
  }
}
