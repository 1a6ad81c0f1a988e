/**
 * Every addition ActionTrail makes to Fastify's types, in one place: per-request values set by the
 * hooks, and the route config flags the plugins read.
 */
import type { Principal } from '../auth/principal.js'
import type { ApiVersion } from './compute/microversion.js'
import type { IdempotencyState } from './v1/idempotency.js'
import type { WriteApplier } from './v1/principal-writer.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; set by the authentication plugin on every non-public route. */
    principal?: Principal
    /** The negotiated compute microversion; set by the compute surface's hook. */
    apiVersion?: ApiVersion
    /**
     * The raw request body text, as the /v1 JSON parser reads it (idempotency hash); the batch
     * streams its body and hashes it while reading instead.
     */
    rawBody?: string
    /** Idempotency-Key bookkeeping of a /v1 write. */
    idempotency?: IdempotencyState
    /** The write path for this request's principal (scope checks, writer tag); /v1 writes. */
    writer?: WriteApplier
    /**
     * Where clients reach this server (`https://host[:port][/prefix]`, no trailing slash), for the
     * links it writes; set by the public URL plugin.
     */
    readonly publicBase: string
  }

  interface FastifyContextConfig {
    /** A route anyone may call: no token is asked for (discovery, health, OpenAPI documents). */
    public?: boolean
  }
}

export {}
