/**
 * Times as people read them: absolute in UTC (the API's zone, so that a time matches what the CLI
 * and the logs show), relative to now, and durations. The API's times are UTC without a zone.
 */

/** Milliseconds since the epoch of an API time (`YYYY-MM-DDTHH:MM:SS.ffffff`, UTC). */
export function parseTime(text: string): number {
  const iso = /[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text}Z`
  return Date.parse(iso)
}

/** `2026-11-01 08:00:12 UTC`. */
export function absoluteTime(text: string): string {
  const ms = parseTime(text)
  if (Number.isNaN(ms)) return text
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

/** A duration in the largest fitting units: `350 ms`, `12.4 s`, `3 min 5 s`, `2 h 10 min`, `4 d 3 h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = ms / 1000
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`
  const min = Math.floor(s / 60)
  if (min < 60) return `${min} min ${Math.round(s % 60)} s`
  const h = Math.floor(min / 60)
  if (h < 48) return `${h} h ${min % 60} min`
  return `${Math.floor(h / 24)} d ${h % 24} h`
}

/** `5 min ago`, `3 d ago`, `in 2 s` (a clock ahead of ours). */
export function relativeTime(text: string, now = Date.now()): string {
  const ms = parseTime(text)
  if (Number.isNaN(ms)) return ''
  const diff = now - ms
  if (Math.abs(diff) < 5000) return 'just now'
  const d = formatDuration(Math.abs(diff)).replace(/ \d+ (s|min|h)$/, '')
  return diff > 0 ? `${d} ago` : `in ${d}`
}

/** How long something took (or has run so far, when unfinished). */
export function durationOf(start: string, finish: string | null, now = Date.now()): number {
  return (finish ? parseTime(finish) : now) - parseTime(start)
}

/** The `datetime-local` input's value (UTC) of an API time, and back. */
export function toInputValue(text: string): string {
  const ms = parseTime(text)
  return Number.isNaN(ms) ? '' : new Date(ms).toISOString().slice(0, 19)
}
