/**
 * The field rules of the write API, written once with TypeBox. The single endpoints' path and body
 * schemas, the batch operations' schemas, the handlers' input types and the OpenAPI document all
 * come from the same objects, so a field is checked the same way wherever it arrives. The schemas
 * check shape only (types, lengths, no unknown fields); the ActionService still validates meaning
 * (UUIDs, printable names, times).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { Type, type Static, type TObject, type TProperties } from 'typebox'
import { MAX_NAME_LENGTH } from '../../domain/validation.js'
import { WRITE_OPS, type WriteOpName, type WriteOperation } from '../../domain/write-operation.js'

/** Longest raw `details` accepted; the service cuts what it stores to 255 UTF-8 bytes. */
export const MAX_RAW_DETAILS_LENGTH = 64 * 1024

/** Longest raw `traceback` accepted; the sanitizer caps what it stores at 64 KiB. */
export const MAX_RAW_TRACEBACK_LENGTH = 1024 * 1024

// Body limits, per route by what its fields need (issue 9: a limit is memory and parsing time
// that any caller may make the server spend, so none is larger than its route can use).

/**
 * Body limit of the single endpoints without free text (instance put, action start and finish,
 * event start), in bytes: 64 KiB. Their fields are at most 255 UTF-16 units (names) or 64 (times);
 * even with every one written as a `\uXXXX` escape (6 bytes), the largest body (action start:
 * four names and a time) is under 7 KB, so 64 KiB is ample. Was 1 MiB.
 */
export const SINGLE_BODY_LIMIT = 64 * 1024

/**
 * Body limit of `POST …/events/{event}/finish`, in bytes: 2 MiB + 256 KiB. It must carry the
 * longest traceback and details the schema accepts (1 Mi and 64 Ki characters) in the form real
 * ones take — ASCII text whose line breaks, quotes and backslashes JSON escapes, at most 2 bytes a
 * character — which is 2 × (1 Mi + 64 Ki) bytes = 2.125 MiB, plus room for the other fields. The
 * old 1 MiB limit refused tracebacks the schema allowed. A traceback near the character limit
 * made mostly of non-ASCII or escaped control characters can exceed it (413): the stored text is
 * cut to 64 KiB anyway, so a recorder loses nothing by sending less.
 */
export const EVENT_FINISH_BODY_LIMIT = 2 * 1024 * 1024 + 256 * 1024

/**
 * Body limit of `POST /v1/batch`, in bytes: 32 MiB. A batch holds at most 100,000 operations
 * (MAX_BATCH_OPS); a typical operation is 170–280 bytes of JSON (measured on 2026-12-06: action
 * finish 170, instance put 193, event finish 222, event start 232, action start 279, with
 * Keystone-style ids and microsecond times), so 100,000 of the largest fill 27 MiB, and 32 MiB
 * leaves 5 MiB for failure texts. Clients send far less (the buffered writer's default batch is
 * 1 MiB). Was 64 MiB; halving it halves the worst-case memory and sanitizing a batch can cost.
 */
export const BATCH_BODY_LIMIT = 32 * 1024 * 1024

// Longer than any ISO 8601 form parseTimestamp accepts, so a bound that never rejects a valid time.
const MAX_TIME_LENGTH = 64

const closed = { additionalProperties: false } as const

function name(description: string) {
  return Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH, description })
}

// `type: ['string', 'null']` rather than TypeBox's anyOf: Ajv then reports one plain message
// ("must be string,null") instead of one per branch, as the API always has.
function nullable(schema: Record<string, unknown>, description: string) {
  return Type.Unsafe<string | null>({ ...schema, type: ['string', 'null'], description })
}

function nullableName(description: string) {
  return nullable({ minLength: 1, maxLength: MAX_NAME_LENGTH }, description)
}

function time(description: string) {
  return Type.String({
    minLength: 1,
    maxLength: MAX_TIME_LENGTH,
    description: `${description} ISO 8601, up to microsecond precision; UTC when no zone is given. Defaults to now.`,
    examples: ['2026-01-31T12:34:56.123456Z'],
  })
}

const INSTANCE_UUID = Type.String({
  minLength: 1,
  maxLength: 36,
  description: 'The instance UUID (hyphenated or 32 hex digits).',
})
const REQUEST_ID = name('The request id of the action (e.g. `req-…`).')
const EVENT = name('The event name (e.g. `compute_reboot_instance`).')

/** Path parameters of `/instances/{uuid}`. */
export const InstanceParams = Type.Object({ uuid: INSTANCE_UUID })
/** Path parameters of `/instances/{uuid}/actions/{request_id}/…`. */
export const ActionParams = Type.Object({ uuid: INSTANCE_UUID, request_id: REQUEST_ID })
/** Path parameters of `/instances/{uuid}/actions/{request_id}/events/{event}/…`. */
export const EventParams = Type.Object({
  uuid: INSTANCE_UUID,
  request_id: REQUEST_ID,
  event: EVENT,
})

/** Body of `PUT /instances/{uuid}`. */
export const InstancePutBody = Type.Object(
  {
    name: name('Display name of the instance.'),
    project_id: name('Project that owns the instance.'),
    user_id: name('User that owns the instance.'),
  },
  closed,
)

/** Body of `POST /instances/{uuid}/actions`. */
export const ActionStartBody = Type.Object(
  {
    action: name('The action name (e.g. `reboot`).'),
    request_id: name('The request id of the API request that started the action.'),
    user_id: nullableName('User who started the action; null for periodic tasks.'),
    project_id: nullableName('Project of that user; null for periodic tasks.'),
    start_time: Type.Optional(time('When the action started.')),
  },
  closed,
)

/** Body of `POST …/actions/{request_id}/finish` (may be left out). */
export const ActionFinishBody = Type.Object(
  { finish_time: Type.Optional(time('When the action finished.')) },
  closed,
)

/** Body of `POST …/actions/{request_id}/events`. */
export const EventStartBody = Type.Object(
  {
    event: EVENT,
    host: Type.Optional(nullableName('The service host that runs the event.')),
    start_time: Type.Optional(
      time('When the event started; a retry with the same event and start_time is a no-op.'),
    ),
  },
  closed,
)

/** Body of `POST …/events/{event}/finish`. */
export const EventFinishBody = Type.Object(
  {
    result: Type.Unsafe<'Success' | 'Error'>({
      type: 'string',
      enum: ['Success', 'Error'],
      description: 'The outcome of the event.',
    }),
    finish_time: Type.Optional(time('When the event finished.')),
    details: Type.Optional(
      nullable(
        { maxLength: MAX_RAW_DETAILS_LENGTH },
        'Public fault message (result Error only); secrets masked, cut to 255 UTF-8 bytes.',
      ),
    ),
    traceback: Type.Optional(
      nullable(
        { maxLength: MAX_RAW_TRACEBACK_LENGTH },
        'Stack frames of the failure (result Error only); sanitized before it is stored.',
      ),
    ),
  },
  closed,
)

const INSTANCE_PATH = { instance_uuid: INSTANCE_UUID }
const ACTION_PATH = { ...INSTANCE_PATH, request_id: REQUEST_ID }
const EVENT_PATH = { ...ACTION_PATH, event: EVENT }

function batchOperation<Op extends WriteOpName, P extends TProperties>(op: Op, properties: P) {
  return Type.Object({ op: Type.Literal(op), ...properties }, { ...closed, title: op })
}

/**
 * The schema of each operation in a batch: `op`, its URL fields (named as here) and its body
 * fields, nothing else.
 */
export const BATCH_OPERATIONS = {
  instance_put: batchOperation('instance_put', { ...INSTANCE_PATH, ...InstancePutBody.properties }),
  instance_delete: batchOperation('instance_delete', INSTANCE_PATH),
  action_start: batchOperation('action_start', { ...INSTANCE_PATH, ...ActionStartBody.properties }),
  action_finish: batchOperation('action_finish', {
    ...ACTION_PATH,
    ...ActionFinishBody.properties,
  }),
  event_start: batchOperation('event_start', { ...ACTION_PATH, ...EventStartBody.properties }),
  event_finish: batchOperation('event_finish', { ...EVENT_PATH, ...EventFinishBody.properties }),
} satisfies Record<WriteOpName, TObject>

/** One operation of a batch, after validation. */
export type BatchOperation = {
  [Op in WriteOpName]: Static<(typeof BATCH_OPERATIONS)[Op]>
}[WriteOpName]

/** The batch request, for the document: an array of operations (NDJSON carries one per line). */
export const BatchRequest = Type.Array(Type.Union(WRITE_OPS.map((op) => BATCH_OPERATIONS[op])), {
  description: 'Write operations, applied in order.',
})

/**
 * The validator used for /v1: nothing is coerced, defaulted or silently removed (Fastify's own
 * defaults would strip unknown fields instead of rejecting them), and the first error is reported.
 */
export const v1Ajv = new Ajv({
  allErrors: false,
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false,
  allowUnionTypes: true,
  strict: true,
})

/** Fastify's default validation message, e.g. `body must have required property 'action'`. */
export function formatValidationErrors(errors: readonly ErrorObject[], dataVar: string): string {
  return errors.map((e) => `${dataVar}${e.instancePath} ${e.message ?? 'is invalid'}`).join(', ')
}

const validateOpName: ValidateFunction = v1Ajv.compile(
  Type.Object({ op: Type.String({ enum: [...WRITE_OPS] }) }),
)

const validateOperation = Object.fromEntries(
  WRITE_OPS.map((op) => [op, v1Ajv.compile(BATCH_OPERATIONS[op])]),
) as Record<WriteOpName, ValidateFunction>

/** A batch item after validation: a write operation, or why it is not one. */
export type ParsedOperation =
  { ok: true; operation: WriteOperation } | { ok: false; message: string }

/** Validates one batch item (already parsed JSON) by its operation's rules. */
export function parseOperation(value: unknown): ParsedOperation {
  if (!validateOpName(value)) {
    return { ok: false, message: formatValidationErrors(validateOpName.errors ?? [], 'operation') }
  }
  const validate = validateOperation[(value as { op: WriteOpName }).op]
  if (!validate(value))
    return { ok: false, message: formatValidationErrors(validate.errors ?? [], 'operation') }
  return { ok: true, operation: toWriteOperation(value as BatchOperation) }
}

/** The write operation of a validated batch operation (a single endpoint builds one from its URL and body). */
export function toWriteOperation(f: BatchOperation): WriteOperation {
  switch (f.op) {
    case 'instance_put':
      return {
        op: f.op,
        input: { uuid: f.instance_uuid, name: f.name, projectId: f.project_id, userId: f.user_id },
      }
    case 'instance_delete':
      return { op: f.op, input: { uuid: f.instance_uuid } }
    case 'action_start':
      return {
        op: f.op,
        input: {
          instanceUuid: f.instance_uuid,
          action: f.action,
          requestId: f.request_id,
          userId: f.user_id,
          projectId: f.project_id,
          startTime: f.start_time,
        },
      }
    case 'action_finish':
      return {
        op: f.op,
        input: {
          instanceUuid: f.instance_uuid,
          requestId: f.request_id,
          finishTime: f.finish_time,
        },
      }
    case 'event_start':
      return {
        op: f.op,
        input: {
          instanceUuid: f.instance_uuid,
          requestId: f.request_id,
          event: f.event,
          host: f.host ?? null,
          startTime: f.start_time,
        },
      }
    case 'event_finish':
      return {
        op: f.op,
        input: {
          instanceUuid: f.instance_uuid,
          requestId: f.request_id,
          event: f.event,
          result: f.result,
          finishTime: f.finish_time,
          details: f.details ?? null,
          traceback: f.traceback ?? null,
        },
      }
  }
}
