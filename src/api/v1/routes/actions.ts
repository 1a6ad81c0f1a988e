/**
 * `POST /v1/instances/{uuid}/actions` starts an action (a retry with the same action name is a
 * no-op; another action under a used request id is a conflict), and
 * `POST /v1/instances/{uuid}/actions/{request_id}/finish` finishes it.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { sendWrite } from '../apply.js'
import { writerOf } from '../principal-writer.js'
import { described } from '../../described.js'
import {
  conflictDescription,
  IdempotencyHeaders,
  v1ErrorResponse,
  v1Responses,
} from '../responses.js'
import {
  ActionFinishBody,
  ActionParams,
  ActionStartBody,
  InstanceParams,
  SINGLE_BODY_LIMIT,
} from '../schemas.js'
import { ActionResponse } from '../views.js'
import type { WriteRoutesOptions } from './instances.js'

/** Registers the action routes. */
export const actionRoutes: FastifyPluginAsyncTypebox<WriteRoutesOptions> = async (app) => {
  app.post(
    '/instances/:uuid/actions',
    {
      bodyLimit: SINGLE_BODY_LIMIT,
      schema: {
        operationId: 'startAction',
        summary: 'Start an action on an instance',
        tags: ['actions'],
        params: InstanceParams,
        headers: IdempotencyHeaders,
        body: ActionStartBody,
        response: v1Responses({
          201: described(ActionResponse, 'Started.'),
          200: described(ActionResponse, 'Already started with the same action name (retry).'),
          404: v1ErrorResponse('Unknown instance (`instance_not_found`).'),
          409: v1ErrorResponse(
            conflictDescription('The request id already started another action (`conflict`).'),
          ),
        }),
      },
    },
    (request, reply) =>
      sendWrite(writerOf(request), reply, {
        op: 'action_start',
        instance_uuid: request.params.uuid,
        ...request.body,
      }),
  )

  app.post(
    '/instances/:uuid/actions/:request_id/finish',
    {
      bodyLimit: SINGLE_BODY_LIMIT,
      schema: {
        operationId: 'finishAction',
        summary: 'Finish an action',
        description: 'The body may be empty. A repeated finish keeps the first finish time.',
        tags: ['actions'],
        params: ActionParams,
        headers: IdempotencyHeaders,
        body: ActionFinishBody,
        response: v1Responses({
          200: described(ActionResponse, 'Finished.'),
          404: v1ErrorResponse('Unknown action (`action_not_found`).'),
        }),
      },
    },
    (request, reply) =>
      sendWrite(writerOf(request), reply, {
        op: 'action_finish',
        instance_uuid: request.params.uuid,
        request_id: request.params.request_id,
        ...request.body,
      }),
  )
}
