/**
 * The ingest side of the platform's thread pool (pipeline/thread-pool.ts, task module
 * workers/ingest-task.ts through workers/pool-tasks.ts). Admission is bounded (back-pressure: a full queue
 * answers 503 OVERLOADED, labs retry, instead of buffering bodies), and each thread receives the keys once.
 */
import type { WorkerKeys } from './keys/key-store.ts'
import type { AdmitTask, AdmitOutcome, ProcessTask, ProcessedMessage } from '../workers/ingest-task.ts'
import type { ThreadMemory } from '../workers/pool-tasks.ts'
import { ThreadPool, registerSharedThreadPool, ADMIT_QUEUE_PER_THREAD } from './thread-pool.ts'

export class WorkerPool {
  private readonly pool: ThreadPool
  private readonly admitLimit: number

  constructor(threads: number, keys: WorkerKeys) {
    this.pool = new ThreadPool(threads, keys)
    this.admitLimit = threads * ADMIT_QUEUE_PER_THREAD
    // the certifier's signing tasks run on these threads too (SigningPool borrows the registered pool)
    registerSharedThreadPool(this.pool)
  }

  admit(task: Omit<AdmitTask, 'kind'>): Promise<AdmitOutcome> {
    // a queued admit task holds a whole HTTP body: bound them here, below piscina's own maxQueue, so the
    // processor's and the signer's tasks always find room. Same message as piscina's (the gateway maps it).
    if (this.pool.queueSize >= this.admitLimit) return Promise.reject(new Error('Task queue is at limit'))
    return this.pool.piscina.run({ ...task, kind: 'admit' })
  }

  process(task: Omit<ProcessTask, 'kind'>): Promise<ProcessedMessage[]> {
    return this.pool.piscina.run({ ...task, kind: 'process' })
  }

  get threads(): number {
    return this.pool.threads
  }

  /** Each thread's heap and external memory, for /metrics. */
  memoryStats(): Promise<ThreadMemory[]> {
    return this.pool.memoryStats()
  }

  async destroy(): Promise<void> {
    await this.pool.release()
  }
}
