/**
 * `POST /v1/batch`: many write operations in one request, as a JSON array or as NDJSON, applied in
 * order. Each operation is answered at its index with the status its single endpoint would give;
 * a malformed one is a 400 there and does not stop the others.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { applyBatch, BATCH_CHUNK_SIZE } from '../apply.js'
import { jsonArrayItems, MAX_BATCH_OPS, NdjsonBody, ndjsonItems } from '../batch-parse.js'
import { described } from '../../described.js'
import { doNotRemember } from '../idempotency.js'
import { BatchResponse, IdempotencyHeaders, v1ErrorResponse, v1Responses } from '../responses.js'
import { BATCH_BODY_LIMIT, BatchRequest, parseOperation, type ParsedOperation } from '../schemas.js'
import { decodeUtf8Body } from '../utf8-body.js'
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

/** Registers the batch route, with its NDJSON parser (accepted here only). */
export const batchRoutes: FastifyPluginAsyncTypebox<WriteRoutesOptions> = async (
  app,
  { service },
) => {
  app.addContentTypeParser(NDJSON_MEDIA_TYPE, { parseAs: 'buffer' }, (request, body, done) => {
    let text: string
    try {
      text = decodeUtf8Body(body as Buffer)
    } catch (err) {
      done(err as Error, undefined)
      return
    }
    request.rawBody = text
    done(null, new NdjsonBody(text))
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
          `atomic on its own. At most ${MAX_BATCH_OPS} operations and ${BATCH_BODY_LIMIT} bytes. ` +
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
      const items =
        request.body instanceof NdjsonBody
          ? ndjsonItems(request.body.text)
          : jsonArrayItems(request.body)
      const operations = items.map((item): ParsedOperation =>
        item.ok ? parseOperation(item.value) : item,
      )
      const { results, complete } = await applyBatch(service, operations, request.log)
      // A batch cut short by a store failure must run again on retry, not replay the failure.
      if (!complete) doNotRemember(request)
      return reply.code(200).send({ results })
    },
  )
}
