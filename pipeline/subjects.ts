/**
 * Stream names and subjects (DESIGN.md, "Streams and subjects"), derived once from the config so tests can
 * run their own isolated topology beside the real one.
 */
import type { SidepConfig } from './config.ts'

export interface Topology {
  readonly ingestStream: string
  readonly resultsStream: string
  readonly feedStream: string
  readonly dlqStream: string
  readonly processorDurable: string
  readonly clickhouseDurable: string
  /** the certifier's durable pull consumer on RESULTS (issue 5) */
  readonly certifierDurable: string
  /** `sidep.ingest.>`: every lab's ingest subject */
  readonly ingestAll: string
  readonly resultsAll: string
  readonly feedAll: string
  readonly dlqAll: string
  ingest(labId: string): string
  results(region: string, department: string): string
  feed(region: string, department: string): string
  labStatus(labId: string): string
  dlq(stage: string): string
  /** The lab id of an ingest subject, or null when the subject is not one. */
  labOfIngestSubject(subject: string): string | null
}

export function topology(config: Pick<SidepConfig, 'subjectRoot' | 'streamPrefix'>): Topology {
  const root = config.subjectRoot
  const p = config.streamPrefix
  const ingestPrefix = `${root}.ingest.`
  return Object.freeze({
    ingestStream: `${p}INGEST`,
    resultsStream: `${p}RESULTS`,
    feedStream: `${p}FEED`,
    dlqStream: `${p}DLQ`,
    processorDurable: `${p}processor`,
    clickhouseDurable: `${p}clickhouse_sink`,
    certifierDurable: `${p}certifier`,
    ingestAll: `${root}.ingest.*`,
    resultsAll: `${root}.results.>`,
    feedAll: `${root}.feed.pseudo.>`,
    dlqAll: `${root}.dlq.>`,
    ingest: (labId: string) => `${ingestPrefix}${labId}`,
    results: (region: string, department: string) => `${root}.results.${region}.${department}`,
    feed: (region: string, department: string) => `${root}.feed.pseudo.${region}.${department}`,
    labStatus: (labId: string) => `${root}.lab.${labId}.status`,
    dlq: (stage: string) => `${root}.dlq.${stage}`,
    labOfIngestSubject: (subject: string) => {
      if (!subject.startsWith(ingestPrefix)) return null
      const lab = subject.slice(ingestPrefix.length)
      return LAB_ID.test(lab) ? lab : null
    },
  })
}

/** Lab ids are subject tokens: no dots, wildcards or spaces (NATS subject naming rules). */
export const LAB_ID = /^[A-Za-z0-9_-]{1,64}$/
