/**
 * Version discovery (unauthenticated, not microversioned). keystoneauth takes the `self` href as
 * the service URL, so links are built from the request's own scheme and host.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { formatVersion, MAX_VERSION, MIN_VERSION } from '../microversion.js'

function base(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`
}

function v21(request: FastifyRequest) {
  return {
    id: 'v2.1',
    status: 'CURRENT',
    version: formatVersion(MAX_VERSION),
    min_version: formatVersion(MIN_VERSION),
    updated: '2013-07-23T11:33:21Z',
    links: [{ rel: 'self', href: `${base(request)}/v2.1/` }],
  }
}

function v20(request: FastifyRequest) {
  return {
    id: 'v2.0',
    status: 'DEPRECATED',
    version: '',
    min_version: '',
    updated: '2025-07-04T12:00:00Z',
    links: [{ rel: 'self', href: `${base(request)}/v2/` }],
  }
}

function detailed(entry: ReturnType<typeof v21>, mediaVersion: string) {
  return {
    version: {
      ...entry,
      links: [...entry.links, { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' }],
      'media-types': [{ base: 'application/json', type: `application/vnd.openstack.compute+json;version=${mediaVersion}` }],
    },
  }
}

/** Registers `/`, `/v2.1`, `/v2.1/`, `/v2` and `/v2/`. */
export async function versionRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', async (request) => ({ versions: [v20(request), v21(request)] }))
  for (const path of ['/v2.1', '/v2.1/']) app.get(path, async (request) => detailed(v21(request), '2.1'))
  for (const path of ['/v2', '/v2/']) app.get(path, async (request) => detailed(v20(request), '2'))
}
