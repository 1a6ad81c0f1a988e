/**
 * The garbage collector's pauses in this process while something is measured: the route lines of
 * bench:scale run in the bench process (app.inject), and on a 2-core VM a young-generation
 * collection of several ms landing on one request is what sets their p99 (docs/benchmarks.md,
 * sessions 12 and 13). Printed next to the table, so that every run says how much of its tail
 * the collector explains.
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks'

/** Collections seen, by kind, in ms each. */
export interface GcPauses {
  /** Young-generation collections (scavenges). */
  minor: number[]
  /** Full collections (mark-compact). */
  major: number[]
  /** Incremental marking steps and weak-callback processing. */
  other: number[]
}

/** Starts recording; `stop` returns what was seen since. */
export function watchGcPauses(): { stop(): GcPauses } {
  const seen: GcPauses = { minor: [], major: [], other: [] }
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as (PerformanceEntry & {
      detail?: { kind?: number }
    })[]) {
      const kind = entry.detail?.kind
      const into =
        kind === constants.NODE_PERFORMANCE_GC_MINOR
          ? seen.minor
          : kind === constants.NODE_PERFORMANCE_GC_MAJOR
            ? seen.major
            : seen.other
      into.push(entry.duration)
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  return {
    stop() {
      observer.disconnect()
      return seen
    },
  }
}

/** One line: how many collections of each kind, their median and largest pause. */
export function gcPausesLine(pauses: GcPauses, requests: number): string {
  const describe = (v: number[]) => {
    if (v.length === 0) return 'none'
    const sorted = [...v].sort((a, b) => a - b)
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
    return `${v.length}, median ${at(0.5).toFixed(1)} ms, p90 ${at(0.9).toFixed(1)} ms, max ${at(1).toFixed(1)} ms`
  }
  const calls = requests.toLocaleString('en-US')
  const heapMiB = (process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)
  return (
    `- garbage collection in this process during the query lines (${calls} route, store and ` +
    `floor calls): young generation ${describe(pauses.minor)}; full ${describe(pauses.major)} ` +
    '(bench:scale forces one before each measured line, outside the timed calls); other ' +
    `${describe(pauses.other)}; heap used at the end ${heapMiB} MiB`
  )
}
