/**
 * `POST /v1/batch`: many write operations in one request, as a JSON array or as NDJSON, applied in
 * order. Each operation is answered at its index with the status its single endpoint would give;
 * a malformed one is a 400 there and does not stop the others.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Readable } from 'node:stream'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { AppError } from '../../../domain/errors.js'
import { applyBatch, BATCH_CHUNK_SIZE } from '../apply.js'
import { writerOf } from '../principal-writer.js'
import { BatchBody, MAX_BATCH_OPS, MAX_JSON_DEPTH, readBatchBody } from '../batch-parse.js'
import { described } from '../../described.js'
import { doNotRemember, idempotencyRequestHasher } from '../idempotency.js'
import { BatchResponse, IdempotencyHeaders, v1ErrorResponse, v1Responses } from '../responses.js'
import { BATCH_BODY_LIMIT, BatchRequest } from '../schemas.js'
import type { WriteRoutesOptions } from './instances.js'

/** Media type of an NDJSON batch. */
export const NDJSON_MEDIA_TYPE = 'application/x-ndjson'

// The body is read by the route itself (a bad item is answered at its index, not by a 400 for the
// whole request), so its schema is given to the OpenAPI document only.
const DOCUMENTED_BODY = {
  content: {
    'application/json': { schema: BatchRequest },
    [NDJSON_MEDIA_TYPE]: {
      schema: Type.String({
        description: 'One operation per line, as in the JSON array; blank lines are ignored.',
      }),
    },
  },
}

/** Registers the batch route, with its streaming JSON and NDJSON parsers (NDJSON is accepted here only). */
export const batchRoutes: FastifyPluginAsyncTypebox<WriteRoutesOptions> = async (app) => {
  // Requests whose body was refused before it was read: their answer closes the connection, so
  // that the rest of the upload is neither read nor kept (and the socket is free at once).
  const unread = new WeakSet<FastifyRequest>()

  // The batch reads its own body as a stream, in both forms (this scope only: the single
  // endpoints keep the buffered JSON parser of the write routes).
  app.removeContentTypeParser('application/json')
  for (const [type, form] of [
    ['application/json', 'json'],
    [NDJSON_MEDIA_TYPE, 'ndjson'],
  ] as const) {
    app.addContentTypeParser(type, (request: FastifyRequest, payload: Readable) => {
      const state = request.idempotency
      const hash = state
        ? idempotencyRequestHasher(request.method, request.url.split('?')[0] ?? '')
        : undefined
      return readBatchBody(payload, {
        form,
        contentLength: request.headers['content-length'],
        limit: BATCH_BODY_LIMIT,
        ...(hash ? { hash } : {}),
      }).then(
        (body) => {
          if (state && hash) state.requestHash = hash.digest('hex')
          return body
        },
        (err: unknown) => {
          unread.add(request)
          throw err
        },
      )
    })
  }
  app.addHook('onSend', async (request, reply, payload) => {
    if (unread.has(request)) reply.header('connection', 'close')
    return payload
  })

  app.post(
    '/batch',
    {
      bodyLimit: BATCH_BODY_LIMIT,
      config: {
        swaggerTransform: ({ schema, url }) => ({
          schema: { ...schema, body: DOCUMENTED_BODY },
          url,
        }),
      },
      schema: {
        operationId: 'batch',
        summary: 'Apply many write operations',
        description:
          `Operations are applied in request order, ${BATCH_CHUNK_SIZE} per transaction; each one is ` +
          `atomic on its own. At most ${MAX_BATCH_OPS} operations and ${BATCH_BODY_LIMIT} bytes, ` +
          `nested at most ${MAX_JSON_DEPTH} levels. ` +
          'A malformed operation (bad JSON line, unknown op or field, wrong type) is answered 400 at ' +
          'its index and the others still apply. If the store fails, the operations from the failed ' +
          'chunk on are answered with its 5xx and were not applied.',
        tags: ['batch'],
        headers: IdempotencyHeaders,
        response: v1Responses({
          200: described(BatchResponse, 'One result per operation, in request order.'),
          413: v1ErrorResponse(
            `Body over ${BATCH_BODY_LIMIT} bytes or more than ${MAX_BATCH_OPS} operations.`,
          ),
        }),
      },
    },
    async (request, reply) => {
      const body: unknown = request.body
      // Not read by the parser: there was no body and no content type.
      if (!(body instanceof BatchBody))
        throw new AppError('invalid_input', 'body must be a JSON array of operations')
      const operations = body.operations
      const { results, complete } = await applyBatch(writerOf(request), operations, request.log)
      // A batch cut short by a store failure must run again on retry, not replay the failure.
      if (!complete) doNotRemember(request)
      return reply.code(200).send({ results })
    },
  )
}
