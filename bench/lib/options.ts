/**
 * Command-line options of the bench, parsed once into a frozen, typed config (DESIGN.md, Conventions:
 * "Options in, config out"). Unknown flags and bad values are rejected with a message naming the flag.
 * `--flag value` and `--flag=value` are both accepted; boolean flags take no value (`--no-ceiling`).
 * This module does not read process.env.
 */
import { BenchOptionsError } from './errors.ts'

export type Transport = 'http' | 'nats'

export interface TestMixConfig {
  readonly naat: number
  readonly antigen: number
  readonly serology: number
}

export interface BenchConfig {
  /** target results per second (open loop) */
  readonly rate: number
  readonly durationMs: number
  /** number of synthetic labs */
  readonly labs: number
  /** results per submission (one HTTP request or one NATS message) */
  readonly batch: number
  readonly transport: Transport
  readonly mix: TestMixConfig
  readonly positivity: number
  readonly seed: number
  /** report name, part of the report file names */
  readonly name: string
  /** gateway base URL for --transport http */
  readonly gatewayUrl: string
  /** NATS servers, comma-separated */
  readonly natsServers: string
  /** directory for reports */
  readonly outDir: string
  /** measure the JetStream ceiling in the same run */
  readonly ceiling: boolean
  readonly help: boolean
}

export const BENCH_DEFAULTS: BenchConfig = Object.freeze({
  rate: 5000,
  durationMs: 30_000,
  labs: 20,
  batch: 100,
  transport: 'http',
  mix: Object.freeze({ naat: 0.6, antigen: 0.35, serology: 0.05 }),
  positivity: 0.1,
  seed: 1,
  name: 'bench',
  gatewayUrl: 'http://127.0.0.1:8080',
  natsServers: '127.0.0.1:4222',
  outDir: 'bench/results',
  ceiling: true,
  help: false,
})

export const BENCH_USAGE = `Usage: npm run bench -- [options]
  --rate <n>            target results/s, open loop (default ${BENCH_DEFAULTS.rate})
  --duration <t>        run time: seconds, or 90s, 5m (default ${BENCH_DEFAULTS.durationMs / 1000}s)
  --labs <n>            synthetic labs (default ${BENCH_DEFAULTS.labs})
  --batch <n>           results per submission, 1..5000 (default ${BENCH_DEFAULTS.batch})
  --transport http|nats send through the gateway or publish on sidep.ingest.<labId> (default ${BENCH_DEFAULTS.transport})
  --mix <spec>          test types, e.g. naat=0.6,antigen=0.35,serology=0.05 (must sum to 1)
  --positivity <p>      share of positive results, 0..1 (default ${BENCH_DEFAULTS.positivity})
  --seed <n>            generator seed (default ${BENCH_DEFAULTS.seed})
  --name <name>         report name, letters digits - _ (default ${BENCH_DEFAULTS.name})
  --gateway <url>       gateway base URL (default ${BENCH_DEFAULTS.gatewayUrl})
  --nats <servers>      NATS servers (default ${BENCH_DEFAULTS.natsServers})
  --out <dir>           report directory (default ${BENCH_DEFAULTS.outDir})
  --no-ceiling          skip the JetStream ceiling measurement
  --help                this text`

// ---------------------------------------------------------------------------------------------------
// Generic flag parsing (also used by bench/ceiling.ts)

export type FlagSpec<T> =
  | { kind: 'value'; key: keyof T; parse: (raw: string, flag: string) => unknown }
  | { kind: 'boolean'; key: keyof T; value: boolean }

/**
 * Parses `argv` against `spec` (flag → how to parse it) into a frozen copy of `defaults` with the given
 * flags applied. Positional arguments are rejected too: the bench takes none.
 */
export function parseFlags<T extends object>(argv: readonly string[], spec: Readonly<Record<string, FlagSpec<T>>>, defaults: T): Readonly<T> {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) }
  const seen = new Set<string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) {
      throw new BenchOptionsError('BENCH_UNKNOWN_FLAG', arg, `unexpected argument ${JSON.stringify(arg)}: options are --flags (see --help)`)
    }
    const eq = arg.indexOf('=')
    const flag = eq === -1 ? arg : arg.slice(0, eq)
    const s = Object.hasOwn(spec, flag) ? spec[flag] : undefined
    if (!s) throw new BenchOptionsError('BENCH_UNKNOWN_FLAG', flag, `unknown option ${flag} (see --help)`)
    if (seen.has(flag)) throw new BenchOptionsError('BENCH_BAD_VALUE', flag, `${flag} is given twice`)
    seen.add(flag)
    if (s.kind === 'boolean') {
      if (eq !== -1) throw new BenchOptionsError('BENCH_BAD_VALUE', flag, `${flag} takes no value`)
      out[s.key as string] = s.value
      continue
    }
    let raw: string
    if (eq !== -1) raw = arg.slice(eq + 1)
    else {
      const nextArg = argv[i + 1]
      if (nextArg === undefined || (nextArg.startsWith('--') && nextArg.length > 2)) {
        throw new BenchOptionsError('BENCH_MISSING_VALUE', flag, `${flag} needs a value`)
      }
      raw = nextArg
      i++
    }
    out[s.key as string] = s.parse(raw, flag)
  }
  return Object.freeze(out) as Readonly<T>
}

const bad = (flag: string, message: string): BenchOptionsError => new BenchOptionsError('BENCH_BAD_VALUE', flag, `${flag} ${message}`)

export function parseNumber(raw: string, flag: string, min: number, max: number): number {
  const v = raw.trim() === '' ? Number.NaN : Number(raw)
  if (!Number.isFinite(v) || v < min || v > max) throw bad(flag, `must be a number between ${min} and ${max}, got ${JSON.stringify(raw)}`)
  return v
}

export function parseInteger(raw: string, flag: string, min: number, max: number): number {
  const v = parseNumber(raw, flag, min, max)
  if (!Number.isInteger(v)) throw bad(flag, `must be an integer, got ${JSON.stringify(raw)}`)
  return v
}

/** '30', '30s', '1.5m', '500ms' → milliseconds (> 0, at most a day) */
export function parseDurationMs(raw: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim())
  if (!m) throw bad(flag, `must be a duration like 30, 30s, 5m or 500ms, got ${JSON.stringify(raw)}`)
  const unit = m[2] ?? 's'
  const ms = Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000)
  if (!(ms > 0) || ms > 86_400_000) throw bad(flag, `must be more than 0 and at most 24h, got ${JSON.stringify(raw)}`)
  return Math.round(ms)
}

/** 'naat=0.6,antigen=0.35,serology=0.05': every type named at most once, shares in [0,1] summing to 1 (±0.001); unnamed types get 0. */
export function parseMix(raw: string, flag: string): TestMixConfig {
  const mix = { naat: 0, antigen: 0, serology: 0 }
  const given = new Set<string>()
  for (const part of raw.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*([^,]+?)\s*$/.exec(part)
    if (!m) throw bad(flag, `must look like naat=0.6,antigen=0.35,serology=0.05, got ${JSON.stringify(raw)}`)
    const [, type, value] = m
    if (!(type in mix)) throw bad(flag, `has an unknown test type ${JSON.stringify(type)} (naat, antigen, serology)`)
    if (given.has(type)) throw bad(flag, `names ${type} twice`)
    given.add(type)
    mix[type as keyof TestMixConfig] = parseNumber(value, `${flag} ${type}`, 0, 1)
  }
  const sum = mix.naat + mix.antigen + mix.serology
  if (Math.abs(sum - 1) > 0.001) throw bad(flag, `shares must sum to 1, got ${Number(sum.toFixed(6))}`)
  return Object.freeze(mix)
}

function parseUrl(raw: string, flag: string): string {
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    throw bad(flag, `must be an http:// or https:// URL, got ${JSON.stringify(raw)}`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad(flag, `must be an http:// or https:// URL, got ${JSON.stringify(raw)}`)
  return raw.replace(/\/+$/, '')
}

function parseName(raw: string, flag: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(raw)) throw bad(flag, `must be 1-64 letters, digits, - or _, got ${JSON.stringify(raw)}`)
  return raw
}

function nonEmpty(raw: string, flag: string): string {
  if (raw.trim() === '') throw bad(flag, 'must not be empty')
  return raw.trim()
}

const BENCH_FLAGS: Readonly<Record<string, FlagSpec<BenchConfig>>> = {
  '--rate': { kind: 'value', key: 'rate', parse: (r, f) => parseNumber(r, f, 0.001, 1_000_000) },
  '--duration': { kind: 'value', key: 'durationMs', parse: parseDurationMs },
  '--labs': { kind: 'value', key: 'labs', parse: (r, f) => parseInteger(r, f, 1, 100_000) },
  '--batch': { kind: 'value', key: 'batch', parse: (r, f) => parseInteger(r, f, 1, 5000) },
  '--transport': {
    kind: 'value',
    key: 'transport',
    parse: (r, f) => {
      if (r !== 'http' && r !== 'nats') throw bad(f, `must be http or nats, got ${JSON.stringify(r)}`)
      return r
    },
  },
  '--mix': { kind: 'value', key: 'mix', parse: parseMix },
  '--positivity': { kind: 'value', key: 'positivity', parse: (r, f) => parseNumber(r, f, 0, 1) },
  '--seed': { kind: 'value', key: 'seed', parse: (r, f) => parseInteger(r, f, 0, 2 ** 32 - 1) },
  '--name': { kind: 'value', key: 'name', parse: parseName },
  '--gateway': { kind: 'value', key: 'gatewayUrl', parse: parseUrl },
  '--nats': { kind: 'value', key: 'natsServers', parse: nonEmpty },
  '--out': { kind: 'value', key: 'outDir', parse: nonEmpty },
  '--ceiling': { kind: 'boolean', key: 'ceiling', value: true },
  '--no-ceiling': { kind: 'boolean', key: 'ceiling', value: false },
  '--help': { kind: 'boolean', key: 'help', value: true },
}

/** `process.argv.slice(2)` in, frozen BenchConfig out; throws BenchOptionsError naming the flag. */
export function parseBenchOptions(argv: readonly string[]): BenchConfig {
  return parseFlags(argv, BENCH_FLAGS, BENCH_DEFAULTS)
}
