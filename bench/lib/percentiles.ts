/**
 * Latency percentiles.
 *
 * Definition (both modes): nearest rank. The p-th percentile of n samples is the smallest sample x such
 * that at least p% of the samples are <= x, i.e. the sample of rank ceil(p/100 × n) in ascending order
 * (rank 1 for p = 0). No interpolation: every reported value is one that was observed (or, in
 * histogram mode, within the stated relative error of one).
 *
 * Modes:
 * - exact: samples are kept in a growable Float64Array (8 bytes each) and sorted when asked, up to
 *   `exactLimit` samples (default 200,000 = 1.6 MB).
 * - histogram: beyond that, every sample moves into a log-bucketed histogram of the DDSketch kind
 *   (Masson, Rim & Lee, "DDSketch: a fast and fully-mergeable quantile sketch with relative-error
 *   guarantees", VLDB 2019): bucket i holds values in (γ^(i-1), γ^i] with γ = (1+α)/(1−α), and reports
 *   2γ^i/(γ+1), so any reported percentile is within a relative error α of the true nearest-rank sample.
 *   α = 0.01 (1 %) by default. Values below `minValue` (default 0.001 ms = 1 µs) share one bucket
 *   reported as 0; the bucket array is bounded (about 1,400 counters for 1 µs to 10^9 ms at α = 1 %). min, max,
 *   count and mean stay exact in both modes.
 */

export interface PercentileSummary {
  count: number
  min: number
  mean: number
  p50: number
  p95: number
  p99: number
  max: number
  /** 'exact' or 'histogram' (then values are within ±relativeError of the true ones) */
  mode: 'exact' | 'histogram'
  relativeError: number
}

/** 1-based nearest rank; the product is rounded to 1e-9 first so 99.9 % of 1000 is rank 999, not 1000 (binary floating point gives 999.0000000000001). */
export function nearestRank(p: number, n: number): number {
  return Math.max(1, Math.ceil(Math.round((p / 100) * n * 1e9) / 1e9))
}

/** Nearest-rank percentile of an ascending-sorted array (p in [0, 100]). */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length
  if (n === 0) return Number.NaN
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`)
  return sorted[nearestRank(p, n) - 1]
}

/** p50/p95/p99 and friends of a plain array of samples (exact). */
export function summarize(samples: readonly number[]): PercentileSummary {
  const r = new LatencyRecorder({ exactLimit: Math.max(1, samples.length) })
  for (const s of samples) r.record(s)
  return r.summary()
}

export interface LatencyRecorderOptions {
  /** keep up to this many exact samples before switching to the histogram (default 200,000) */
  exactLimit?: number
  /** relative error α of the histogram (default 0.01) */
  relativeError?: number
  /** smallest distinguishable value in histogram mode (default 0.001) */
  minValue?: number
  /** largest value expected; larger ones land in the last bucket (max stays exact) (default 1e9) */
  maxValue?: number
}

export class LatencyRecorder {
  private readonly exactLimit: number
  private readonly alpha: number
  private readonly gamma: number
  private readonly logGamma: number
  private readonly minValue: number
  private readonly offset: number
  private readonly nBuckets: number
  private exact: Float64Array | null
  private histogram: Float64Array | null = null
  private zeroCount = 0
  private n = 0
  private sum = 0
  private lo = Number.POSITIVE_INFINITY
  private hi = Number.NEGATIVE_INFINITY

  constructor(options: LatencyRecorderOptions = {}) {
    this.exactLimit = options.exactLimit ?? 200_000
    this.alpha = options.relativeError ?? 0.01
    if (!(this.alpha > 0 && this.alpha < 1)) throw new RangeError('relativeError must be in (0, 1)')
    this.gamma = (1 + this.alpha) / (1 - this.alpha)
    this.logGamma = Math.log(this.gamma)
    this.minValue = options.minValue ?? 0.001
    const maxValue = options.maxValue ?? 1e9
    this.offset = Math.ceil(Math.log(this.minValue) / this.logGamma)
    this.nBuckets = Math.ceil(Math.log(maxValue) / this.logGamma) - this.offset + 1
    this.exact = new Float64Array(Math.min(1024, this.exactLimit))
  }

  get count(): number {
    return this.n
  }

  get mode(): 'exact' | 'histogram' {
    return this.histogram ? 'histogram' : 'exact'
  }

  record(value: number): void {
    if (!Number.isFinite(value)) return
    this.n++
    this.sum += value
    if (value < this.lo) this.lo = value
    if (value > this.hi) this.hi = value
    if (this.exact) {
      const i = this.n - 1
      if (i < this.exactLimit) {
        if (i >= this.exact.length) {
          const grown = new Float64Array(Math.min(this.exact.length * 2, this.exactLimit))
          grown.set(this.exact)
          this.exact = grown
        }
        this.exact[i] = value
        return
      }
      this.toHistogram(i)
    }
    this.bucket(value)
  }

  private toHistogram(kept: number): void {
    this.histogram = new Float64Array(this.nBuckets)
    const exact = this.exact!
    this.exact = null
    for (let i = 0; i < kept; i++) this.bucket(exact[i])
  }

  private bucket(value: number): void {
    if (value < this.minValue) {
      this.zeroCount++
      return
    }
    let i = Math.ceil(Math.log(value) / this.logGamma) - this.offset
    if (i >= this.nBuckets) i = this.nBuckets - 1
    else if (i < 0) i = 0
    this.histogram![i]++
  }

  /** Nearest-rank percentile, p in [0, 100]. */
  percentile(p: number): number {
    if (this.n === 0) return Number.NaN
    if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`)
    if (this.exact) {
      const sorted = this.exact.subarray(0, this.n).slice().sort()
      return percentileOfSorted(sorted, p)
    }
    return this.fromHistogram(p)
  }

  private fromHistogram(p: number): number {
    const rank = nearestRank(p, this.n)
    if (rank === this.n) return this.hi
    if (rank === 1) return this.lo
    let seen = this.zeroCount
    if (seen >= rank) return 0
    const h = this.histogram!
    for (let i = 0; i < h.length; i++) {
      seen += h[i]
      if (seen >= rank) {
        const v = (2 * Math.pow(this.gamma, i + this.offset)) / (this.gamma + 1)
        // never report outside the observed range
        return Math.min(this.hi, Math.max(this.lo, v))
      }
    }
    return this.hi
  }

  summary(): PercentileSummary {
    if (this.n === 0) {
      return { count: 0, min: Number.NaN, mean: Number.NaN, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN, mode: this.mode, relativeError: 0 }
    }
    let p50: number, p95: number, p99: number
    if (this.exact) {
      const sorted = this.exact.subarray(0, this.n).slice().sort()
      p50 = percentileOfSorted(sorted, 50)
      p95 = percentileOfSorted(sorted, 95)
      p99 = percentileOfSorted(sorted, 99)
    } else {
      p50 = this.fromHistogram(50)
      p95 = this.fromHistogram(95)
      p99 = this.fromHistogram(99)
    }
    return {
      count: this.n,
      min: this.lo,
      mean: this.sum / this.n,
      p50,
      p95,
      p99,
      max: this.hi,
      mode: this.mode,
      relativeError: this.exact ? 0 : this.alpha,
    }
  }
}
