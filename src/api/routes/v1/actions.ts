/**
 * `POST /v1/instances/{uuid}/actions` starts an action (a retry with the same action name is a
 * no-op; another action under a used request id is a conflict), and
 * `POST /v1/instances/{uuid}/actions/{request_id}/finish` finishes it.
 */
import type { FastifyInstance } from 'fastify'
import type { ActionService } from '../../../domain/action-service.js'
import { endpointHandler, endpointOptions } from '../../v1/apply.js'
import { ref, wrapped } from '../../v1/openapi-doc.js'

/** Registers the action routes. */
export function actionRoutes(service: ActionService) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.post(
      '/instances/:uuid/actions',
      endpointOptions('action_start', {
        operationId: 'startAction',
        summary: 'Start an action on an instance',
        responses: {
          201: { description: 'Started.', schema: wrapped('action', 'Action') },
          200: { description: 'Already started with the same action name (retry).', schema: wrapped('action', 'Action') },
          404: { description: 'Unknown instance (`instance_not_found`).', schema: ref('Error') },
          409: { description: 'The request id already started another action (`conflict`).', schema: ref('Error') },
        },
      }),
      endpointHandler(service, 'action_start'),
    )

    app.post(
      '/instances/:uuid/actions/:request_id/finish',
      endpointOptions('action_finish', {
        operationId: 'finishAction',
        summary: 'Finish an action',
        description: 'The body may be empty. A repeated finish keeps the first finish time.',
        responses: {
          200: { description: 'Finished.', schema: wrapped('action', 'Action') },
          404: { description: 'Unknown action (`action_not_found`).', schema: ref('Error') },
        },
      }),
      endpointHandler(service, 'action_finish'),
    )
  }
}
