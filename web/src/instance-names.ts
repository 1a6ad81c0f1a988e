/**
 * Instance names by uuid, for the views that show actions (which carry only the uuid). Read from
 * `GET /v1/instances?deleted=any` once per sign-in, and again when an unknown uuid shows up (a
 * new instance); the caller sees only the names policy lets them see.
 */
import { queryInstances } from './api.js'
import type { TrailInstance } from './types.js'

let names: Map<string, TrailInstance> | undefined
let loading: Promise<Map<string, TrailInstance>> | undefined
// Bounds the pages read: beyond, names are shown as uuids (the page stays fast).
const MAX_PAGES = 5

async function load(): Promise<Map<string, TrailInstance>> {
  const found = new Map<string, TrailInstance>()
  let cursor: string | null = null
  for (let page = 0; page < MAX_PAGES; page++) {
    const params = new URLSearchParams({ deleted: 'any', limit: '1000' })
    if (cursor) params.set('cursor', cursor)
    const answer = await queryInstances(params)
    for (const i of answer.instances) found.set(i.uuid, i)
    cursor = answer.next_cursor
    if (!cursor) break
  }
  names = found
  return found
}

/** The instances the caller may see, by uuid (read at most once at a time). */
export async function instanceNames(refreshFor?: string): Promise<Map<string, TrailInstance>> {
  if (names && (refreshFor === undefined || names.has(refreshFor))) return names
  loading ??= load().finally(() => (loading = undefined))
  return loading
}

/** Forgets the names (sign-out: another caller may see others). */
export function forgetInstanceNames(): void {
  names = undefined
}
