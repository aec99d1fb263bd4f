/**
 * The platform's secret keys, kept outside the databases (DESIGN.md, "Privacy and security"): the pseudonym
 * key (keyed BLAKE2b) and the sealing key for contact fields (crypto_secretbox). Created on first start in
 * `<dataDir>/keys/keys.json` (mode 0600). Each key has an id stored beside what it produced, and the file
 * keeps retired keys so that rotation (`active` moves to a new id) never orphans sealed data.
 */
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'

export interface KeyRing {
  active: string
  keys: Record<string, string> // id → base64 32-byte key
}

export interface KeyFile {
  pseudonym: KeyRing
  seal: KeyRing
}

/** What the workers need: the active keys as bytes (copied to each worker thread once). */
export interface WorkerKeys {
  pseudonymKeyId: string
  pseudonymKey: Uint8Array
  sealKeyId: string
  sealKey: Uint8Array
}

function newRing(prefix: string): KeyRing {
  const id = `${prefix}-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`
  return { active: id, keys: { [id]: randomBytes(32).toString('base64') } }
}

export async function loadOrCreateKeys(dataDir: string): Promise<KeyFile> {
  const dir = join(dataDir, 'keys')
  const file = join(dir, 'keys.json')
  try {
    return JSON.parse(await readFile(file, 'utf8')) as KeyFile
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const keys: KeyFile = { pseudonym: newRing('pk'), seal: newRing('sk') }
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(keys, null, 2), { mode: 0o600, flag: 'wx' })
  await rename(tmp, file).catch(() => {})
  // another process may have won the race: everyone uses what is on disk
  return JSON.parse(await readFile(file, 'utf8')) as KeyFile
}

export function workerKeys(keys: KeyFile): WorkerKeys {
  return {
    pseudonymKeyId: keys.pseudonym.active,
    pseudonymKey: Buffer.from(keys.pseudonym.keys[keys.pseudonym.active], 'base64'),
    sealKeyId: keys.seal.active,
    sealKey: Buffer.from(keys.seal.keys[keys.seal.active], 'base64'),
  }
}

export function sealKeyById(keys: KeyFile, id: string): Uint8Array | undefined {
  const k = keys.seal.keys[id]
  return k === undefined ? undefined : Buffer.from(k, 'base64')
}
