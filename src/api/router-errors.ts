/**
 * Answers for errors the router raises before any route is chosen (an undecodable path such as
 * `%zz`, an over-long segment). Fastify hands those to one root callback outside every plugin, so
 * this is the one place that picks a surface by path: the surface whose mount prefix the path
 * starts with answers, after the same authentication (and, for compute, negotiation) its routes
 * would have run.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { Authenticator } from '../auth/principal.js'
import { AppError } from '../domain/errors.js'
import { sendFault } from './compute/faults.js'
import { negotiateRequest } from './compute/negotiate.js'
import { answerFor, RETRY_AFTER_SECONDS, type ErrorRenderer } from './errors.js'
import { auditAnswer, type AccessAudit } from './plugins/access-audit.js'
import { authenticateRequest } from './plugins/authentication.js'
import { setRequestIdHeaders } from './plugins/request-id.js'
import { closeIfBodyUnread } from './plugins/unread-body.js'
import { sendV1Error } from './v1/error-body.js'
import { V1_PREFIX } from './v1/index.js'

interface Surface {
  render: ErrorRenderer
  negotiate: boolean
}

/** The error format of a surface: ActionTrail's own (/v1) or Nova's faults (compute, the root). */
export type ErrorFormat = 'v1' | 'nova'

/**
 * The error format of the surface whose mount prefix `path` (without its query) starts with;
 * Nova's, the root's format, for any other path. client-errors.ts picks the format of errors
 * Node's HTTP parser raises with it too.
 */
export function errorFormatOf(path: string): ErrorFormat {
  return path === V1_PREFIX || path.startsWith(`${V1_PREFIX}/`) ? 'v1' : 'nova'
}

function surfaceOf(path: string): Surface {
  if (errorFormatOf(path) === 'v1') return { render: sendV1Error, negotiate: false }
  return { render: sendFault, negotiate: path.startsWith('/v2.1/') }
}

/** Fastify's `frameworkErrors` callback. */
export function routerErrorHandler(authenticator: Authenticator, audit?: AccessAudit) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    setRequestIdHeaders(request, reply)
    const surface = surfaceOf(request.url.split('?')[0] ?? '/')
    const answer = async (): Promise<void> => {
      try {
        await authenticateRequest(authenticator, request, reply)
        if (surface.negotiate) negotiateRequest(request, reply)
        // An over-long segment cannot be an id Nova knows: its router would find no such resource.
        if (err.code === 'FST_ERR_MAX_PARAM_LENGTH')
          throw new AppError('not_found', 'The resource could not be found.')
        throw new AppError('invalid_input', 'Malformed request URL.')
      } catch (failure) {
        closeIfBodyUnread(request, reply)
        const answer = answerFor(failure, request.log)
        if (answer.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS))
        surface.render(reply, answer)
        if (audit) auditAnswer(audit, request, answer.status)
      }
    }
    void answer()
  }
}
