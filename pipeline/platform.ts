/**
 * Starts the roles the config names (all of them by default) in this process, after making sure the
 * stores and streams exist: migrations, ClickHouse DDL, JetStream topology, keys. stop() drains in order:
 * no new HTTP requests, consumers stop taking messages, in-flight batches finish, connections close.
 */
import { connect, type NatsConnection } from 'nats'
import type { FastifyInstance } from 'fastify'
import type { SidepConfig } from './config.ts'
import { topology, type Topology } from './subjects.ts'
import { createLogger, type Logger } from './log.ts'
import { Telemetry } from './telemetry.ts'
import { createPgPool, type PgPool } from './postgres/pool.ts'
import { migratePostgres } from './postgres/migrate.ts'
import { migrateClickHouse } from './clickhouse/migrate.ts'
import { createClickHouse, type ClickHouseClient } from './clickhouse/client.ts'
import { ensureStreams } from './nats/streams.ts'
import { loadOrCreateKeys, workerKeys } from './keys/key-store.ts'
import { WorkerPool } from './workers-pool.ts'
import { Processor } from './processor/processor.ts'
import { ClickHouseSink } from './sinks/clickhouse-sink.ts'
import { buildServer } from './gateway/server.ts'
import { MllpListener } from './mllp/listener.ts'
import { Certifier } from './certifier/certifier.ts'
import { loadDccKeys } from './keys/dcc-keys.ts'
import { sodiumReady } from '../workers/sodium.ts'

export interface Platform {
  readonly config: SidepConfig
  readonly topology: Topology
  readonly telemetry: Telemetry
  /** http://host:port the server listens on */
  readonly url: string
  /** the MLLP (HL7 v2 over TCP) port, or null when the gateway role is off */
  readonly mllpPort: number | null
  stop(): Promise<void>
}

export async function prepareStores(config: SidepConfig, log: Logger): Promise<void> {
  const pg = await migratePostgres(config.pgUrl)
  const ch = await migrateClickHouse(config.clickhouseUrl, config.clickhouseDatabase)
  const nc = await connect({ servers: config.natsUrl, name: 'sidep-setup' })
  try {
    await ensureStreams(await nc.jetstreamManager(), topology(config), config.ackWaitSeconds)
  } finally {
    await nc.close()
  }
  log.info({ event: 'stores_ready', postgresMigrations: pg, clickhouseDdl: ch })
}

export async function startPlatform(config: SidepConfig, log: Logger = createLogger(config.logLevel)): Promise<Platform> {
  const t = topology(config)
  const telemetry = new Telemetry(log)
  await sodiumReady()
  await prepareStores(config, log)
  const roles = new Set(config.roles)
  const needsWorkers = roles.has('gateway') || roles.has('processor')
  const keys = needsWorkers ? await loadOrCreateKeys(config.dataDir) : null
  const nc: NatsConnection = await connect({ servers: config.natsUrl, name: `sidep-${config.roles.join('+')}`, maxReconnectAttempts: -1 })
  const js = nc.jetstream()
  const pg: PgPool | null = needsWorkers || roles.has('certifier') ? createPgPool(config.pgUrl) : null
  // DCC signer: development keys are created on the first start when no production files are configured;
  // the gateway only needs the published certificates (trust list, verification), not the private key
  const dccKeys = roles.has('gateway') || roles.has('certifier') ? await loadDccKeys(config, { create: true, privateKey: roles.has('certifier') }) : null
  const clickhouse: ClickHouseClient | null = roles.has('clickhouse-sink') ? createClickHouse(config.clickhouseUrl) : null
  const workers = keys ? new WorkerPool(config.workerThreads, workerKeys(keys)) : null
  if (workers) telemetry.watchThreads(() => workers.memoryStats())

  const processor = roles.has('processor') && pg && workers ? new Processor({ config, topology: t, nc, js, pg, workers, telemetry }) : null
  const sink = clickhouse ? new ClickHouseSink({ config, topology: t, js, clickhouse, telemetry }) : null
  const certifier = roles.has('certifier') && pg && dccKeys ? new Certifier({ config, topology: t, js, pg, keys: dccKeys, telemetry }) : null
  await processor?.start()
  await sink?.start()
  await certifier?.start()

  const jsm = await nc.jetstreamManager()
  const lagTimer = setInterval(() => {
    for (const [stream, durable, on] of [[t.ingestStream, t.processorDurable, processor], [t.feedStream, t.clickhouseDurable, sink], [t.resultsStream, t.certifierDurable, certifier]] as const) {
      if (!on) continue
      jsm.consumers.info(stream, durable).then(
        (i) => telemetry.consumerLag.set({ consumer: durable }, i.num_pending + i.num_ack_pending),
        () => {},
      )
    }
  }, 5000)
  lagTimer.unref()

  const server: FastifyInstance = await buildServer({ config, topology: t, nc, js, pg, clickhouse, workers, telemetry, keys, dcc: dccKeys })
  await server.listen({ host: config.httpHost, port: config.httpPort })
  const address = server.server.address()
  const port = typeof address === 'object' && address ? address.port : config.httpPort
  const url = `http://${config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost}:${port}`
  const mllp = roles.has('gateway') && pg && workers ? new MllpListener({ config, topology: t, js, pg, workers, telemetry }, config.mllpPort, config.httpHost, config.mllpTls) : null
  const mllpPort = mllp ? await mllp.start() : null
  log.info({ event: 'platform_started', roles: config.roles, url, ingest: `${url}/v1/results`, metrics: `${url}/metrics`, health: `${url}/healthz`, ready: `${url}/readyz`, nats: config.natsUrl, ingestSubject: t.ingest('<labId>'), mllpPort })

  let stopping: Promise<void> | null = null
  return {
    config,
    topology: t,
    telemetry,
    url,
    mllpPort,
    stop() {
      stopping ??= (async () => {
        clearInterval(lagTimer)
        await mllp?.stop()
        await server.close()
        await processor?.stop()
        await sink?.stop()
        await certifier?.stop()
        await nc.drain().catch(() => {})
        await workers?.destroy()
        await pg?.end()
        await clickhouse?.close()
        log.info({ event: 'platform_stopped' })
      })()
      return stopping
    },
  }
}
