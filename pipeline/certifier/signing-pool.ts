/**
 * The piscina pool that signs DCCs: workers/dcc/sign-batch.ts, one task per slice of a batch (DESIGN.md
 * "Performance model": ~38k ES256 signatures/s/core, a worker round trip ~50 µs, so tasks carry hundreds of
 * certificates, never one). Signing never runs on the event loop. The queue is bounded: a caller awaits
 * rather than buffering without limit.
 */
import { Piscina } from 'piscina'
import type { SignBatchItem, SignBatchResult, SignBatchTask } from '../../workers/dcc/sign-batch.ts'
import type { SignerMaterial } from '../../workers/dcc/keys.ts'

const TASK_MODULE = new URL('../../workers/dcc/sign-batch.ts', import.meta.url).href
// Worker threads do not inherit loader hooks registered through the API: give them tsx explicitly.
const TSX = import.meta.resolve('tsx')

export class SigningPool {
  private readonly piscina: Piscina

  constructor(threads: number) {
    const execArgv = process.execArgv.some((a) => a.includes('tsx')) ? process.execArgv : [...process.execArgv, '--import', TSX]
    // heap capped per thread (see workers-pool.ts): a signing task holds a few hundred payloads
    this.piscina = new Piscina({ filename: TASK_MODULE, minThreads: threads, maxThreads: threads, maxQueue: threads * 8, resourceLimits: { maxOldGenerationSizeMb: 128 }, execArgv })
    this.piscina.on('error', (err: Error) => {
      process.emitWarning(`signing thread failed: ${err.message}`)
    })
  }

  get threads(): number {
    return this.piscina.threads.length
  }

  /** Signs every item, split across the threads; the HC1 strings come back in input order. */
  async sign(signer: SignerMaterial, iss: string, items: SignBatchItem[]): Promise<{ kid: string; hc1: string[] }> {
    if (items.length === 0) return { kid: '', hc1: [] }
    const parts = Math.max(1, Math.min(this.threads || 1, Math.ceil(items.length / 50)))
    const size = Math.ceil(items.length / parts)
    const tasks: Array<Promise<SignBatchResult>> = []
    for (let i = 0; i < items.length; i += size) {
      const task: SignBatchTask = { signer, iss, items: items.slice(i, i + size) }
      tasks.push(this.piscina.run(task))
    }
    const results = await Promise.all(tasks)
    return { kid: results[0].kid, hc1: results.flatMap((r) => r.hc1) }
  }

  async destroy(): Promise<void> {
    await this.piscina.destroy()
  }
}
