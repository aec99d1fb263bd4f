/**
 * The one rule for a message that failed on its own data (DESIGN.md, "Reliability model"): redelivered
 * after a delay up to maxAttempts deliveries, then published to `sidep.dlq.<stage>` with its error in
 * headers and acked, so it never blocks the stream. If the dead-letter publish itself fails, the message
 * is given back (nak) rather than lost.
 */
import { headers as natsHeaders, type JetStreamClient, type JsMsg } from 'nats'
import type { Topology } from '../subjects.ts'
import type { Telemetry } from '../telemetry.ts'
import type { SidepError } from '../errors.ts'

export const RETRY_DELAY_MS = 2000

export interface DeadLetterDeps {
  js: JetStreamClient
  topology: Topology
  telemetry: Telemetry
  maxAttempts: number
}

export async function retryOrDeadLetter(d: DeadLetterDeps, stage: string, msg: JsMsg, err: SidepError, immediately = false): Promise<void> {
  const attempts = msg.info.redeliveryCount
  const where = { subject: msg.subject, seq: msg.seq, attempts }
  if (!immediately && attempts < d.maxAttempts) {
    d.telemetry.retrying(stage, err.code, where)
    msg.nak(RETRY_DELAY_MS)
    return
  }
  const h = natsHeaders()
  h.set('Sidep-Error-Code', err.code)
  h.set('Sidep-Error-Message', err.message.slice(0, 200).replace(/[\r\n]/g, ' '))
  h.set('Sidep-Source-Subject', msg.subject)
  h.set('Sidep-Source-Seq', String(msg.seq))
  h.set('Sidep-Attempts', String(attempts))
  try {
    await d.js.publish(d.topology.dlq(stage), msg.data, { headers: h, msgID: `dlq:${stage}:${msg.seq}` })
  } catch {
    d.telemetry.retrying(stage, 'DLQ_PUBLISH_FAILED', where)
    msg.nak(RETRY_DELAY_MS)
    return
  }
  d.telemetry.deadLettered(stage, err.code, where)
  msg.ack()
}
