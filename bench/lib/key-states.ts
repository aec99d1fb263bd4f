/**
 * The version and state the platform should hold per result key (lab, accession, LOINC), for every key of
 * the run: 1.4 M keys in a 5-minute run at 5,000/s, so the entry must be small.
 *
 * A Map keyed by the joined key string cost ~150 bytes per key (the string, its cons-string pieces, the
 * entry), ~200 MB for such a run. Here the generator's accessions (`<runId>-<sequence>`, bench/lib/
 * synthetic-labs.ts) are split into a group (lab, accession prefix, LOINC: a few hundred per run, interned)
 * and the sequence number (7 digits, so below 10^7: a Smi): per key one entry of a Map<number, number> with both a V8
 * Smi (~30 bytes). Any other accession falls back to a string-keyed Map, so the class stays correct for
 * every input and is only compact for the generator's.
 *
 * Values are what the caller stores (the ledger packs version × 4 + state code: a Smi too).
 */
export class KeyStates {
  private readonly groups = new Map<string, Map<number, number>>()
  private readonly other = new Map<string, number>()
  private n = 0
  /** the last group looked up (items of a submission share lab, prefix and mostly LOINC) */
  private lastLab = ''
  private lastPrefix = ''
  private lastLoinc = ''
  private lastGroup: Map<number, number> | null = null

  get size(): number {
    return this.n
  }

  /** the group map and the sequence of a generator-style accession, or null (then the string map) */
  private locate(labId: string, accession: string, loinc: string, create: boolean): { g: Map<number, number> | undefined; seq: number } | null {
    // exactly 7 digits after the last '-' (the generator's padStart(7, '0')): one sequence per digit string
    const dash = accession.length - 8
    if (dash <= 0 || accession.charCodeAt(dash) !== 45) return null
    let seq = 0
    for (let i = dash + 1; i < accession.length; i++) {
      const c = accession.charCodeAt(i) - 48
      if (c < 0 || c > 9) return null
      seq = seq * 10 + c
    }
    const prefix = accession.slice(0, dash)
    if (this.lastGroup && labId === this.lastLab && loinc === this.lastLoinc && prefix === this.lastPrefix) return { g: this.lastGroup, seq }
    const name = `${labId}\u0000${prefix}\u0000${loinc}`
    let g = this.groups.get(name)
    if (!g && create) this.groups.set(name, (g = new Map()))
    if (g) {
      this.lastLab = labId
      this.lastPrefix = prefix
      this.lastLoinc = loinc
      this.lastGroup = g
    }
    return { g, seq }
  }

  get(labId: string, accession: string, loinc: string): number | undefined {
    const at = this.locate(labId, accession, loinc, false)
    if (at === null) return this.other.get(`${labId}\u0000${accession}\u0000${loinc}`)
    return at.g?.get(at.seq)
  }

  set(labId: string, accession: string, loinc: string, value: number): void {
    const at = this.locate(labId, accession, loinc, true)
    if (at === null) {
      const k = `${labId}\u0000${accession}\u0000${loinc}`
      if (!this.other.has(k)) this.n++
      this.other.set(k, value)
      return
    }
    const g = at.g!
    if (!g.has(at.seq)) this.n++
    g.set(at.seq, value)
  }

  delete(labId: string, accession: string, loinc: string): boolean {
    const at = this.locate(labId, accession, loinc, false)
    const gone = at === null ? this.other.delete(`${labId}\u0000${accession}\u0000${loinc}`) : (at.g?.delete(at.seq) ?? false)
    if (gone) this.n--
    return gone
  }
}
