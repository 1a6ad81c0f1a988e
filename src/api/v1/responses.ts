/** The /v1 error and batch answers, and the error responses every write documents. */
import { Type, type Static, type TSchema } from 'typebox'
import { DEFAULT_IDEMPOTENCY_LIMITS } from './idempotency-limits.js'

const closed = { additionalProperties: false } as const

/** `{"error": {"status", "code", "message"}}`. */
export const V1Error = Type.Object(
  {
    error: Type.Object(
      {
        status: Type.Integer({ description: 'The HTTP status.' }),
        code: Type.String({
          description: 'Stable error code, e.g. `invalid_input`, `action_not_found`.',
        }),
        message: Type.String({ description: 'What went wrong, for humans.' }),
      },
      closed,
    ),
  },
  { ...closed, title: 'Error' },
)

/** The `error` member of a /v1 error body. */
export type V1ErrorObject = Static<typeof V1Error>['error']

/** What became of one batch operation. */
export const BatchResultSchema = Type.Object(
  {
    status: Type.Integer({
      description: "The status the operation's single endpoint would have answered.",
    }),
    error: Type.Optional(V1Error.properties.error),
  },
  { ...closed, title: 'BatchResult' },
)

/** `{"results": [...]}`, one per operation, in request order. */
export const BatchResponse = Type.Object({ results: Type.Array(BatchResultSchema) }, closed)

/** What became of one batch operation. */
export type BatchResult = Static<typeof BatchResultSchema>

const IDEMPOTENCY_NOT_KEPT =
  'A retry under an Idempotency-Key whose answer was too large to keep (`idempotency_answer_not_kept`): ' +
  'the request was already answered with the status in the message, and is not run again.'
const TOO_MANY =
  'The caller (user and project) sent requests faster than ACTIONTRAIL_RATE_LIMIT allows ' +
  '(`rate_limited`); nothing ran. Retry after `Retry-After` seconds. Or, on a write: '
const IDEMPOTENCY_QUOTA =
  "the caller's remembered Idempotency-Key answers fill its allowance (`idempotency_quota_exceeded`); " +
  'nothing ran. Retry after `Retry-After` seconds, or without a key.'

/** The 409 of a write with its own conflicts: theirs, and a retry whose answer was not kept. */
export function conflictDescription(own: string): string {
  return `${own} Or: ${IDEMPOTENCY_NOT_KEPT}`
}

// Answers any write can give, whatever its route.
const COMMON_ERRORS: Readonly<Record<number, string>> = {
  400: 'Invalid input (`invalid_input`): schema violation, bad time, bad JSON, bad Idempotency-Key.',
  401: 'No or unknown X-Auth-Token (`unauthorized`).',
  403:
    'The caller may not write (`forbidden`): neither the service nor the admin role, or ' +
    "the instance's project or the event's host is outside its scope (docs/identity.md).",
  404: 'No such route, or a path segment longer than any id (`not_found`).',
  408: 'The request did not arrive within the request timeout (`request_timeout`); the connection is closed.',
  413: 'Body over the size limit (`payload_too_large`).',
  415: 'Unsupported Content-Type (`unsupported_media_type`).',
  409: IDEMPOTENCY_NOT_KEPT,
  422: 'The Idempotency-Key was used for a different request in the last 24 hours (`idempotency_key_reused`).',
  429: TOO_MANY + IDEMPOTENCY_QUOTA,
  431: 'Headers over 16 KiB (`request_header_fields_too_large`); the connection is closed.',
  500: 'Unexpected failure (`internal`); the cause is logged, never shown.',
  503: 'The store is unavailable (`store_unavailable`); safe to retry.',
}

/** An error response with its description. */
export function v1ErrorResponse(description: string) {
  return Type.Object(V1Error.properties, { ...closed, description })
}

/** A write route's responses: its own, plus every error any write can answer. */
export function v1Responses<T extends Record<number, TSchema>>(
  own: T,
): T & Record<number, TSchema> {
  const out: Record<number, TSchema> = { ...own }
  for (const [status, description] of Object.entries(COMMON_ERRORS))
    out[Number(status)] ??= v1ErrorResponse(description)
  return out as T & Record<number, TSchema>
}

/** The Idempotency-Key header, documented on every write. */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description:
        'Makes a retry safe: for 24 hours the same caller, key and request (method, path, body) get the ' +
        'first answer again, with `Idempotent-Replayed: true`; another request with the key is refused ' +
        '(422). 1 to 255 printable ASCII characters. Answers are kept compressed, at most ' +
        `${DEFAULT_IDEMPOTENCY_LIMITS.maxAnswerBytes / 1024} KiB per key: a retry of a request whose answer ` +
        'was larger gets 409 `idempotency_answer_not_kept` (with the first status), never a second run. ' +
        'Each caller (user and project) may have at most ' +
        `${DEFAULT_IDEMPOTENCY_LIMITS.maxCallerBytes / 1024 / 1024} MiB ` +
        `remembered (answers plus ${DEFAULT_IDEMPOTENCY_LIMITS.recordOverheadBytes} bytes per key); a new key ` +
        'that could pass it is refused before it runs, 429 `idempotency_quota_exceeded` with `Retry-After`.',
    }),
  ),
})
