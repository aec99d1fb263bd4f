/**
 * The piscina pool that runs workers/ingest-task.ts. Its queue is bounded (back-pressure: a caller awaits
 * when it is full rather than buffering without limit), and each thread receives the keys once.
 */
import { Piscina } from 'piscina'
import type { WorkerKeys } from './keys/key-store.ts'
import type { AdmitTask, AdmitOutcome, ProcessTask, ProcessedMessage } from '../workers/ingest-task.ts'

const TASK_MODULE = new URL('../workers/ingest-task.ts', import.meta.url).href
// Worker threads do not inherit loader hooks registered through the API: give them tsx explicitly.
const TSX = import.meta.resolve('tsx')

export class WorkerPool {
  private readonly piscina: Piscina

  constructor(threads: number, keys: WorkerKeys) {
    const execArgv = process.execArgv.some((a) => a.includes('tsx')) ? process.execArgv : [...process.execArgv, '--import', TSX]
    this.piscina = new Piscina({
      filename: TASK_MODULE,
      minThreads: threads,
      maxThreads: threads,
      // a queued admit task holds a whole HTTP body: a short queue bounds that memory, and a full queue
      // answers 503 OVERLOADED (labs retry) instead of buffering
      maxQueue: threads * 8,
      // each thread's heap is capped so the process's footprint stays bounded (a task is at most one body
      // or one byte-bounded batch); V8 otherwise lets every isolate's old space grow lazily
      resourceLimits: { maxOldGenerationSizeMb: 256 },
      execArgv,
      workerData: { keys },
    })
    // a thread that dies is replaced by piscina and its task rejected to the caller; the event itself must
    // not crash the process
    this.piscina.on('error', (err: Error) => {
      process.emitWarning(`worker thread failed: ${err.message}`)
    })
  }

  admit(task: Omit<AdmitTask, 'kind'>): Promise<AdmitOutcome> {
    return this.piscina.run({ ...task, kind: 'admit' })
  }

  process(task: Omit<ProcessTask, 'kind'>): Promise<ProcessedMessage[]> {
    return this.piscina.run({ ...task, kind: 'process' })
  }

  get threads(): number {
    return this.piscina.threads.length
  }

  async destroy(): Promise<void> {
    await this.piscina.destroy()
  }
}
