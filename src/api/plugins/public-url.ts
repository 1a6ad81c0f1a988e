/**
 * The URL clients reach this server at, for the links it writes (version discovery, `next` links,
 * the `WWW-Authenticate` of a 401), like Nova's `compute_link_prefix`. Behind a TLS-terminating
 * proxy the request's own scheme and Host are the proxy's view of the backend, not the client's:
 * either the operator sets ACTIONTRAIL_PUBLIC_URL, or the proxy's `X-Forwarded-Proto` /
 * `X-Forwarded-Host` are used — only when ACTIONTRAIL_TRUST_PROXY names the proxies to trust
 * (Fastify's `trustProxy`, as oslo.middleware's `enable_proxy_headers_parsing`); from anyone else
 * those headers are ignored, so a client cannot make the server write links to another host.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import '../fastify-augment.js'

/** Options of the public URL plugin. */
export interface PublicUrlOptions {
  /** The configured public URL (no trailing slash); the request's own when absent. */
  publicUrl?: string
}

/**
 * Checks ACTIONTRAIL_PUBLIC_URL: an absolute http(s) URL without query or fragment; returned
 * without a trailing slash. Throws a message naming the setting otherwise.
 */
export function parsePublicUrl(text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new Error(`ACTIONTRAIL_PUBLIC_URL is not a URL: ${JSON.stringify(text.slice(0, 80))}`)
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash)
    throw new Error('ACTIONTRAIL_PUBLIC_URL must be an http(s) URL without query or fragment')
  return url.href.replace(/\/+$/, '')
}

/** Gives every request its `publicBase`. */
export const publicUrlPlugin = fp(
  async (app: FastifyInstance, { publicUrl }: PublicUrlOptions) => {
    // A getter, not a value set by an onRequest hook: answers made before any hook runs (the
    // router's own errors, whose 401 names this server) need it too.
    app.decorateRequest('publicBase', {
      getter(this: FastifyRequest): string {
        // request.protocol and request.host follow X-Forwarded-* only from trusted proxies.
        return publicUrl ?? `${this.protocol}://${this.host}`
      },
    })
  },
  { name: 'actiontrail-public-url' },
)
