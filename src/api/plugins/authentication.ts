/**
 * Authentication: one root hook that asks every route for `X-Auth-Token`, except routes marked
 * `config: { public: true }`, and sets `request.principal`. Who the token belongs to is the
 * Authenticator's business (a token file today; Keystone and a no-auth dev mode implement the same
 * interface). A failure is an `unauthorized` AppError (401), an identity service that cannot answer
 * an `identity_unavailable` one (503 with Retry-After), so each surface answers in its own format.
 */
import type { FastifyInstance, FastifyRequest, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import type { Authenticator, Principal } from '../../auth/principal.js'
import { AppError } from '../../domain/errors.js'
import '../fastify-augment.js'

/** Options of the authentication plugin. */
export interface AuthenticationOptions {
  authenticator: Authenticator
}

const UNAUTHORIZED_MESSAGE = 'The request you have made requires authentication.'

/**
 * Authenticates a request (sets `request.principal`) or throws `unauthorized` after pointing the
 * client at the identity service in `WWW-Authenticate`.
 */
export async function authenticateRequest(
  authenticator: Authenticator,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<Principal> {
  announceMode(authenticator, reply)
  const token = request.headers['x-auth-token']
  const principal =
    typeof token === 'string' && token.length > 0
      ? await authenticator.authenticate(token)
      : undefined
  if (!principal) {
    // keystonemiddleware's answer: the client finds where to get a token (Keystone's root in
    // Keystone mode, this server otherwise).
    const uri = authenticator.identityUri ?? `${request.publicBase}/`
    reply.header('WWW-Authenticate', `Keystone uri="${uri}"`)
    throw new AppError('unauthorized', UNAUTHORIZED_MESSAGE)
  }
  request.principal = principal
  return principal
}

/** Adds the authenticator's response headers (the no-auth mode's announcement). */
function announceMode(authenticator: Authenticator, reply: FastifyReply): void {
  for (const [name, value] of Object.entries(authenticator.responseHeaders ?? {})) {
    reply.header(name, value)
  }
}

/** The caller of a protected route (the authentication hook guarantees one). */
export function principalOf(request: Pick<FastifyRequest, 'principal'>): Principal {
  if (!request.principal) throw new AppError('unauthorized', UNAUTHORIZED_MESSAGE)
  return request.principal
}

/** Requires a valid token on every route that is not marked public. */
export const authenticationPlugin = fp(
  async (app: FastifyInstance, { authenticator }: AuthenticationOptions) => {
    app.addHook('onRequest', async (request, reply) => {
      if (request.routeOptions.config.public === true) {
        announceMode(authenticator, reply)
        return
      }
      await authenticateRequest(authenticator, request, reply)
    })
  },
  { name: 'actiontrail-authentication' },
)
