/**
 * The slice of Nova's servers API that clients need to find a server before asking for its
 * actions (`openstack server event list <name-or-id>`): show by id, and list/detail filtered by
 * name. Answers come from the instances ActionTrail knows.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Principal } from '../../../auth/principal.js'
import type { AccessPolicy } from '../../../auth/access-policy.js'
import { canListAllTenants, canReadServers } from '../../../auth/policy.js'
import type { ActionService } from '../../../domain/action-service.js'
import { AppError } from '../../../domain/errors.js'
import type { Instance } from '../../../domain/instance-action.js'
import { isPrintable, MAX_NAME_LENGTH } from '../../../domain/validation.js'
import { principalOf } from '../../plugins/authentication.js'
import {
  checkUrlProject,
  computeBaseUrl,
  findVisibleInstance,
  type ProjectRequest,
} from '../compute-request.js'
import { MAX_LIMIT } from '../instance-actions-query.js'
import { pyListRepr } from '../python-repr.js'
import { parseQuery } from '../query-params.js'
import { computeResponses } from '../schemas/responses.js'
import {
  ServerDetailListResponse,
  ServerListParams,
  ServerListQuerystring,
  ServerListResponse,
  ServerShowParams,
  ServerShowResponse,
  type LinkView,
  type ServerView,
} from '../schemas/servers.js'

function links(request: ProjectRequest, instance: Instance): LinkView[] {
  const self = `${computeBaseUrl(request)}/servers/${instance.uuid}`
  const bookmark = self.replace('/v2.1', '')
  return [
    { rel: 'self', href: self },
    { rel: 'bookmark', href: bookmark },
  ]
}

function serverView(request: ProjectRequest, instance: Instance): ServerView {
  return {
    id: instance.uuid,
    name: instance.name,
    status: instance.deletedAt === null ? 'ACTIVE' : 'DELETED',
    tenant_id: instance.projectId,
    user_id: instance.userId,
    created: `${instance.createdAt.slice(0, 19)}Z`,
    updated: `${instance.updatedAt.slice(0, 19)}Z`,
    links: links(request, instance),
  }
}

function policyError(rule: 'index' | 'detail' | 'show'): AppError {
  return new AppError(
    'forbidden',
    `Policy doesn't allow os_compute_api:servers:${rule} to be performed.`,
  )
}

// Nova checks index/detail against the caller's own project, before reading any query value.
function checkListPolicy(
  policy: AccessPolicy,
  principal: Principal,
  rule: 'index' | 'detail',
): void {
  if (!canReadServers(policy, principal, rule, principal.projectId)) throw policyError(rule)
}

function single(name: string, values: string[] | undefined): string | undefined {
  if (!values) return undefined
  if (values.length > 1) {
    throw new AppError(
      'invalid_input',
      `Invalid input for query parameters ${name}. Value: ${pyListRepr(values)}. ${pyListRepr(values)} is too long`,
    )
  }
  return values[0]
}

async function listServers(
  service: ActionService,
  policy: AccessPolicy,
  request: ProjectRequest & { raw: { url?: string } },
  rule: 'index' | 'detail',
): Promise<Instance[]> {
  checkUrlProject(request)
  const principal = principalOf(request)
  checkListPolicy(policy, principal, rule)
  const params = parseQuery(request.raw.url ?? '')
  const name = single('name', params.get('name'))
  if (name !== undefined && (name.length > MAX_NAME_LENGTH || !isPrintable(name))) {
    throw new AppError(
      'invalid_input',
      `Invalid input for query parameters name. Value: ${name.slice(0, MAX_NAME_LENGTH)}. ` +
        `must be at most ${MAX_NAME_LENGTH} printable characters`,
    )
  }
  const allTenants =
    single('all_tenants', params.get('all_tenants')) ??
    single('all_projects', params.get('all_projects'))
  const everyProject =
    canListAllTenants(policy, principal, rule) &&
    allTenants !== undefined &&
    !/^(0|false|no|off)$/i.test(allTenants)
  return service.listInstances({
    ...(everyProject ? {} : { projectId: principal.projectId }),
    ...(name ? { nameContains: name } : {}),
    limit: MAX_LIMIT,
  })
}

/** Options of the server routes. */
export interface ServerRoutesOptions {
  service: ActionService
  /** The access policy (defaults + policy file), built once at start. */
  policy: AccessPolicy
}

/** Registers server show, list and detail. */
export const serverRoutes: FastifyPluginAsyncTypebox<ServerRoutesOptions> = async (
  app,
  { service, policy },
) => {
  const tags = ['servers']
  app.get(
    '/servers/detail',
    {
      schema: {
        operationId: 'listServersDetailed',
        summary: 'List the servers ActionTrail knows, in detail',
        tags,
        params: ServerListParams,
        querystring: ServerListQuerystring,
        response: computeResponses({ 200: ServerDetailListResponse }),
      },
    },
    async (request) => {
      const instances = await listServers(service, policy, request, 'detail')
      return { servers: instances.map((i) => serverView(request, i)) }
    },
  )
  app.get(
    '/servers',
    {
      schema: {
        operationId: 'listServers',
        summary: 'List the servers ActionTrail knows',
        tags,
        params: ServerListParams,
        querystring: ServerListQuerystring,
        response: computeResponses({ 200: ServerListResponse }),
      },
    },
    async (request) => {
      const instances = await listServers(service, policy, request, 'index')
      return {
        servers: instances.map((i) => ({ id: i.uuid, name: i.name, links: links(request, i) })),
      }
    },
  )
  app.get(
    '/servers/:server_id',
    {
      schema: {
        operationId: 'showServer',
        summary: 'Show a server',
        tags,
        params: ServerShowParams,
        response: computeResponses({ 200: ServerShowResponse }),
      },
    },
    async (request) => {
      checkUrlProject(request)
      const principal = principalOf(request)
      // As in Nova: the lookup first (another project's server is 404), then the policy (403).
      const instance = await findVisibleInstance(
        service,
        policy,
        principal,
        request.params.server_id,
        false,
      )
      if (!canReadServers(policy, principal, 'show', instance.projectId)) throw policyError('show')
      return { server: serverView(request, instance) }
    },
  )
}
