/**
 * The microversioned compute API under one prefix (`/v2.1` or `/v2.1/{project_id}`): servers and
 * os-instance-actions, each request negotiated first, every error a Nova fault.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AccessPolicy } from '../../auth/access-policy.js'
import type { ActionService } from '../../domain/action-service.js'
import { installErrorFormat } from '../errors.js'
import { sendFault } from './faults.js'
import { negotiateRequest } from './negotiate.js'
import { instanceActionRoutes } from './routes/instance-actions.js'
import { serverRoutes } from './routes/servers.js'

/** Options of the compute API. */
export interface ComputeApiOptions {
  service: ActionService
  /** The access policy (defaults + policy file), built once at start. */
  policy: AccessPolicy
}

/** Registers the compute API; mount it with a `prefix`. */
export const computeApi: FastifyPluginAsyncTypebox<ComputeApiOptions> = async (
  app,
  { service, policy },
) => {
  // Runs after authentication (a root hook), also for unknown paths, as Nova does.
  app.addHook('onRequest', async (request, reply) => {
    negotiateRequest(request, reply)
  })
  installErrorFormat(app, sendFault)
  // The route schemas document Nova's parameters; the checks themselves are Nova's (its messages,
  // no coercion, repeated parameters), done by the handlers on the raw query string.
  app.setValidatorCompiler(() => () => true)

  await app.register(serverRoutes, { service, policy })
  await app.register(instanceActionRoutes, { service, policy })
}
