/**
 * `GET /v2.1[/{project_id}]/servers/{server_id}/os-instance-actions[/{request_id}]`: Nova's
 * os-instance-actions, following its processing order (docs/nova-behaviour.md §4.2): query validation,
 * instance lookup, policy, data.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AccessPolicy } from '../../../auth/access-policy.js'
import { canReadActions, canSeeEventDetails, canSeeEventInternals } from '../../../auth/policy.js'
import type { ActionService } from '../../../domain/action-service.js'
import { AppError } from '../../../domain/errors.js'
import { shownActionNotFound } from '../../../domain/record-errors.js'
import { principalOf } from '../../plugins/authentication.js'
import {
  checkUrlProject,
  computeBaseUrl,
  findVisibleInstance,
  versionOf,
} from '../compute-request.js'
import { checkShowQuery, parseListQuery } from '../instance-actions-query.js'
import { atLeast } from '../microversion.js'
import { quotePlus } from '../python-repr.js'
import { parseQuery, type QueryParams } from '../query-params.js'
import {
  InstanceActionListResponse,
  InstanceActionShowResponse,
  ListParams,
  ListQuerystring,
  ShowParams,
  type NovaInstanceActionList,
} from '../schemas/instance-actions.js'
import { computeResponses } from '../schemas/responses.js'
import { actionView, actionWithEventsView } from '../views/instance-action-view.js'

function policyError(rule: 'list' | 'show'): AppError {
  return new AppError(
    'forbidden',
    `Policy doesn't allow os_compute_api:os-instance-actions:${rule} to be performed.`,
  )
}

/** Nova's next link: every query parameter sorted by name, with marker = the last item's request id. */
function nextHref(base: string, serverId: string, params: QueryParams, marker: string): string {
  const hadMarker = params.has('marker')
  const keys = [...params.keys()].sort()
  if (!hadMarker) keys.push('marker')
  const query = keys.map(
    (k) => `${quotePlus(k)}=${quotePlus(k === 'marker' ? marker : (params.get(k)?.[0] ?? ''))}`,
  )
  return `${base}/servers/${serverId}/os-instance-actions?${query.join('&')}`
}

/** Options of the os-instance-actions routes. */
export interface InstanceActionRoutesOptions {
  service: ActionService
  /** The access policy (defaults + policy file), built once at start. */
  policy: AccessPolicy
}

/** Registers list and show. */
export const instanceActionRoutes: FastifyPluginAsyncTypebox<InstanceActionRoutesOptions> = async (
  app,
  { service, policy },
) => {
  app.get(
    '/servers/:server_id/os-instance-actions',
    {
      schema: {
        operationId: 'listInstanceActions',
        summary: "List a server's actions, newest first",
        tags: ['os-instance-actions'],
        params: ListParams,
        querystring: ListQuerystring,
        response: computeResponses({ 200: InstanceActionListResponse }),
      },
    },
    async (request) => {
      checkUrlProject(request)
      const version = versionOf(request)
      const params = parseQuery(request.raw.url ?? '')
      const query = parseListQuery(params, version)
      const principal = principalOf(request)
      const instance = await findVisibleInstance(
        service,
        policy,
        principal,
        request.params.server_id,
        atLeast(version, 21),
      )
      if (!canReadActions(policy, principal, 'list', instance.projectId)) throw policyError('list')
      const actions = await service.listActions(instance.uuid, query)
      const body: NovaInstanceActionList = {
        instanceActions: actions.map((a) => actionView(a, version)),
      }
      const last = actions[actions.length - 1]
      if (atLeast(version, 58) && query.limit && last && actions.length === query.limit) {
        body.links = [
          {
            href: nextHref(
              computeBaseUrl(request),
              request.params.server_id,
              params,
              last.requestId,
            ),
            rel: 'next',
          },
        ]
      }
      return body
    },
  )

  app.get(
    '/servers/:server_id/os-instance-actions/:request_id',
    {
      schema: {
        operationId: 'showInstanceAction',
        summary: 'Show one action of a server with its events',
        tags: ['os-instance-actions'],
        params: ShowParams,
        response: computeResponses({ 200: InstanceActionShowResponse }),
      },
    },
    async (request) => {
      checkUrlProject(request)
      const version = versionOf(request)
      checkShowQuery(parseQuery(request.raw.url ?? ''), version)
      const principal = principalOf(request)
      const instance = await findVisibleInstance(
        service,
        policy,
        principal,
        request.params.server_id,
        atLeast(version, 21),
      )
      if (!canReadActions(policy, principal, 'show', instance.projectId)) throw policyError('show')
      const found = await service.getAction(instance.uuid, request.params.request_id)
      if (!found) throw shownActionNotFound(request.params.request_id)
      const visibility = {
        internals: canSeeEventInternals(policy, principal, instance.projectId),
        details: canSeeEventDetails(policy, principal, instance.projectId),
      }
      return {
        instanceAction: actionWithEventsView(
          found.action,
          found.events,
          instance.projectId,
          version,
          visibility,
        ),
      }
    },
  )
}
