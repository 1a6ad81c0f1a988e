/**
 * The os-instance-actions shapes, written once: the view functions return these types, the client
 * reads them, the OpenAPI document publishes them, and the API suites check every answer against
 * them. Nova's shapes change with the microversion, so each range has its own component
 * (`InstanceAction_2_58` is the action from 2.58 on); the `…Any` schemas are the union of every
 * version's fields, which is what the TypeScript types describe.
 */
import { Type, type Static } from 'typebox'
import { Link, Nullable, NovaTime } from './common.js'

const ACTION_FIELDS = {
  action: Type.String({ description: 'The action name, e.g. `reboot`.' }),
  instance_uuid: Type.String(),
  message: Nullable(Type.String(), '`Error` once an event of the action failed, else null.'),
  project_id: Nullable(Type.String(), 'Project of the user who started the action.'),
  request_id: Type.String(),
  start_time: NovaTime,
  user_id: Nullable(Type.String(), 'User who started the action; null for periodic tasks.'),
}

const UPDATED_AT = Nullable(NovaTime, 'Last change of the action or its events (since 2.58).')

const closed = { additionalProperties: false } as const

/** An action before 2.58. */
export const InstanceAction_2_1 = Type.Object(ACTION_FIELDS, {
  ...closed,
  title: 'InstanceAction_2_1',
})

/** An action from 2.58: adds `updated_at`. */
export const InstanceAction_2_58 = Type.Object(
  { ...ACTION_FIELDS, updated_at: UPDATED_AT },
  { ...closed, title: 'InstanceAction_2_58' },
)

/** An action at any microversion. */
export const InstanceActionAny = Type.Object(
  { ...ACTION_FIELDS, updated_at: Type.Optional(UPDATED_AT) },
  closed,
)

const EVENT_FIELDS = {
  event: Type.String({ description: 'The event name, e.g. `compute_reboot_instance`.' }),
  start_time: NovaTime,
  finish_time: Nullable(NovaTime),
  result: Nullable(Type.String({ enum: ['Success', 'Error'] }), 'Null while the event runs.'),
}

const TRACEBACK = Type.Optional(
  Nullable(
    Type.String(),
    'Sanitized stack frames of a failure; only with the `events` policy (admins).',
  ),
)
const HOST = Type.Optional(
  Nullable(Type.String(), 'Service host of the event; only with the `events` policy (since 2.62).'),
)
const HOST_ID = Type.String({
  description: 'Obfuscated host, unique per project and host (since 2.62).',
})
const DETAILS = Type.Optional(
  Nullable(
    Type.String(),
    'Public fault message; only with the `events:details` policy (since 2.84).',
  ),
)

/** An event before 2.62. */
export const InstanceActionEvent_2_1 = Type.Object(
  { ...EVENT_FIELDS, traceback: TRACEBACK },
  { ...closed, title: 'InstanceActionEvent_2_1' },
)

/** An event from 2.62: adds `host` (policy) and `hostId`. */
export const InstanceActionEvent_2_62 = Type.Object(
  { ...EVENT_FIELDS, traceback: TRACEBACK, host: HOST, hostId: HOST_ID },
  { ...closed, title: 'InstanceActionEvent_2_62' },
)

/** An event from 2.84: adds `details` (policy). */
export const InstanceActionEvent_2_84 = Type.Object(
  { ...EVENT_FIELDS, traceback: TRACEBACK, host: HOST, hostId: HOST_ID, details: DETAILS },
  { ...closed, title: 'InstanceActionEvent_2_84' },
)

/** An event at any microversion. */
export const InstanceActionEventAny = Type.Object(
  {
    ...EVENT_FIELDS,
    traceback: TRACEBACK,
    host: HOST,
    hostId: Type.Optional(HOST_ID),
    details: DETAILS,
  },
  closed,
)

/** One action with its events, as `show` answers it, for each microversion range. */
export const InstanceActionDetail = Type.Union([
  Type.Object(
    { ...ACTION_FIELDS, events: Type.Optional(Type.Array(InstanceActionEvent_2_1)) },
    {
      ...closed,
      title: 'InstanceActionDetail_2_1',
      description: 'Before 2.51: `events` only with the `events` policy.',
    },
  ),
  Type.Object(
    { ...ACTION_FIELDS, events: Type.Array(InstanceActionEvent_2_1) },
    {
      ...closed,
      title: 'InstanceActionDetail_2_51',
      description: 'From 2.51: `events` for everyone.',
    },
  ),
  Type.Object(
    { ...ACTION_FIELDS, updated_at: UPDATED_AT, events: Type.Array(InstanceActionEvent_2_1) },
    { ...closed, title: 'InstanceActionDetail_2_58', description: 'From 2.58: adds `updated_at`.' },
  ),
  Type.Object(
    { ...ACTION_FIELDS, updated_at: UPDATED_AT, events: Type.Array(InstanceActionEvent_2_62) },
    {
      ...closed,
      title: 'InstanceActionDetail_2_62',
      description: 'From 2.62: events add `host` and `hostId`.',
    },
  ),
  Type.Object(
    { ...ACTION_FIELDS, updated_at: UPDATED_AT, events: Type.Array(InstanceActionEvent_2_84) },
    {
      ...closed,
      title: 'InstanceActionDetail_2_84',
      description: 'From 2.84: events add `details`.',
    },
  ),
])

/** One action with its events at any microversion. */
export const InstanceActionDetailAny = Type.Object(
  { ...InstanceActionAny.properties, events: Type.Optional(Type.Array(InstanceActionEventAny)) },
  closed,
)

/** The list answer. */
export const InstanceActionListResponse = Type.Union([
  Type.Object(
    { instanceActions: Type.Array(InstanceAction_2_1) },
    { ...closed, description: 'Before 2.58.' },
  ),
  Type.Object(
    {
      instanceActions: Type.Array(InstanceAction_2_58),
      links: Type.Optional(
        Type.Array(Link, { description: 'A `next` link when the page is full.' }),
      ),
    },
    { ...closed, description: 'From 2.58 (paging, changes-since; changes-before from 2.66).' },
  ),
])

/** The show answer. */
export const InstanceActionShowResponse = Type.Object(
  { instanceAction: InstanceActionDetail },
  closed,
)

/** Path parameters of list. */
export const ListParams = Type.Object({
  project_id: Type.Optional(Type.String()),
  server_id: Type.String({ description: 'The server (instance) UUID.' }),
})

/** Path parameters of show. */
export const ShowParams = Type.Object({
  ...ListParams.properties,
  request_id: Type.String({ description: 'The request id of the action.' }),
})

/** Query parameters of list, for the document (validated by Nova's own rules, not by this schema). */
export const ListQuerystring = Type.Object({
  limit: Type.Optional(
    Type.String({ pattern: '^[0-9]*$', description: 'Page size, at most 1000 (since 2.58).' }),
  ),
  marker: Type.Optional(
    Type.String({
      description: 'Request id of the last action of the previous page (since 2.58).',
    }),
  ),
  'changes-since': Type.Optional(
    Type.String({
      format: 'date-time',
      description: 'Only actions updated at or after (since 2.58).',
    }),
  ),
  'changes-before': Type.Optional(
    Type.String({
      format: 'date-time',
      description: 'Only actions updated at or before (since 2.66).',
    }),
  ),
})

/** An action as the list shows it (any microversion). */
export type NovaInstanceAction = Static<typeof InstanceActionAny>
/** An event as show shows it (any microversion). */
export type NovaInstanceActionEvent = Static<typeof InstanceActionEventAny>
/** An action with its events, as show shows it (any microversion). */
export type NovaInstanceActionWithEvents = Static<typeof InstanceActionDetailAny>
/** The show answer (any microversion). */
export interface NovaInstanceActionDetail {
  instanceAction: NovaInstanceActionWithEvents
}
/** The list answer (any microversion). */
export interface NovaInstanceActionList {
  instanceActions: NovaInstanceAction[]
  links?: Static<typeof Link>[]
}
