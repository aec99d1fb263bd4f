/**
 * The `sidep` command line: start the platform, apply migrations, manage labs.
 *   sidep start                       every role in this process (SIDEP_ROLES to choose)
 *   sidep migrate                     create databases, tables and streams, then exit
 *   sidep lab add <labId> --name <n>  register a lab; its token is printed alone on the last line
 *   sidep lab list | sidep lab revoke <labId>
 */
import { parseArgs } from 'node:util'
import { optionsFromEnv, parseConfig } from './config.ts'
import { createLogger } from './log.ts'
import { startPlatform, prepareStores } from './platform.ts'
import { createPgPool } from './postgres/pool.ts'
import { migratePostgres } from './postgres/migrate.ts'
import { addLab, listLabs, revokeLab } from './labs/lab-registry.ts'
import { SidepError } from './errors.ts'
import { keysCommand, KEYS_USAGE } from './cli/keys-command.ts'
import { dccCommand, DCC_USAGE } from './cli/dcc-command.ts'
import { submitCommand, SUBMIT_USAGE } from './cli/submit-command.ts'

const USAGE = `usage: sidep start | sidep migrate | sidep lab add <labId> --name "<name>" | sidep lab list | sidep lab revoke <labId> | ${KEYS_USAGE} | ${DCC_USAGE} | ${SUBMIT_USAGE}`

async function labCommand(args: string[]): Promise<void> {
  const config = parseConfig(optionsFromEnv())
  const { values, positionals } = parseArgs({ args, options: { name: { type: 'string' } }, allowPositionals: true, strict: true })
  const [verb, labId] = positionals
  await migratePostgres(config.pgUrl)
  const pg = createPgPool(config.pgUrl, 1)
  try {
    if (verb === 'add' && labId) {
      const { lab, token } = await addLab(pg, labId, values.name ?? '')
      process.stdout.write(`lab ${lab.labId} (${lab.name}) registered; its API token (shown once, only a hash is kept):\n${token}\n`)
    } else if (verb === 'list') {
      for (const lab of await listLabs(pg)) {
        process.stdout.write(`${lab.labId}\t${lab.revokedAt ? `revoked ${lab.revokedAt}` : 'active'}\t${lab.name}\n`)
      }
    } else if (verb === 'revoke' && labId) {
      await revokeLab(pg, labId)
      process.stdout.write(`lab ${labId} revoked: its token is refused from now on\n`)
    } else {
      throw new SidepError('USAGE', USAGE, { status: 2 })
    }
  } finally {
    await pg.end()
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  if (command === 'start') {
    const config = parseConfig(optionsFromEnv())
    const log = createLogger(config.logLevel)
    const platform = await startPlatform(config, log)
    process.stdout.write(
      `sidep is running (roles: ${config.roles.join(', ')})\n` +
        `  ingest API  POST ${platform.url}/v1/results   (NATS: ${platform.topology.ingest('<labId>')} on ${config.natsUrl})\n` +
        (platform.mllpPort !== null ? `  HL7 MLLP    ${config.httpHost}:${platform.mllpPort}${config.mllpTls ? ' (TLS)' : ''}   (lab token in MSH-8)\n  API docs    ${platform.url}/docs\n` : '') +
        `  metrics     ${platform.url}/metrics\n  health      ${platform.url}/healthz  ${platform.url}/readyz\n`,
    )
    const shutdown = (signal: string) => {
      log.info({ event: 'shutdown', signal })
      platform.stop().then(() => process.exit(0), () => process.exit(1))
    }
    process.once('SIGINT', shutdown)
    process.once('SIGTERM', shutdown)
    return
  }
  if (command === 'migrate') {
    const config = parseConfig(optionsFromEnv())
    await prepareStores(config, createLogger(config.logLevel))
    return
  }
  if (command === 'lab') return labCommand(rest)
  if (command === 'keys') return keysCommand(rest)
  if (command === 'submit') {
    process.exitCode = await submitCommand(rest, (line) => process.stdout.write(`${line}\n`))
    return
  }
  if (command === 'dcc') {
    process.exitCode = await dccCommand(rest)
    return
  }
  throw new SidepError('USAGE', USAGE, { status: 2 })
}

main(process.argv.slice(2)).catch((err) => {
  const code = err instanceof SidepError ? err.code : 'FAILED'
  process.stderr.write(`sidep: ${code}: ${(err as Error).message}\n`)
  process.exitCode = err instanceof SidepError && err.code === 'USAGE' ? 2 : 1
})
