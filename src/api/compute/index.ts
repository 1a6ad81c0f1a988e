/**
 * The Nova-compatible compute surface, one encapsulated plugin: version discovery at `/`, `/v2`
 * and `/v2.1`, the microversioned API under `/v2.1` and `/v2.1/{project_id}`, Nova faults for every
 * error and unknown path outside `/v1`, and its OpenAPI document at `/openapi.json`.
 * @module
 */
import swagger from '@fastify/swagger'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AccessPolicy } from '../../auth/access-policy.js'
import type { ActionService } from '../../domain/action-service.js'
import { installErrorFormat } from '../errors.js'
import { computeApi } from './compute-api.js'
import { sendFault } from './faults.js'
import { MAX_VERSION, MIN_VERSION, formatVersion } from './microversion.js'
import { versionRoutes } from './routes/versions.js'

/** Where the microversioned API is mounted; the second form carries the caller's project. */
export const COMPUTE_PREFIXES = ['/v2.1', '/v2.1/:project_id(^[0-9a-f-]+$)'] as const

/** Options of the compute surface. */
export interface ComputeSurfaceOptions {
  service: ActionService
  /** The access policy (defaults + policy file), built once at start. */
  policy: AccessPolicy
}

const DESCRIPTION = `The subset of OpenStack Nova's compute API that ActionTrail serves: os-instance-actions and
the server lookups clients need to reach it, wire-compatible with Nova.

Every route but version discovery needs \`X-Auth-Token\`. Choose a microversion with
\`OpenStack-API-Version: compute 2.N\` (or \`X-OpenStack-Nova-API-Version: 2.N\`); none means
${formatVersion(MIN_VERSION)}, \`latest\` means ${formatVersion(MAX_VERSION)}. Answers change with the
microversion, and each shape is a component of its own: 2.21 shows actions of deleted servers,
2.51 shows events to everyone, 2.58 adds \`updated_at\`, paging (\`limit\`, \`marker\`) and
\`changes-since\`, 2.62 adds \`host\` and \`hostId\` to events, 2.66 adds \`changes-before\`, 2.84
adds \`details\` to events, and from 2.102 show refuses query parameters. Errors are Nova faults.
Every route also exists under \`/v2.1/{project_id}/…\`.`

// The route schemas list `project_id` for both URL forms (the handlers read it when present); the
// document shows it only on the form whose path has it.
function pathParamsOf(url: string, schema: Record<string, unknown>): Record<string, unknown> {
  const params = schema.params as { properties?: Record<string, unknown> } | undefined
  if (!params?.properties) return schema
  const names = new Set([...url.matchAll(/[:{](\w+)/g)].map((m) => m[1]))
  const properties = Object.fromEntries(
    Object.entries(params.properties).filter(([name]) => names.has(name)),
  )
  return { ...schema, params: { ...params, properties } }
}

/** Registers the compute surface at the root. */
export const computeSurface: FastifyPluginAsyncTypebox<ComputeSurfaceOptions> = async (
  app,
  { service, policy },
) => {
  installErrorFormat(app, sendFault)
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ActionTrail compute API (Nova-compatible)',
        version: formatVersion(MAX_VERSION),
        description: DESCRIPTION,
      },
      components: {
        securitySchemes: { authToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' } },
      },
      security: [{ authToken: [] }],
    },
    transform: ({ schema, url }) => ({
      schema: schema
        ? (pathParamsOf(url, schema as Record<string, unknown>) as typeof schema)
        : schema,
      url,
    }),
  })
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () =>
    app.swagger(),
  )
  await app.register(versionRoutes)
  for (const prefix of COMPUTE_PREFIXES) await app.register(computeApi, { prefix, service, policy })
}
