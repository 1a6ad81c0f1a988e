/**
 * The query string of `GET /v1/stream`, parsed from the raw URL like the query API's
 * (action-query.ts: unknown or repeated single-valued parameters are 400 `invalid_input` naming
 * the parameter), and the resume position (`Last-Event-ID` wins over `after`).
 */
import { AppError } from '../../../domain/errors.js'
import type { QueryParams } from '../../compute/query-params.js'
import { checkQueryParams } from '../action-query.js'

const SINGLE = [
  'instance',
  'project',
  'owner_project',
  'user',
  'request_id',
  'host',
  'types',
  'after',
] as const
const REPEATABLE = ['action'] as const

/** What a subscriber asked for (access restrictions are added by the route). */
export interface StreamFilter {
  instanceUuid?: string
  /** The action's initiator project. */
  projectId?: string
  /** The project owning the instance. */
  ownerProjectId?: string
  userId?: string
  /** Any of these action names. */
  actions?: ReadonlySet<string>
  requestId?: string
  /** Only events that ran on this host (actions have no host: none are sent). */
  host?: string
  /** Which kinds of messages. */
  actionMessages: boolean
  eventMessages: boolean
}

/** The parsed parameters. */
export interface StreamQuery {
  filter: StreamFilter
  /** `after`, when given. */
  after?: number
}

// A position: decimal digits, at most 15 so that it stays an exact JavaScript number.
const POSITION = /^\d{1,15}$/

function bad(message: string): AppError {
  return new AppError('invalid_input', message)
}

/** Parses a position (`after`, `Last-Event-ID`); `name` is used in the message. */
export function parsePosition(name: string, value: string): number {
  if (!POSITION.test(value))
    throw bad(`Invalid ${name}: '${value.slice(0, 40)}' is not a stream position.`)
  return Number(value)
}

/** Parses and checks the parameters. */
export function parseStreamQuery(params: QueryParams): StreamQuery {
  checkQueryParams(params, SINGLE, REPEATABLE)
  const one = (name: (typeof SINGLE)[number]): string | undefined => params.get(name)?.[0]
  const filter: StreamFilter = { actionMessages: true, eventMessages: true }
  const set = <K extends keyof StreamFilter>(key: K, value: StreamFilter[K] | undefined) => {
    if (value !== undefined) filter[key] = value
  }
  set('instanceUuid', one('instance'))
  set('projectId', one('project'))
  set('ownerProjectId', one('owner_project'))
  set('userId', one('user'))
  set('requestId', one('request_id'))
  set('host', one('host'))
  const actions = params.get('action')
  if (actions) filter.actions = new Set(actions)
  const types = one('types')
  if (types !== undefined) {
    const list = types.split(',')
    if (list.some((t) => t !== 'action' && t !== 'event'))
      throw bad(`Invalid types: '${types.slice(0, 40)}' (use action, event or action,event).`)
    filter.actionMessages = list.includes('action')
    filter.eventMessages = list.includes('event')
  }
  const after = one('after')
  return { filter, ...(after !== undefined ? { after: parsePosition('after', after) } : {}) }
}
