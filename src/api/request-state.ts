/** Per-request values set by the app's hooks, typed by declaration merging. */
import type { Principal } from '../auth/principal.js'
import type { ApiVersion } from './microversion.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; set by the auth hook on protected routes. */
    principal?: Principal
    /** The negotiated compute microversion; set on /v2.1 API routes. */
    apiVersion?: ApiVersion
  }
}

/** Paths that need neither a token nor a microversion (discovery, health, the write API's OpenAPI document). */
export function isPublicPath(path: string): boolean {
  return (
    path === '/' ||
    path === '/v2.1' ||
    path === '/v2.1/' ||
    path === '/v2' ||
    path === '/v2/' ||
    path === '/healthz' ||
    path === '/v1/openapi.json'
  )
}
