/**
 * Random bytes for the per-item hot paths (seal nonces, UVCI opaque parts), drawn from one fill of 64 KiB
 * from the OS CSPRNG (node:crypto randomFillSync) instead of one call per use: a call costs ~1.5 µs whatever
 * its size, and was 5-7 % of a worker thread when made per nonce. Each byte is handed out once, and the pool is
 * refilled before any byte is handed out again, so no two callers ever share bytes. The pool belongs to this
 * module instance: worker threads never share it.
 */
import { randomFillSync } from 'node:crypto'

export const RANDOM_POOL_BYTES = 64 * 1024

const pool = new Uint8Array(RANDOM_POOL_BYTES)
let offset = RANDOM_POOL_BYTES

/**
 * `n` fresh random bytes, as a view of the pool: a later call may refill the pool and overwrite it, so the
 * caller copies (or consumes) the bytes before calling again.
 */
export function takeRandomBytes(n: number): Uint8Array {
  if (n > RANDOM_POOL_BYTES) throw new RangeError(`at most ${RANDOM_POOL_BYTES} random bytes at a time (asked ${n})`)
  if (offset + n > RANDOM_POOL_BYTES) {
    randomFillSync(pool)
    offset = 0
  }
  const bytes = pool.subarray(offset, offset + n)
  offset += n
  return bytes
}
