/**
 * A small seeded PRNG for reproducible synthetic load. sfc32 (Chris Doty-Humphrey's "Small Fast
 * Counting" generator, from PractRand) seeded through splitmix32: fast in plain JS (32-bit integer ops
 * only), passes PractRand to multi-terabyte lengths, and, unlike Math.random, replays from a seed.
 * Not cryptographic: never use it for tokens or keys.
 */

export class Prng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number) {
    // splitmix32 spreads a small integer seed over the 128-bit state
    let s = seed >>> 0
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = next()
    this.b = next()
    this.c = next()
    this.d = next()
    // discard the first outputs, as the sfc32 reference does, to mix the state
    for (let i = 0; i < 12; i++) this.u32()
  }

  /** uniform 32-bit unsigned integer */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0
    this.d = (this.d + 1) >>> 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) >>> 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) >>> 0
    return t
  }

  /** uniform in [0, 1) */
  float(): number {
    return this.u32() / 4294967296
  }

  /** uniform integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.float() * n)
  }

  /** uniform integer in [lo, hi] */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1)
  }

  /** true with probability p */
  chance(p: number): boolean {
    return this.float() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]
  }

  /** n decimal digits, zero-padded */
  digits(n: number): string {
    let s = ''
    for (let i = 0; i < n; i++) s += String.fromCharCode(48 + this.int(10))
    return s
  }
}

/**
 * Weighted choice in O(log n) by binary search over cumulative weights (the tables here are small:
 * ~100 departments, a dozen age bands).
 */
export class WeightedPicker<T> {
  private readonly cumulative: Float64Array
  private readonly total: number

  constructor(
    readonly items: readonly T[],
    weights: readonly number[],
  ) {
    if (items.length === 0 || items.length !== weights.length) {
      throw new RangeError('WeightedPicker needs as many weights as items, and at least one')
    }
    this.cumulative = new Float64Array(weights.length)
    let sum = 0
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weight ${i} must be a finite number >= 0`)
      sum += w
      this.cumulative[i] = sum
    }
    if (sum <= 0) throw new RangeError('WeightedPicker needs a positive total weight')
    this.total = sum
  }

  pick(rng: Prng): T {
    const x = rng.float() * this.total
    let lo = 0
    let hi = this.cumulative.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.cumulative[mid] > x) hi = mid
      else lo = mid + 1
    }
    return this.items[lo]
  }
}
