/**
 * The platform's one pool of worker threads (workers/pool-tasks.ts): ingest tasks (gateway admit,
 * processor batches) and DCC signing share N threads. Two pools of N threads each doubled the isolates
 * (heaps, young generations, compiled code, libsodium wasm memory) on a machine with N cores, where the
 * extra threads can only wait for a core.
 *
 * The WorkerPool (pipeline/workers-pool.ts) creates it with the keys and registers it for the process;
 * the certifier's SigningPool borrows the registered one, or creates its own when the process runs the
 * certifier role alone. Reference counted: the last user destroys it.
 */
import { Piscina } from 'piscina'
import type { WorkerKeys } from './keys/key-store.ts'
import type { ThreadMemory } from '../workers/pool-tasks.ts'

const TASK_MODULE = new URL('../workers/pool-tasks.ts', import.meta.url).href
// Worker threads do not inherit loader hooks registered through the API: give them tsx explicitly.
const TSX = import.meta.resolve('tsx')

/**
 * Per-isolate V8 limits. Old space: a task is at most one body or one byte-bounded batch, and V8 otherwise
 * lets every isolate's old space grow lazily. Young generation: V8's default is 48 MB (two 16 MB
 * semi-spaces committed, 32 MB resident per thread once grown); a process task keeps a whole batch alive
 * while it builds it, so a small one copies and promotes that batch on every scavenge. Measured with
 * bench/workers.ts (results per CPU-second, 6 runs each, median, shared machine): 48 MB 12.9k, 24 MB 12.0k,
 * 12 MB 11.5k; end to end (npm run bench, 45 s) platform CPU per result was the same within noise (253 µs
 * at 12 MB, 251 at 48) and the peak RSS 57 MB lower at 12. 24 MB halves the resident young generation for
 * a cost within that noise.
 */
export const THREAD_OLD_SPACE_MB = 256
export const THREAD_YOUNG_GENERATION_MB = 24

/** Per thread, queued tasks beyond which the gateway answers 503 OVERLOADED (a queued admit holds a body). */
export const ADMIT_QUEUE_PER_THREAD = 8

export class ThreadPool {
  readonly piscina: Piscina
  private refs = 1
  private readonly memory = new Map<number, ThreadMemory>()

  constructor(threads: number, keys?: WorkerKeys) {
    const execArgv = process.execArgv.some((a) => a.includes('tsx')) ? process.execArgv : [...process.execArgv, '--import', TSX]
    this.piscina = new Piscina({
      filename: TASK_MODULE,
      minThreads: threads,
      maxThreads: threads,
      // the admit bound is enforced by WorkerPool.admit; this is the hard bound, with room for the
      // processor's and the signer's tasks (each at most one per thread in flight) and the memory probes
      maxQueue: threads * (ADMIT_QUEUE_PER_THREAD + 4),
      resourceLimits: { maxOldGenerationSizeMb: THREAD_OLD_SPACE_MB, maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB },
      execArgv,
      workerData: keys ? { keys } : undefined,
    })
    // a thread that dies is replaced by piscina and its task rejected to the caller; the event itself must
    // not crash the process
    this.piscina.on('error', (err: Error) => {
      process.emitWarning(`worker thread failed: ${err.message}`)
    })
  }

  get threads(): number {
    return this.piscina.threads.length
  }

  get queueSize(): number {
    return this.piscina.queueSize
  }

  acquire(): this {
    this.refs++
    return this
  }

  /** The last reference destroys the threads. */
  async release(): Promise<void> {
    if (--this.refs > 0) return
    if (shared === this) shared = null
    await this.piscina.destroy()
  }

  /**
   * Every thread's last known memory figures. One probe per thread is queued; piscina gives each to an
   * idle thread, so a busy scrape may hear twice from one thread and keep the other's previous figures.
   */
  async memoryStats(timeoutMs = 2000): Promise<ThreadMemory[]> {
    const n = this.threads
    const probes: Array<Promise<void>> = []
    for (let i = 0; i < n; i++) {
      probes.push(this.piscina.run(null, { name: 'memoryStats' }).then((m: ThreadMemory) => void this.memory.set(m.threadId, m), () => {}))
    }
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.all(probes), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))])
    clearTimeout(timer)
    const live = new Set(this.piscina.threads.map((t) => t.threadId))
    for (const id of this.memory.keys()) if (!live.has(id)) this.memory.delete(id)
    return [...this.memory.values()]
  }
}

let shared: ThreadPool | null = null

/** The pool the ingest side registered for this process, if any (see SigningPool). */
export function sharedThreadPool(): ThreadPool | null {
  return shared
}

export function registerSharedThreadPool(pool: ThreadPool): void {
  shared ??= pool
}
