/**
 * Access audit: every refused request (401: no valid token; 403: a valid token without the right)
 * is logged as `access denied` and counted. The line names the route template, the method and,
 * for a 403, the caller, whose user and project ids the redacting logger turns into keyed tags
 * (same id → same tag), so repeated attempts by one caller correlate without naming anyone.
 * ActionTrail has no metrics endpoint; the running totals travel on each line (`denied_total`)
 * and are readable in-process through AccessAudit.totals().
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import '../fastify-augment.js'

/** The refusals counted, by status. */
export interface AccessTotals {
  401: number
  403: number
}

/** Counts refusals (one per server). */
export class AccessAudit {
  readonly #totals: AccessTotals = { 401: 0, 403: 0 }

  /** Counts one refusal and returns the new total for its status. */
  count(status: 401 | 403): number {
    this.#totals[status] += 1
    return this.#totals[status]
  }

  /** A copy of the totals. */
  totals(): AccessTotals {
    return { ...this.#totals }
  }
}

/** Options of the access audit plugin. */
export interface AccessAuditOptions {
  audit: AccessAudit
}

/**
 * Logs and counts one answer when it is a 401 or a 403 (the hook below; the router's own errors,
 * answered before any hook runs, call it directly).
 */
export function auditAnswer(audit: AccessAudit, request: FastifyRequest, status: number): void {
  if (status !== 401 && status !== 403) return
  const principal = request.principal
  request.log.warn(
    {
      event: 'access_denied',
      status,
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      ...(principal ? { userId: principal.userId, projectId: principal.projectId } : {}),
      denied_total: audit.count(status),
    },
    'access denied',
  )
}

/** Logs and counts every 401 and 403. */
export const accessAuditPlugin = fp(
  async (app: FastifyInstance, { audit }: AccessAuditOptions) => {
    app.addHook('onResponse', async (request, reply) => {
      auditAnswer(audit, request, reply.statusCode)
    })
  },
  { name: 'actiontrail-access-audit' },
)
