/**
 * The field rules of the write API, defined once. The single endpoints' path and body schemas, the
 * batch operations' schemas and the OpenAPI document are all built from the same objects, so a
 * field is checked the same way wherever it arrives. The schemas check shape only (types, lengths,
 * no unknown fields); the ActionService still validates meaning (UUIDs, printable names, times).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import type { EventResult } from '../../domain/instance-action.js'
import { MAX_NAME_LENGTH } from '../../domain/validation.js'
import { WRITE_OPS, type WriteOpName, type WriteOperation } from '../../domain/write-operation.js'

/** A JSON Schema object (draft 2020-12 / OpenAPI 3.1 compatible subset). */
export type JsonSchema = Record<string, unknown>

/** Body limit of the single endpoints, in bytes. */
export const SINGLE_BODY_LIMIT = 1024 * 1024

/** Body limit of `POST /v1/batch`, in bytes. */
export const BATCH_BODY_LIMIT = 64 * 1024 * 1024

/** Longest raw `details` accepted; the service cuts what it stores to 255 UTF-8 bytes. */
export const MAX_RAW_DETAILS_LENGTH = 64 * 1024

/** Longest raw `traceback` accepted; the sanitizer caps what it stores at 64 KiB. */
export const MAX_RAW_TRACEBACK_LENGTH = 1024 * 1024

// Longer than any ISO 8601 form parseTimestamp accepts, so a bound that never rejects a valid time.
const MAX_TIME_LENGTH = 64

function name(description: string): JsonSchema {
  return { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH, description }
}

function nullableName(description: string): JsonSchema {
  return { type: ['string', 'null'], minLength: 1, maxLength: MAX_NAME_LENGTH, description }
}

function time(description: string): JsonSchema {
  return {
    type: 'string',
    minLength: 1,
    maxLength: MAX_TIME_LENGTH,
    description: `${description} ISO 8601, up to microsecond precision; UTC when no zone is given. Defaults to now.`,
    examples: ['2026-01-31T12:34:56.123456Z'],
  }
}

/** The fields a single endpoint takes from its URL path (a batch operation carries them inline). */
export type PathField = 'instance_uuid' | 'request_id' | 'event'

/** Rules of the path fields, by field name. */
export const PATH_FIELDS: Readonly<Record<PathField, JsonSchema>> = {
  instance_uuid: {
    type: 'string',
    minLength: 1,
    maxLength: 36,
    description: 'The instance UUID (hyphenated or 32 hex digits).',
  },
  request_id: name('The request id of the action (e.g. `req-…`).'),
  event: name('The event name (e.g. `compute_reboot_instance`).'),
}

/** The URL parameter that carries each path field (the contract's `/instances/{uuid}`). */
export const PATH_PARAM: Readonly<Record<PathField, string>> = {
  instance_uuid: 'uuid',
  request_id: 'request_id',
  event: 'event',
}

/** The body fields of one write operation. */
export interface OpSpec {
  /** Path fields, in URL order. */
  readonly path: readonly PathField[]
  /** Body fields and their rules. */
  readonly properties: Readonly<Record<string, JsonSchema>>
  /** Body fields that must be present. */
  readonly required: readonly string[]
}

/** Every write operation's fields: the one definition the endpoints and the batch share. */
export const OP_SPECS: Readonly<Record<WriteOpName, OpSpec>> = {
  instance_put: {
    path: ['instance_uuid'],
    properties: {
      name: name('Display name of the instance.'),
      project_id: name('Project that owns the instance.'),
      user_id: name('User that owns the instance.'),
    },
    required: ['name', 'project_id', 'user_id'],
  },
  instance_delete: { path: ['instance_uuid'], properties: {}, required: [] },
  action_start: {
    path: ['instance_uuid'],
    properties: {
      action: name('The action name (e.g. `reboot`).'),
      request_id: name('The request id of the API request that started the action.'),
      user_id: nullableName('User who started the action; null for periodic tasks.'),
      project_id: nullableName('Project of that user; null for periodic tasks.'),
      start_time: time('When the action started.'),
    },
    required: ['action', 'request_id', 'user_id', 'project_id'],
  },
  action_finish: {
    path: ['instance_uuid', 'request_id'],
    properties: { finish_time: time('When the action finished.') },
    required: [],
  },
  event_start: {
    path: ['instance_uuid', 'request_id'],
    properties: {
      event: name('The event name (e.g. `compute_reboot_instance`).'),
      host: nullableName('The service host that runs the event.'),
      start_time: time('When the event started; a retry with the same event and start_time is a no-op.'),
    },
    required: ['event'],
  },
  event_finish: {
    path: ['instance_uuid', 'request_id', 'event'],
    properties: {
      result: { type: 'string', enum: ['Success', 'Error'], description: 'The outcome of the event.' },
      finish_time: time('When the event finished.'),
      details: {
        type: ['string', 'null'],
        maxLength: MAX_RAW_DETAILS_LENGTH,
        description: 'Public fault message (result Error only); secrets masked, cut to 255 UTF-8 bytes.',
      },
      traceback: {
        type: ['string', 'null'],
        maxLength: MAX_RAW_TRACEBACK_LENGTH,
        description: 'Stack frames of the failure (result Error only); sanitized before it is stored.',
      },
    },
    required: ['result'],
  },
}

/** The body schema of an operation's single endpoint. */
export function bodySchema(op: WriteOpName): JsonSchema {
  const spec = OP_SPECS[op]
  return { type: 'object', additionalProperties: false, properties: spec.properties, required: [...spec.required] }
}

/** The path-parameter schema of an operation's single endpoint. */
export function paramsSchema(op: WriteOpName): JsonSchema {
  const path = OP_SPECS[op].path
  return {
    type: 'object',
    properties: Object.fromEntries(path.map((f) => [PATH_PARAM[f], PATH_FIELDS[f]])),
    required: path.map((f) => PATH_PARAM[f]),
  }
}

/** The schema of an operation in a batch: `op`, its path fields and its body fields, nothing else. */
export function batchOperationSchema(op: WriteOpName): JsonSchema {
  const spec = OP_SPECS[op]
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      op: { const: op },
      ...Object.fromEntries(spec.path.map((f) => [f, PATH_FIELDS[f]])),
      ...spec.properties,
    },
    required: ['op', ...spec.path, ...spec.required],
  }
}

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

const validateOpName: ValidateFunction = v1Ajv.compile({
  type: 'object',
  properties: { op: { type: 'string', enum: [...WRITE_OPS] } },
  required: ['op'],
})

const validateOperation = Object.fromEntries(
  WRITE_OPS.map((op) => [op, v1Ajv.compile(batchOperationSchema(op))]),
) as Record<WriteOpName, ValidateFunction>

/** A batch item after validation: a write operation, or why it is not one. */
export type ParsedOperation = { ok: true; operation: WriteOperation } | { ok: false; message: string }

/** Validates one batch item (already parsed JSON) by its operation's rules. */
export function parseOperation(value: unknown): ParsedOperation {
  if (!validateOpName(value)) {
    return { ok: false, message: formatValidationErrors(validateOpName.errors ?? [], 'operation') }
  }
  const fields = value as Record<string, unknown>
  const op = fields.op as WriteOpName
  const validate = validateOperation[op]
  if (!validate(fields)) return { ok: false, message: formatValidationErrors(validate.errors ?? [], 'operation') }
  return { ok: true, operation: toWriteOperation(op, fields) }
}

function str(value: unknown): string {
  return value as string
}

function optStr(value: unknown): string | undefined {
  return value as string | undefined
}

function nullable(value: unknown): string | null {
  return (value as string | null | undefined) ?? null
}

/**
 * The write operation for schema-checked snake_case fields (`instance_uuid`, `request_id`, … as a
 * batch operation carries them; a single endpoint merges its path parameters into its body).
 */
export function toWriteOperation(op: WriteOpName, f: Readonly<Record<string, unknown>>): WriteOperation {
  switch (op) {
    case 'instance_put':
      return {
        op,
        input: { uuid: str(f.instance_uuid), name: str(f.name), projectId: str(f.project_id), userId: str(f.user_id) },
      }
    case 'instance_delete':
      return { op, input: { uuid: str(f.instance_uuid) } }
    case 'action_start':
      return {
        op,
        input: {
          instanceUuid: str(f.instance_uuid),
          action: str(f.action),
          requestId: str(f.request_id),
          userId: nullable(f.user_id),
          projectId: nullable(f.project_id),
          startTime: optStr(f.start_time),
        },
      }
    case 'action_finish':
      return { op, input: { instanceUuid: str(f.instance_uuid), requestId: str(f.request_id), finishTime: optStr(f.finish_time) } }
    case 'event_start':
      return {
        op,
        input: {
          instanceUuid: str(f.instance_uuid),
          requestId: str(f.request_id),
          event: str(f.event),
          host: nullable(f.host),
          startTime: optStr(f.start_time),
        },
      }
    case 'event_finish':
      return {
        op,
        input: {
          instanceUuid: str(f.instance_uuid),
          requestId: str(f.request_id),
          event: str(f.event),
          result: f.result as EventResult,
          finishTime: optStr(f.finish_time),
          details: nullable(f.details),
          traceback: nullable(f.traceback),
        },
      }
  }
}

/** The snake_case fields of a single endpoint's request: its path parameters merged into its body. */
export function endpointFields(
  op: WriteOpName,
  params: Readonly<Record<string, string>>,
  body: unknown,
): Record<string, unknown> {
  const fields: Record<string, unknown> = { ...(body !== null && typeof body === 'object' ? body : {}) }
  for (const f of OP_SPECS[op].path) fields[f] = params[PATH_PARAM[f]]
  return fields
}
