/**
 * `POST /v1/instances/{uuid}/actions/{request_id}/events` starts an event of an action, and
 * `POST …/events/{event}/finish` finishes the oldest unfinished event of that name.
 */
import type { FastifyInstance } from 'fastify'
import type { ActionService } from '../../../domain/action-service.js'
import { endpointHandler, endpointOptions } from '../../v1/apply.js'
import { ref, wrapped } from '../../v1/openapi-doc.js'

/** Registers the event routes. */
export function eventRoutes(service: ActionService) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.post(
      '/instances/:uuid/actions/:request_id/events',
      endpointOptions('event_start', {
        operationId: 'startEvent',
        summary: 'Start an event of an action',
        responses: {
          201: { description: 'Started.', schema: wrapped('event', 'Event') },
          200: { description: 'The same event with the same start_time exists (retry).', schema: wrapped('event', 'Event') },
          404: { description: 'Unknown action (`action_not_found`).', schema: ref('Error') },
        },
      }),
      endpointHandler(service, 'event_start'),
    )

    app.post(
      '/instances/:uuid/actions/:request_id/events/:event/finish',
      endpointOptions('event_finish', {
        operationId: 'finishEvent',
        summary: 'Finish an event',
        description:
          'Finishes the oldest unfinished event of that name (a repeat is a no-op). With result ' +
          'Error the action gets message `Error`; details and traceback are kept only then.',
        responses: {
          200: { description: 'Finished.', schema: wrapped('event', 'Event') },
          404: {
            description: 'Unknown action (`action_not_found`) or event never started (`event_not_found`).',
            schema: ref('Error'),
          },
        },
      }),
      endpointHandler(service, 'event_finish'),
    )
  }
}
