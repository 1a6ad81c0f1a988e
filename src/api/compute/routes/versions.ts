/**
 * Version discovery (public, not microversioned): `/`, `/v2.1`, `/v2.1/`, `/v2` and `/v2/`.
 * keystoneauth takes the `self` href as the service URL, so links are built from the request's own
 * scheme and host.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { formatVersion, MAX_VERSION, MIN_VERSION } from '../microversion.js'
import { Fault } from '../schemas/common.js'
import {
  VersionListResponse,
  VersionShowResponse,
  type VersionDetailView,
  type VersionEntryView,
} from '../schemas/versions.js'

function base(request: FastifyRequest): string {
  return request.publicBase
}

function v21(request: FastifyRequest): VersionEntryView {
  return {
    id: 'v2.1',
    status: 'CURRENT',
    version: formatVersion(MAX_VERSION),
    min_version: formatVersion(MIN_VERSION),
    updated: '2013-07-23T11:33:21Z',
    links: [{ rel: 'self', href: `${base(request)}/v2.1/` }],
  }
}

function v20(request: FastifyRequest): VersionEntryView {
  return {
    id: 'v2.0',
    status: 'DEPRECATED',
    version: '',
    min_version: '',
    updated: '2025-07-04T12:00:00Z',
    links: [{ rel: 'self', href: `${base(request)}/v2/` }],
  }
}

function detailed(entry: VersionEntryView, mediaVersion: string): { version: VersionDetailView } {
  return {
    version: {
      ...entry,
      links: [
        ...entry.links,
        { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
      ],
      'media-types': [
        {
          base: 'application/json',
          type: `application/vnd.openstack.compute+json;version=${mediaVersion}`,
        },
      ],
    },
  }
}

const tags = ['versions']
const config = { public: true }

/** Registers the discovery routes. */
export const versionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/',
    {
      config,
      schema: {
        operationId: 'listVersions',
        summary: 'API versions',
        tags,
        response: { 200: VersionListResponse, 500: Fault },
      },
    },
    async (request) => ({ versions: [v20(request), v21(request)] }),
  )
  for (const [path, entry, media] of [
    ['/v2.1', v21, '2.1'],
    ['/v2.1/', v21, '2.1'],
    ['/v2', v20, '2'],
    ['/v2/', v20, '2'],
  ] as const) {
    app.get(
      path,
      {
        config,
        schema: {
          operationId: `showVersion${path.replace(/\W/g, '_')}`,
          summary: `API version ${entry === v21 ? 'v2.1' : 'v2.0'}`,
          tags,
          response: { 200: VersionShowResponse, 500: Fault },
        },
      },
      async (request) => detailed(entry(request), media),
    )
  }
}
