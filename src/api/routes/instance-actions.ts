/**
 * `GET /v2.1[/{project_id}]/servers/{server_id}/os-instance-actions[/{request_id}]`: Nova's
 * os-instance-actions, following its processing order (spec 4.2): query validation, instance
 * lookup, policy, data.
 */
import type { FastifyInstance } from 'fastify'
import { canReadActions, canSeeEventDetails, canSeeEventInternals } from '../../auth/policy.js'
import type { ActionService } from '../../domain/action-service.js'
import { AppError } from '../../domain/errors.js'
import {
  checkUrlProject,
  computeBaseUrl,
  findVisibleInstance,
  principalOf,
  versionOf,
  type ProjectParams,
} from '../compute-request.js'
import { checkShowQuery, parseListQuery } from '../instance-actions-query.js'
import { atLeast } from '../microversion.js'
import { quotePlus } from '../python-repr.js'
import { parseQuery, type QueryParams } from '../query-params.js'
import { actionView, actionWithEventsView } from '../views/instance-action-view.js'

interface ListParams extends ProjectParams {
  server_id: string
}

interface ShowParams extends ListParams {
  request_id: string
}

function policyError(rule: 'list' | 'show'): AppError {
  return new AppError('forbidden', `Policy doesn't allow os_compute_api:os-instance-actions:${rule} to be performed.`)
}

/** Nova's next link: every query parameter sorted by name, with marker = the last item's request id. */
function nextHref(base: string, serverId: string, params: QueryParams, marker: string): string {
  const hadMarker = params.has('marker')
  const keys = [...params.keys()].sort()
  if (!hadMarker) keys.push('marker')
  const query = keys.map((k) => `${quotePlus(k)}=${quotePlus(k === 'marker' ? marker : (params.get(k)?.[0] ?? ''))}`)
  return `${base}/servers/${serverId}/os-instance-actions?${query.join('&')}`
}

/** Registers list and show under both URL forms. */
export function instanceActionRoutes(service: ActionService) {
  return async function register(app: FastifyInstance): Promise<void> {
    for (const prefix of ['/v2.1', '/v2.1/:project_id(^[0-9a-f-]+$)']) {
      app.get<{ Params: ListParams }>(`${prefix}/servers/:server_id/os-instance-actions`, async (request) => {
        checkUrlProject(request)
        const version = versionOf(request)
        const params = parseQuery(request.raw.url ?? '')
        const query = parseListQuery(params, version)
        const principal = principalOf(request)
        const instance = await findVisibleInstance(service, principal, request.params.server_id, atLeast(version, 21))
        if (!canReadActions(principal, instance.projectId)) throw policyError('list')
        const actions = await service.listActions(instance.uuid, query)
        const body: Record<string, unknown> = { instanceActions: actions.map((a) => actionView(a, version)) }
        const last = actions[actions.length - 1]
        if (atLeast(version, 58) && query.limit && last && actions.length === query.limit) {
          body.links = [{ href: nextHref(computeBaseUrl(request), request.params.server_id, params, last.requestId), rel: 'next' }]
        }
        return body
      })

      app.get<{ Params: ShowParams }>(`${prefix}/servers/:server_id/os-instance-actions/:request_id`, async (request) => {
        checkUrlProject(request)
        const version = versionOf(request)
        checkShowQuery(parseQuery(request.raw.url ?? ''), version)
        const principal = principalOf(request)
        const instance = await findVisibleInstance(service, principal, request.params.server_id, atLeast(version, 21))
        if (!canReadActions(principal, instance.projectId)) throw policyError('show')
        const found = await service.getAction(instance.uuid, request.params.request_id)
        if (!found) throw new AppError('action_not_found', `Action ${request.params.request_id} not found`)
        const visibility = { internals: canSeeEventInternals(principal), details: canSeeEventDetails(principal) }
        return { instanceAction: actionWithEventsView(found.action, found.events, instance.projectId, version, visibility) }
      })
    }
  }
}
