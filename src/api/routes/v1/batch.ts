/**
 * `POST /v1/batch`: many write operations in one request, as a JSON array or as NDJSON, applied in
 * order. Each operation is answered at its index with the status its single endpoint would give;
 * a malformed one is a 400 there and does not stop the others.
 */
import type { FastifyInstance } from 'fastify'
import type { ActionService } from '../../../domain/action-service.js'
import { applyBatch, BATCH_CHUNK_SIZE } from '../../v1/apply.js'
import { jsonArrayItems, MAX_BATCH_OPS, NdjsonBody, ndjsonItems } from '../../v1/batch-parse.js'
import { doNotRemember } from '../../v1/idempotency.js'
import { ref } from '../../v1/openapi-doc.js'
import { BATCH_BODY_LIMIT, parseOperation, type ParsedOperation } from '../../v1/schemas.js'

/** Media type of an NDJSON batch. */
export const NDJSON_MEDIA_TYPE = 'application/x-ndjson'

/** Registers the batch route, with its NDJSON parser (accepted here only). */
export function batchRoutes(service: ActionService) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.addContentTypeParser(NDJSON_MEDIA_TYPE, { parseAs: 'string' }, (request, body, done) => {
      request.rawBody = body as string
      done(null, new NdjsonBody(body as string))
    })

    app.post(
      '/batch',
      {
        bodyLimit: BATCH_BODY_LIMIT,
        config: {
          openapi: {
            operationId: 'batch',
            summary: 'Apply many write operations',
            description:
              `Operations are applied in request order, ${BATCH_CHUNK_SIZE} per transaction; each one is ` +
              `atomic on its own. At most ${MAX_BATCH_OPS} operations and ${BATCH_BODY_LIMIT} bytes. ` +
              'A malformed operation (bad JSON line, unknown op or field, wrong type) is answered 400 at ' +
              'its index and the others still apply. If the store fails, the operations from the failed ' +
              'chunk on are answered with its 5xx and were not applied.',
            requestBody: {
              required: true,
              content: {
                'application/json': { schema: ref('BatchRequest') },
                [NDJSON_MEDIA_TYPE]: {
                  schema: { type: 'string', description: 'One BatchOperation per line; blank lines are ignored.' },
                },
              },
            },
            responses: {
              200: { description: 'One result per operation, in request order.', schema: ref('BatchResponse') },
              413: { description: `Body over ${BATCH_BODY_LIMIT} bytes or more than ${MAX_BATCH_OPS} operations.`, schema: ref('Error') },
            },
          },
        },
      },
      async (request, reply) => {
        const items = request.body instanceof NdjsonBody ? ndjsonItems(request.body.text) : jsonArrayItems(request.body)
        const operations = items.map((item): ParsedOperation => (item.ok ? parseOperation(item.value) : item))
        const { results, complete } = await applyBatch(service, operations, request.log)
        // A batch cut short by a store failure must run again on retry, not replay the failure.
        if (!complete) doNotRemember(request)
        return reply.code(200).send({ results })
      },
    )
  }
}
