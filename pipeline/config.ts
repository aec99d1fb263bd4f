/**
 * Options in, config out: raw options (from the environment or from a test) are parsed once into a frozen,
 * typed config. Unknown keys are rejected and every message names the variable. Only this module reads
 * `process.env`.
 */
import { resolve } from 'node:path'
import { availableParallelism } from 'node:os'
import { ConfigError } from './errors.ts'

export const ROLES = ['gateway', 'processor', 'clickhouse-sink', 'certifier'] as const
export type Role = (typeof ROLES)[number]

export interface SidepOptions {
  httpHost?: string
  httpPort?: number | string
  natsUrl?: string
  pgUrl?: string
  clickhouseUrl?: string
  clickhouseDatabase?: string
  /** First token of every subject ('sidep'); tests use their own root so their streams never overlap. */
  subjectRoot?: string
  /** Prefix of stream and durable consumer names ('' → INGEST, RESULTS...). */
  streamPrefix?: string
  dataDir?: string
  roles?: string | Role[]
  workerThreads?: number | string
  /** INGEST messages pulled per processor batch. */
  processorBatch?: number | string
  /** Largest payload of INGEST messages per processor batch, bytes (bounds a batch's work and memory). */
  processorBatchBytes?: number | string
  /** FEED messages pulled per ClickHouse insert. */
  clickhouseBatch?: number | string
  /** Items per INGEST message when the gateway splits a large submission (NATS max_payload is 1 MB). */
  ingestChunkItems?: number | string
  /** Attempts before a message that fails on its data goes to the dead-letter subject. */
  maxAttempts?: number | string
  /** Seconds JetStream waits for an ack before redelivering (after a crash, say). */
  ackWaitSeconds?: number | string
  logLevel?: string
  /** Largest HTTP body accepted, bytes. */
  bodyLimit?: number | string
  /** Largest number of items in one JSON submission (issue #2: 5,000). */
  maxItems?: number | string
  /** Largest number of rows in one streamed CSV upload. */
  csvMaxRows?: number | string
  /** MLLP listener port (HL7 v2 over TCP); 0 picks a free port. */
  mllpPort?: number | string
  /** PEM files for MLLP over TLS; both or neither. */
  mllpTlsKeyFile?: string
  mllpTlsCertFile?: string
  /** RESULTS messages pulled per certifier batch (issue 5). */
  certifierBatch?: number | string
  /** Production DCC signing: PEM private key of the Document Signer (with dccCertFile). Unset → dev keys in <dataDir>/dcc/. */
  dccKeyFile?: string
  /** Production DCC signing: PEM Document Signer Certificate issued by the national CSCA (with dccKeyFile). */
  dccCertFile?: string
  /** Further PEM files (comma-separated) whose certificates are published in the trust list (rotation). */
  dccTrustedCerts?: string
  /** DCC `is`: certificate issuer. */
  dccIssuer?: string
  /** DCC `tc` when the lab has no registered name. */
  dccTestingCentre?: string
  /** Validity of a test certificate from the sample time, hours (capped by the signing certificate). */
  dccValidityHours?: number | string
  /** DCC `co` and CWT `iss`: ISO 3166-1 alpha-2 member state. */
  dccCountry?: string
}

export interface SidepConfig {
  readonly httpHost: string
  readonly httpPort: number
  readonly natsUrl: string
  readonly pgUrl: string
  readonly clickhouseUrl: string
  readonly clickhouseDatabase: string
  readonly subjectRoot: string
  readonly streamPrefix: string
  readonly dataDir: string
  readonly roles: readonly Role[]
  readonly workerThreads: number
  readonly processorBatch: number
  readonly processorBatchBytes: number
  readonly clickhouseBatch: number
  readonly ingestChunkItems: number
  readonly maxAttempts: number
  readonly ackWaitSeconds: number
  readonly logLevel: string
  readonly bodyLimit: number
  readonly maxItems: number
  readonly csvMaxRows: number
  readonly mllpPort: number
  readonly mllpTls: { readonly keyFile: string; readonly certFile: string } | null
  readonly certifierBatch: number
  readonly dccKeyFile: string | null
  readonly dccCertFile: string | null
  readonly dccTrustedCerts: readonly string[]
  readonly dccIssuer: string
  readonly dccTestingCentre: string
  readonly dccValidityHours: number
  readonly dccCountry: string
}

const ENV_NAMES: Record<keyof SidepOptions, string> = {
  httpHost: 'SIDEP_HTTP_HOST',
  httpPort: 'SIDEP_HTTP_PORT',
  natsUrl: 'SIDEP_NATS_URL',
  pgUrl: 'SIDEP_PG_URL',
  clickhouseUrl: 'SIDEP_CH_URL',
  clickhouseDatabase: 'SIDEP_CH_DATABASE',
  subjectRoot: 'SIDEP_SUBJECT_ROOT',
  streamPrefix: 'SIDEP_STREAM_PREFIX',
  dataDir: 'SIDEP_DATA_DIR',
  roles: 'SIDEP_ROLES',
  workerThreads: 'SIDEP_WORKER_THREADS',
  processorBatch: 'SIDEP_PROCESSOR_BATCH',
  processorBatchBytes: 'SIDEP_PROCESSOR_BATCH_BYTES',
  clickhouseBatch: 'SIDEP_CH_BATCH',
  ingestChunkItems: 'SIDEP_INGEST_CHUNK_ITEMS',
  maxAttempts: 'SIDEP_MAX_ATTEMPTS',
  ackWaitSeconds: 'SIDEP_ACK_WAIT_SECONDS',
  logLevel: 'SIDEP_LOG_LEVEL',
  bodyLimit: 'SIDEP_BODY_LIMIT',
  maxItems: 'SIDEP_MAX_ITEMS',
  csvMaxRows: 'SIDEP_CSV_MAX_ROWS',
  mllpPort: 'SIDEP_MLLP_PORT',
  mllpTlsKeyFile: 'SIDEP_MLLP_TLS_KEY_FILE',
  mllpTlsCertFile: 'SIDEP_MLLP_TLS_CERT_FILE',
  certifierBatch: 'SIDEP_CERTIFIER_BATCH',
  dccKeyFile: 'SIDEP_DCC_KEY_FILE',
  dccCertFile: 'SIDEP_DCC_CERT_FILE',
  dccTrustedCerts: 'SIDEP_DCC_TRUSTED_CERTS',
  dccIssuer: 'SIDEP_DCC_ISSUER',
  dccTestingCentre: 'SIDEP_DCC_TESTING_CENTRE',
  dccValidityHours: 'SIDEP_DCC_VALIDITY_HOURS',
  dccCountry: 'SIDEP_DCC_COUNTRY',
}

function integer(name: string, raw: unknown, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback
  const n = typeof raw === 'number' ? raw : Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}`)
  }
  return n
}

function url(name: string, raw: unknown, fallback: string, protocols: string[]): string {
  const value = raw === undefined || raw === '' ? fallback : String(raw)
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    throw new ConfigError(`${name} must be a ${protocols.join(' or ')} URL`)
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(`${name} must be a ${protocols.join(' or ')} URL`)
  return value
}

function token(name: string, raw: unknown, fallback: string, pattern: RegExp): string {
  const value = raw === undefined ? fallback : String(raw)
  if (!pattern.test(value)) throw new ConfigError(`${name} must match ${pattern}`)
  return value
}

function tlsFiles(key: unknown, cert: unknown): { keyFile: string; certFile: string } | null {
  const k = key === undefined || key === '' ? '' : String(key)
  const c = cert === undefined || cert === '' ? '' : String(cert)
  if (!k && !c) return null
  if (!k || !c) throw new ConfigError('SIDEP_MLLP_TLS_KEY_FILE and SIDEP_MLLP_TLS_CERT_FILE go together')
  return Object.freeze({ keyFile: resolve(k), certFile: resolve(c) })
}

export function parseConfig(options: SidepOptions): SidepConfig {
  for (const key of Object.keys(options)) {
    if (!(key in ENV_NAMES)) throw new ConfigError(`unknown option '${key}'`)
  }
  const n = ENV_NAMES
  const roles =
    options.roles === undefined || options.roles === '' || options.roles === 'all'
      ? [...ROLES]
      : (Array.isArray(options.roles) ? options.roles : String(options.roles).split(',')).map((r) => r.trim())
  for (const role of roles) {
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new ConfigError(`${n.roles} must be 'all' or a comma-separated list of ${ROLES.join(', ')} (got '${role}')`)
    }
  }
  const logLevel = token(n.logLevel, options.logLevel, 'info', /^(fatal|error|warn|info|debug|trace|silent)$/)
  const dccKeyFile = options.dccKeyFile ? resolve(String(options.dccKeyFile)) : null
  const dccCertFile = options.dccCertFile ? resolve(String(options.dccCertFile)) : null
  if ((dccKeyFile === null) !== (dccCertFile === null)) {
    throw new ConfigError(`${n.dccKeyFile} and ${n.dccCertFile} go together: give both (production signer) or neither (development keys)`)
  }
  // eu-dcc-schema: `is` and `tc` are at most 80 characters
  const text80 = (name: string, raw: unknown, fallback: string): string => {
    const value = raw === undefined || raw === '' ? fallback : String(raw).trim()
    if (value.length > 80) throw new ConfigError(`${name} must be at most 80 characters (eu-dcc-schema)`)
    return value
  }
  return Object.freeze({
    httpHost: token(n.httpHost, options.httpHost, '127.0.0.1', /^[A-Za-z0-9.:[\]-]+$/),
    httpPort: integer(n.httpPort, options.httpPort, 8080, 0, 65535),
    natsUrl: url(n.natsUrl, options.natsUrl, 'nats://127.0.0.1:4222', ['nats:', 'tls:']),
    pgUrl: url(n.pgUrl, options.pgUrl, 'postgres://root@127.0.0.1:5432/sidep', ['postgres:', 'postgresql:']),
    clickhouseUrl: url(n.clickhouseUrl, options.clickhouseUrl, 'http://127.0.0.1:8123', ['http:', 'https:']),
    clickhouseDatabase: token(n.clickhouseDatabase, options.clickhouseDatabase, 'sidep', /^[A-Za-z_][A-Za-z0-9_]{0,62}$/),
    subjectRoot: token(n.subjectRoot, options.subjectRoot, 'sidep', /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/),
    streamPrefix: token(n.streamPrefix, options.streamPrefix, '', /^[A-Za-z0-9_]{0,32}$/),
    dataDir: resolve(options.dataDir === undefined || options.dataDir === '' ? '.data' : String(options.dataDir)),
    roles: Object.freeze(roles as Role[]),
    workerThreads: integer(n.workerThreads, options.workerThreads, Math.max(1, availableParallelism()), 1, 64),
    processorBatch: integer(n.processorBatch, options.processorBatch, 64, 1, 1000),
    processorBatchBytes: integer(n.processorBatchBytes, options.processorBatchBytes, 1024 * 1024, 1024, 256 * 1024 * 1024),
    clickhouseBatch: integer(n.clickhouseBatch, options.clickhouseBatch, 200, 1, 5000),
    ingestChunkItems: integer(n.ingestChunkItems, options.ingestChunkItems, 500, 1, 5000),
    maxAttempts: integer(n.maxAttempts, options.maxAttempts, 5, 1, 100),
    ackWaitSeconds: integer(n.ackWaitSeconds, options.ackWaitSeconds, 30, 1, 3600),
    logLevel,
    bodyLimit: integer(n.bodyLimit, options.bodyLimit, 16 * 1024 * 1024, 1024, 512 * 1024 * 1024),
    maxItems: integer(n.maxItems, options.maxItems, 5000, 1, 100000),
    csvMaxRows: integer(n.csvMaxRows, options.csvMaxRows, 1_000_000, 1, 100_000_000),
    mllpPort: integer(n.mllpPort, options.mllpPort, 2575, 0, 65535),
    mllpTls: tlsFiles(options.mllpTlsKeyFile, options.mllpTlsCertFile),
    certifierBatch: integer(n.certifierBatch, options.certifierBatch, 200, 1, 1000),
    dccKeyFile,
    dccCertFile,
    dccTrustedCerts: Object.freeze(
      options.dccTrustedCerts ? String(options.dccTrustedCerts).split(',').map((f) => f.trim()).filter((f) => f !== '').map((f) => resolve(f)) : [],
    ),
    dccIssuer: text80(n.dccIssuer, options.dccIssuer, 'Ministère des Solidarités et de la Santé'),
    dccTestingCentre: text80(n.dccTestingCentre, options.dccTestingCentre, ''),
    dccValidityHours: integer(n.dccValidityHours, options.dccValidityHours, 72, 1, 24 * 366),
    dccCountry: token(n.dccCountry, options.dccCountry, 'FR', /^[A-Z]{2}$/),
  })
}

/** Reads the SIDEP_* variables; any other SIDEP_ variable is a typo and is rejected. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): SidepOptions {
  const byEnv = new Map(Object.entries(ENV_NAMES).map(([k, v]) => [v, k as keyof SidepOptions]))
  const options: SidepOptions = {}
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('SIDEP_') || value === undefined) continue
    const key = byEnv.get(name)
    if (!key) throw new ConfigError(`unknown variable ${name} (known: ${[...byEnv.keys()].join(', ')})`)
    ;(options as Record<string, string>)[key] = value
  }
  return options
}
