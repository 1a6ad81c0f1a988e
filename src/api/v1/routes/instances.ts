/**
 * `PUT /v1/instances/{uuid}` registers or updates an instance; `DELETE /v1/instances/{uuid}` marks
 * it deleted (its actions stay readable).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { ActionService } from '../../../domain/action-service.js'
import { sendWrite } from '../apply.js'
import { writerOf } from '../principal-writer.js'
import { described } from '../../described.js'
import { IdempotencyHeaders, v1ErrorResponse, v1Responses } from '../responses.js'
import { InstanceParams, InstancePutBody, SINGLE_BODY_LIMIT } from '../schemas.js'
import { InstanceResponse } from '../views.js'

/** Options of the write routes. */
export interface WriteRoutesOptions {
  service: ActionService
}

/** Registers the instance routes. */
export const instanceRoutes: FastifyPluginAsyncTypebox<WriteRoutesOptions> = async (app) => {
  app.put(
    '/instances/:uuid',
    {
      bodyLimit: SINGLE_BODY_LIMIT,
      schema: {
        operationId: 'putInstance',
        summary: 'Register or update an instance',
        tags: ['instances'],
        params: InstanceParams,
        headers: IdempotencyHeaders,
        body: InstancePutBody,
        response: v1Responses({
          201: described(InstanceResponse, 'Registered.'),
          200: described(InstanceResponse, 'Already known: updated, or unchanged.'),
        }),
      },
    },
    (request, reply) =>
      sendWrite(writerOf(request), reply, {
        op: 'instance_put',
        instance_uuid: request.params.uuid,
        ...request.body,
      }),
  )

  app.delete(
    '/instances/:uuid',
    {
      bodyLimit: SINGLE_BODY_LIMIT,
      schema: {
        operationId: 'deleteInstance',
        summary: 'Mark an instance deleted',
        description: 'Sets deleted_at; a repeated delete changes nothing and answers 200 again.',
        tags: ['instances'],
        params: InstanceParams,
        headers: IdempotencyHeaders,
        response: v1Responses({
          200: described(InstanceResponse, 'Deleted (or already deleted).'),
          404: v1ErrorResponse('Unknown instance (`instance_not_found`).'),
        }),
      },
    },
    (request, reply) =>
      sendWrite(writerOf(request), reply, {
        op: 'instance_delete',
        instance_uuid: request.params.uuid,
      }),
  )
}
