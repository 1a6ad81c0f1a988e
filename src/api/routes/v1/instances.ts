/**
 * `PUT /v1/instances/{uuid}` registers or updates an instance; `DELETE /v1/instances/{uuid}` marks
 * it deleted (its actions stay readable).
 */
import type { FastifyInstance } from 'fastify'
import type { ActionService } from '../../../domain/action-service.js'
import { endpointHandler, endpointOptions } from '../../v1/apply.js'
import { ref, wrapped } from '../../v1/openapi-doc.js'

/** Registers the instance routes. */
export function instanceRoutes(service: ActionService) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.put(
      '/instances/:uuid',
      endpointOptions('instance_put', {
        operationId: 'putInstance',
        summary: 'Register or update an instance',
        responses: {
          201: { description: 'Registered.', schema: wrapped('instance', 'Instance') },
          200: { description: 'Already known: updated, or unchanged.', schema: wrapped('instance', 'Instance') },
        },
      }),
      endpointHandler(service, 'instance_put'),
    )

    app.delete(
      '/instances/:uuid',
      endpointOptions('instance_delete', {
        operationId: 'deleteInstance',
        summary: 'Mark an instance deleted',
        description: 'Sets deleted_at; a repeated delete changes nothing and answers 200 again.',
        responses: {
          200: { description: 'Deleted (or already deleted).', schema: wrapped('instance', 'Instance') },
          404: { description: 'Unknown instance (`instance_not_found`).', schema: ref('Error') },
        },
      }),
      endpointHandler(service, 'instance_delete'),
    )
  }
}
