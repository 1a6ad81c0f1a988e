/**
 * CPU seconds (user + system) the process `pid` has used so far, from /proc (Linux; NaN
 * elsewhere). The server runs in a child process, so the bench's own process.cpuUsage() would not
 * show it, and on a shared machine its CPU time is steadier than the wall time.
 */
import { readFileSync } from 'node:fs'

/** CPU seconds of process `pid` so far (NaN where /proc is not readable). */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (in parentheses, may hold spaces): utime and stime are the
    // 12th and 13th, in clock ticks (100 per second on Linux).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return Number.NaN
  }
}
