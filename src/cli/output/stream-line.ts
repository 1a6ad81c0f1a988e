/**
 * One stream message as a line for people (`actions tail` in table format): time, kind, name,
 * status, instance, request (and host for admins' events), cut to the table width when there is
 * one. Times are the change's `updated_at` (else its start), seconds precision.
 */
import type { StreamMessage } from '../client-io/stream-follower.js'
import { paintStatus, type Colors } from './colors.js'
import { actionStatus, eventStatus, shortTime, type Row } from './record-kinds.js'
import { printable } from './table.js'
import { padEnd, truncate } from './text-width.js'

function str(value: unknown): string {
  return value === null || value === undefined ? '' : printable(String(value))
}

/** The line for one message (without newline). */
export function streamLine(
  message: StreamMessage,
  colors: Colors,
  width: number | undefined,
): string {
  const d = message.data
  let time: string
  let name: string
  let status: string
  let rest: string[]
  if (message.type === 'action' && typeof d.action === 'object' && d.action !== null) {
    const a = d.action as Row
    time = shortTime(a.updated_at ?? a.start_time)
    name = str(a.action)
    status = actionStatus(a)
    rest = [str(a.instance_uuid), str(a.request_id)]
  } else if (message.type === 'event' && typeof d.event === 'object' && d.event !== null) {
    const e = d.event as Row
    time = shortTime(e.updated_at ?? e.start_time)
    name = `${str(d.action)}/${str(e.event)}`
    status = eventStatus(e)
    rest = [str(d.instance_uuid), str(d.request_id), str(e.host)]
  } else {
    return truncate(`${str(message.type)} ${printable(JSON.stringify(d))}`, width ?? Infinity)
  }
  // Plain text decides the cut; the status word is coloured afterwards, when it survived the cut.
  const prefix = `${time}  ${padEnd(message.type, 6)}  ${padEnd(name, 24)}  `
  const plain = `${prefix}${padEnd(status, 7)}  ${rest.join('  ')}`.trimEnd()
  const line = width === undefined ? plain : truncate(plain, width)
  if (!line.startsWith(prefix + status)) return line
  return prefix + paintStatus(colors, status) + line.slice(prefix.length + status.length)
}
