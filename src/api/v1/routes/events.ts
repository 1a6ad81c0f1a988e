/**
 * `POST /v1/instances/{uuid}/actions/{request_id}/events` starts an event of an action, and
 * `POST …/events/{event}/finish` finishes the oldest unfinished event of that name.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { sendWrite } from '../apply.js'
import { writerOf } from '../principal-writer.js'
import { described } from '../../described.js'
import { IdempotencyHeaders, v1ErrorResponse, v1Responses } from '../responses.js'
import {
  ActionParams,
  EventFinishBody,
  EventParams,
  EventStartBody,
  EVENT_FINISH_BODY_LIMIT,
  SINGLE_BODY_LIMIT,
} from '../schemas.js'
import { EventResponse } from '../views.js'
import type { WriteRoutesOptions } from './instances.js'

/** Registers the event routes. */
export const eventRoutes: FastifyPluginAsyncTypebox<WriteRoutesOptions> = async (app) => {
  app.post(
    '/instances/:uuid/actions/:request_id/events',
    {
      bodyLimit: SINGLE_BODY_LIMIT,
      schema: {
        operationId: 'startEvent',
        summary: 'Start an event of an action',
        tags: ['events'],
        params: ActionParams,
        headers: IdempotencyHeaders,
        body: EventStartBody,
        response: v1Responses({
          201: described(EventResponse, 'Started.'),
          200: described(EventResponse, 'The same event with the same start_time exists (retry).'),
          404: v1ErrorResponse('Unknown action (`action_not_found`).'),
        }),
      },
    },
    (request, reply) =>
      sendWrite(writerOf(request), reply, {
        op: 'event_start',
        instance_uuid: request.params.uuid,
        request_id: request.params.request_id,
        ...request.body,
      }),
  )

  app.post(
    '/instances/:uuid/actions/:request_id/events/:event/finish',
    {
      bodyLimit: EVENT_FINISH_BODY_LIMIT,
      schema: {
        operationId: 'finishEvent',
        summary: 'Finish an event',
        description:
          'Finishes the oldest unfinished event of that name (a repeat is a no-op). With result ' +
          'Error the action gets message `Error`; details and traceback are kept only then.',
        tags: ['events'],
        params: EventParams,
        headers: IdempotencyHeaders,
        body: EventFinishBody,
        response: v1Responses({
          200: described(EventResponse, 'Finished.'),
          404: v1ErrorResponse(
            'Unknown action (`action_not_found`) or event never started (`event_not_found`).',
          ),
        }),
      },
    },
    (request, reply) =>
      sendWrite(writerOf(request), reply, {
        op: 'event_finish',
        instance_uuid: request.params.uuid,
        request_id: request.params.request_id,
        event: request.params.event,
        ...request.body,
      }),
  )
}
