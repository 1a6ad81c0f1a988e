/**
 * The compute surface's microversion step: negotiate the request's version from its headers,
 * store it on the request and echo it in the answer (also on a 406, with the refused version).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import '../fastify-augment.js'
import { formatVersion, negotiateVersion, UnsupportedVersionError } from './microversion.js'

// `text` is a negotiated version's formatVersion, or a refused one as the client wrote it (capped).
function setVersionHeaders(reply: FastifyReply, text: string): void {
  reply.header('OpenStack-API-Version', `compute ${text}`)
  reply.header('X-OpenStack-Nova-API-Version', text)
  reply.header('Vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version')
}

/** Sets `request.apiVersion` and the version headers; throws the 400 / 406 AppErrors. */
export function negotiateRequest(request: FastifyRequest, reply: FastifyReply): void {
  try {
    request.apiVersion = negotiateVersion(request.headers)
  } catch (err) {
    if (err instanceof UnsupportedVersionError) setVersionHeaders(reply, err.requested)
    throw err
  }
  setVersionHeaders(reply, formatVersion(request.apiVersion))
}
