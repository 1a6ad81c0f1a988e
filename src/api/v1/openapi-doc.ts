/**
 * The OpenAPI 3.1 document of the write API, built by hand (no swagger plugin) from the routes as
 * registered: each route's path, params and body schema are the very objects Fastify validates
 * with, and its `config.openapi` adds the summary and responses. The common error answers of every
 * write are added here once.
 */
import { WRITE_OPS, type WriteOpName } from '../../domain/write-operation.js'
import { MAX_BATCH_OPS } from './batch-parse.js'
import { batchOperationSchema, type JsonSchema } from './schemas.js'
import { ACTION_VIEW_SCHEMA, EVENT_VIEW_SCHEMA, INSTANCE_VIEW_SCHEMA } from './views.js'

/** One response of a route: a description and, when it has one, the body schema. */
export interface ResponseDoc {
  description: string
  schema?: JsonSchema
}

/** What a route adds to the document beyond its validation schemas. */
export interface RouteDoc {
  operationId: string
  summary: string
  description?: string
  /** Success answers and the route's own errors; the errors every write can answer are added. */
  responses: Readonly<Record<number, ResponseDoc>>
  /** For routes that read their body themselves (the batch): the request body object. */
  requestBody?: Record<string, unknown>
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Documentation of a /v1 route for GET /v1/openapi.json. */
    openapi?: RouteDoc
  }
}

/** The route fields the document is built from (a subset of Fastify's RouteOptions). */
export interface DocumentedRoute {
  method: string | string[]
  url: string
  schema?: { params?: unknown; body?: unknown }
  config?: { openapi?: RouteDoc }
}

/** A reference to a component schema. */
export function ref(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` }
}

/** A response body schema `{"<key>": <component>}`. */
export function wrapped(key: string, component: string): JsonSchema {
  return { type: 'object', properties: { [key]: ref(component) }, required: [key], additionalProperties: false }
}

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        status: { type: 'integer', description: 'The HTTP status.' },
        code: { type: 'string', description: 'Stable error code, e.g. `invalid_input`, `action_not_found`.' },
        message: { type: 'string', description: 'What went wrong, for humans.' },
      },
      required: ['status', 'code', 'message'],
      additionalProperties: false,
    },
  },
  required: ['error'],
  additionalProperties: false,
}

const BATCH_RESULT_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    status: { type: 'integer', description: "The status the operation's single endpoint would have answered." },
    error: { $ref: '#/components/schemas/Error/properties/error' },
  },
  required: ['status'],
  additionalProperties: false,
}

// Answers any write can give, whatever its route.
const COMMON_ERRORS: Readonly<Record<number, string>> = {
  400: 'Invalid input (`invalid_input`): schema violation, bad time, bad JSON, bad Idempotency-Key.',
  401: 'No or unknown X-Auth-Token (`unauthorized`).',
  403: 'The caller has neither the service nor the admin role (`forbidden`).',
  413: 'Body over the size limit (`payload_too_large`).',
  415: 'Unsupported Content-Type (`unsupported_media_type`).',
  422: 'The Idempotency-Key was used for a different request in the last 24 hours (`idempotency_key_reused`).',
}

function operation(route: DocumentedRoute, doc: RouteDoc): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = []
  const params = route.schema?.params as { properties?: Record<string, JsonSchema> } | undefined
  for (const [name, schema] of Object.entries(params?.properties ?? {})) {
    parameters.push({ name, in: 'path', required: true, schema })
  }
  parameters.push({ $ref: '#/components/parameters/IdempotencyKey' })

  const out: Record<string, unknown> = { operationId: doc.operationId, summary: doc.summary }
  if (doc.description) out.description = doc.description
  out.parameters = parameters
  const body = route.schema?.body as { required?: string[] } | undefined
  if (body) {
    out.requestBody = {
      // A body without required fields (the finish endpoints) may be left out.
      required: (body.required ?? []).length > 0,
      content: { 'application/json': { schema: body } },
    }
  } else if (doc.requestBody) {
    out.requestBody = doc.requestBody
  }
  const responses: Record<string, unknown> = {}
  const all: Record<number, ResponseDoc> = { ...doc.responses }
  for (const [status, description] of Object.entries(COMMON_ERRORS)) {
    all[Number(status)] ??= { description, schema: ref('Error') }
  }
  for (const status of Object.keys(all).map(Number).sort((a, b) => a - b)) {
    const r = all[status] as ResponseDoc
    responses[String(status)] = r.schema
      ? { description: r.description, content: { 'application/json': { schema: r.schema } } }
      : { description: r.description }
  }
  out.responses = responses
  return out
}

// instance_put → InstancePutOperation
function operationComponent(op: WriteOpName): string {
  return `${op.replace(/(^|_)(\w)/g, (_m, _sep: string, c: string) => c.toUpperCase())}Operation`
}

/** The OpenAPI 3.1 document for the documented routes. */
export function buildOpenApiDocument(routes: readonly DocumentedRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    const doc = route.config?.openapi
    if (!doc) continue
    const path = route.url.replace(/:(\w+)/g, '{$1}')
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const m of methods) {
      const method = m.toLowerCase()
      if (method === 'head') continue
      const entry = (paths[path] ??= {})
      entry[method] = operation(route, doc)
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ActionTrail write API',
      version: '1',
      description:
        'Records instances, actions and events (the write side of the Nova-compatible /v2.1 ' +
        'os-instance-actions API). Every route needs an X-Auth-Token with the service or admin role. ' +
        'Errors are `{"error": {"status", "code", "message"}}`. Writes may carry an Idempotency-Key.',
    },
    security: [{ authToken: [] }],
    paths,
    components: {
      securitySchemes: { authToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' } },
      parameters: {
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'Makes a retry safe: for 24 hours the same caller, key and request (method, path, body) ' +
            'get the first answer again, with `Idempotent-Replayed: true`; another request with the ' +
            'key is refused (422). 1 to 255 printable ASCII characters.',
          schema: { type: 'string', minLength: 1, maxLength: 255 },
        },
      },
      schemas: {
        Instance: INSTANCE_VIEW_SCHEMA,
        Action: ACTION_VIEW_SCHEMA,
        Event: EVENT_VIEW_SCHEMA,
        Error: ERROR_SCHEMA,
        ...Object.fromEntries(WRITE_OPS.map((op) => [operationComponent(op), batchOperationSchema(op)])),
        BatchOperation: {
          oneOf: WRITE_OPS.map((op) => ref(operationComponent(op))),
          discriminator: {
            propertyName: 'op',
            mapping: Object.fromEntries(WRITE_OPS.map((op) => [op, `#/components/schemas/${operationComponent(op)}`])),
          },
        },
        BatchRequest: { type: 'array', items: ref('BatchOperation'), maxItems: MAX_BATCH_OPS },
        BatchResult: BATCH_RESULT_SCHEMA,
        BatchResponse: {
          type: 'object',
          properties: { results: { type: 'array', items: ref('BatchResult') } },
          required: ['results'],
          additionalProperties: false,
        },
      },
    },
  }
}
