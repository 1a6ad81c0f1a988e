/** `GET /v1/openapi.json`: the write API's OpenAPI 3.1 document (public, like version discovery). */
import type { FastifyInstance } from 'fastify'
import { buildOpenApiDocument, type DocumentedRoute } from '../../v1/openapi-doc.js'

/** Registers the document route; `routes` lists the documented routes once they are all registered. */
export function openapiRoutes(routes: () => readonly DocumentedRoute[]) {
  return async function register(app: FastifyInstance): Promise<void> {
    let document: Record<string, unknown> | undefined
    app.get('/openapi.json', async () => {
      // Built on first use: by then every route has been registered.
      document ??= buildOpenApiDocument(routes())
      return document
    })
  }
}
