/**
 * The one piscina entry module of the platform's thread pool (pipeline/thread-pool.ts): the ingest task
 * (default export, workers/ingest-task.ts), DCC signing (`signBatch`, workers/dcc/sign-batch.ts) and a
 * memory probe (`memoryStats`). One pool of N threads serves every kind of task instead of one pool per
 * kind: on a 2-core machine 2 + 2 isolates only add heaps, code and libsodium instances for no extra CPU.
 *
 * Static imports: tsx's loader does not resolve a dynamic import() of a .ts file inside a worker thread
 * (ERR_UNKNOWN_FILE_EXTENSION), and no top-level await (tsx cannot load a worker entry that uses it).
 */
import { threadId } from 'node:worker_threads'
import { getHeapStatistics, getHeapSpaceStatistics } from 'node:v8'
export { default } from './ingest-task.ts'
export { signBatch } from './dcc/sign-batch.ts'

/** One thread's memory, for the /metrics gauges (bytes). */
export interface ThreadMemory {
  threadId: number
  /** V8 heap committed, and per space (new = young generation, old, code, large_object...) */
  heapTotal: number
  heapUsed: number
  spaces: Record<string, number>
  /** memory outside the V8 heap held by this isolate: ArrayBuffers (libsodium's wasm memory among them) */
  external: number
  arrayBuffers: number
}

export function memoryStats(): ThreadMemory {
  const h = getHeapStatistics()
  const spaces: Record<string, number> = {}
  for (const s of getHeapSpaceStatistics()) if (s.space_size > 0) spaces[s.space_name.replace(/_space$/, '')] = s.space_size
  const m = process.memoryUsage()
  return { threadId, heapTotal: h.total_heap_size, heapUsed: h.used_heap_size, spaces, external: h.external_memory, arrayBuffers: m.arrayBuffers }
}
