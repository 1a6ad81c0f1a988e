/**
 * Helpers shared by the compute (/v2.1) routes: the caller, the microversion, the project-id URL
 * check, and the instance lookup with Nova's tenant isolation (another project's server is 404).
 */
import type { FastifyRequest } from 'fastify'
import type { Principal } from '../../auth/principal.js'
import type { AccessPolicy } from '../../auth/access-policy.js'
import { canSeeInstance } from '../../auth/policy.js'
import type { ActionService } from '../../domain/action-service.js'
import { AppError } from '../../domain/errors.js'
import { instanceNotFound } from '../../domain/record-errors.js'
import type { Instance } from '../../domain/instance-action.js'
import { isUuid, normalizeUuid } from '../../domain/validation.js'
import '../fastify-augment.js'
import { principalOf } from '../plugins/authentication.js'
import { MIN_VERSION, type ApiVersion } from './microversion.js'

/** Path parameters every compute route may carry. */
export interface ProjectParams {
  project_id?: string
}

/** What the helpers read of a compute request (any route's typed request fits). */
export type ProjectRequest = Pick<FastifyRequest, 'principal' | 'publicBase'> & {
  params: ProjectParams
}

/** The negotiated microversion. */
export function versionOf(request: FastifyRequest): ApiVersion {
  return request.apiVersion ?? MIN_VERSION
}

/** Nova's check that a `/v2.1/{project_id}/…` URL names the caller's own project. */
export function checkUrlProject(request: ProjectRequest): void {
  const urlProject = request.params.project_id
  const principal = principalOf(request)
  if (urlProject !== undefined && urlProject !== principal.projectId) {
    throw new AppError(
      'invalid_input',
      `Malformed request URL: URL's project_id '${urlProject}' doesn't match Context's ` +
        `project_id '${principal.projectId}'`,
    )
  }
}

/**
 * Finds the server the caller may see: 404 for a non-UUID, unknown or other-project id, and for a
 * deleted server unless `includeDeleted`.
 */
export async function findVisibleInstance(
  service: ActionService,
  policy: AccessPolicy,
  principal: Principal,
  serverId: string,
  includeDeleted: boolean,
): Promise<Instance> {
  const notFound = () => instanceNotFound(serverId)
  if (!isUuid(serverId)) throw notFound()
  const instance = await service.getInstance(normalizeUuid(serverId))
  if (!instance || !canSeeInstance(policy, principal, instance.projectId)) throw notFound()
  if (instance.deletedAt !== null && !includeDeleted) throw notFound()
  return instance
}

/** The application URL of the compute API for this request (`…/v2.1[/{project}]`). */
export function computeBaseUrl(request: ProjectRequest): string {
  const project = request.params.project_id
  return `${request.publicBase}/v2.1${project !== undefined ? `/${project}` : ''}`
}
