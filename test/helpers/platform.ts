/**
 * Integration-test harness: each test gets its own PostgreSQL database, ClickHouse database, subject root
 * and stream names, all on the real local servers, and removes them when it ends.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { connect, type NatsConnection } from 'nats'
import { createClient, type ClickHouseClient } from '@clickhouse/client'
import { parseConfig, type SidepConfig, type SidepOptions } from '../../pipeline/config.ts'
import { startPlatform, prepareStores, type Platform } from '../../pipeline/platform.ts'
import { createLogger } from '../../pipeline/log.ts'
import { topology } from '../../pipeline/subjects.ts'
import { deleteStreams } from '../../pipeline/nats/streams.ts'
import { addLab } from '../../pipeline/labs/lab-registry.ts'

export const PG_ADMIN = 'postgres://root@127.0.0.1:5432/postgres'
export const CH_URL = 'http://127.0.0.1:8123'

export interface TestEnv {
  config: SidepConfig
  /** env variables that make a child `sidep start` use this test's stores */
  env: Record<string, string>
  pg: pg.Pool
  ch: ClickHouseClient
  nc: NatsConnection
  addLab(labId: string): Promise<string>
  cleanup(): Promise<void>
}

interface Teardown {
  teardown(fn: () => unknown): void
}

export async function createTestEnv(t: Teardown, overrides: SidepOptions = {}): Promise<TestEnv> {
  const id = randomBytes(4).toString('hex')
  const dataDir = mkdtempSync(join(tmpdir(), 'sidep-test-'))
  const options: SidepOptions = {
    pgUrl: `postgres://root@127.0.0.1:5432/sidep_t_${id}`,
    clickhouseUrl: CH_URL,
    clickhouseDatabase: `sidep_t_${id}`,
    subjectRoot: `t${id}`,
    streamPrefix: `T${id}_`,
    dataDir,
    httpPort: 0,
    mllpPort: 0,
    workerThreads: 1,
    logLevel: 'warn',
    ...overrides,
  }
  const config = parseConfig(options)
  await prepareStores(config, createLogger('silent'))
  const env: Record<string, string> = {}
  const names: Record<string, string> = {
    pgUrl: 'SIDEP_PG_URL', clickhouseUrl: 'SIDEP_CH_URL', clickhouseDatabase: 'SIDEP_CH_DATABASE', subjectRoot: 'SIDEP_SUBJECT_ROOT',
    streamPrefix: 'SIDEP_STREAM_PREFIX', dataDir: 'SIDEP_DATA_DIR', workerThreads: 'SIDEP_WORKER_THREADS', logLevel: 'SIDEP_LOG_LEVEL',
    mllpPort: 'SIDEP_MLLP_PORT', ackWaitSeconds: 'SIDEP_ACK_WAIT_SECONDS', maxAttempts: 'SIDEP_MAX_ATTEMPTS', bodyLimit: 'SIDEP_BODY_LIMIT', processorBatch: 'SIDEP_PROCESSOR_BATCH',
  }
  for (const [k, v] of Object.entries(options)) if (names[k] !== undefined && v !== undefined) env[names[k]] = String(v)
  const pool = new pg.Pool({ connectionString: config.pgUrl, max: 4 })
  const ch = createClient({ url: CH_URL })
  const nc = await connect({ servers: config.natsUrl })
  let cleaned = false
  const cleanup = async () => {
    if (cleaned) return
    cleaned = true
    await deleteStreams(await nc.jetstreamManager(), topology(config)).catch(() => {})
    await nc.close().catch(() => {})
    await pool.end().catch(() => {})
    await ch.command({ query: `DROP DATABASE IF EXISTS ${config.clickhouseDatabase}` }).catch(() => {})
    await ch.close().catch(() => {})
    const admin = new pg.Client({ connectionString: PG_ADMIN })
    await admin.connect()
    await admin.query(`DROP DATABASE IF EXISTS "sidep_t_${id}" WITH (FORCE)`).catch(() => {})
    await admin.end()
    rmSync(dataDir, { recursive: true, force: true })
  }
  t.teardown(cleanup)
  return {
    config,
    env,
    pg: pool,
    ch,
    nc,
    async addLab(labId: string) {
      return (await addLab(pool, labId, `Test lab ${labId}`)).token
    },
    cleanup,
  }
}

export async function startTestPlatform(t: Teardown, e: TestEnv): Promise<Platform> {
  const platform = await startPlatform(e.config, createLogger(e.config.logLevel))
  t.teardown(() => platform.stop())
  return platform
}

/** Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined && v !== false) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

export async function postResults(url: string, token: string | null, body: unknown, contentType = 'application/json'): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/v1/results`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : body instanceof Uint8Array ? Buffer.from(body) : JSON.stringify(body),
  })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {}
  return { status: res.status, body: parsed }
}

export async function getJson(url: string, token: string | null): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} })
  return { status: res.status, body: await res.json() }
}

export async function chRows<T = Record<string, unknown>>(ch: ClickHouseClient, query: string): Promise<T[]> {
  const r = await ch.query({ query, format: 'JSONEachRow' })
  return (await r.json()) as T[]
}
