/**
 * The one libsodium instance. Loaded through require because libsodium-wrappers 0.7.16's ESM entry imports
 * a ./libsodium.mjs that the npm package does not ship (ERR_MODULE_NOT_FOUND under Node's ESM loader;
 * jedisct1/libsodium.js#357, fixed in 0.8, which this project has not moved to yet).
 */
import { createRequire } from 'node:module'
import type Sodium from 'libsodium-wrappers'

const require = createRequire(import.meta.url)
export const sodium: typeof Sodium = require('libsodium-wrappers')

export async function sodiumReady(): Promise<typeof Sodium> {
  await sodium.ready
  return sodium
}
