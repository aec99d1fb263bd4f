/**
 * DCC signing on worker threads: workers/dcc/sign-batch.ts, one task per slice of a batch (DESIGN.md
 * "Performance model": ~38k ES256 signatures/s/core, a worker round trip ~50 µs, so tasks carry hundreds of
 * certificates, never one). Signing never runs on the event loop.
 *
 * The threads are the platform's one pool (pipeline/thread-pool.ts), shared with the ingest tasks when this
 * process runs them too; a certifier running alone gets a pool of its own. The signer has at most one task
 * per thread in flight, which the pool's queue always has room for.
 */
import type { SignBatchItem, SignBatchResult, SignBatchTask } from '../../workers/dcc/sign-batch.ts'
import type { SignerMaterial } from '../../workers/dcc/keys.ts'
import { ThreadPool, sharedThreadPool } from '../thread-pool.ts'

export class SigningPool {
  private readonly pool: ThreadPool

  constructor(threads: number) {
    this.pool = sharedThreadPool()?.acquire() ?? new ThreadPool(threads)
  }

  get threads(): number {
    return this.pool.threads
  }

  /** Signs every item, split across the threads; the HC1 strings come back in input order. */
  async sign(signer: SignerMaterial, iss: string, items: SignBatchItem[]): Promise<{ kid: string; hc1: string[] }> {
    if (items.length === 0) return { kid: '', hc1: [] }
    const parts = Math.max(1, Math.min(this.threads || 1, Math.ceil(items.length / 50)))
    const size = Math.ceil(items.length / parts)
    const tasks: Array<Promise<SignBatchResult>> = []
    for (let i = 0; i < items.length; i += size) {
      const task: SignBatchTask = { signer, iss, items: items.slice(i, i + size) }
      tasks.push(this.pool.piscina.run(task, { name: 'signBatch' }))
    }
    const results = await Promise.all(tasks)
    return { kid: results[0].kid, hc1: results.flatMap((r) => r.hc1) }
  }

  async destroy(): Promise<void> {
    await this.pool.release()
  }
}
