/**
 * `GET /v1/export`: the NDJSON export of `actiontrail export` (src/export/) over HTTP, for admins
 * (`actiontrail:export`): a versioned header line, then one `{"instance", "action", "events"}`
 * record a line for every action matching the query API's filters, newest first. Streamed: the
 * store is read a keyset page at a time as the client takes the lines (Fastify pipes the stream
 * and waits for 'drain'), so a large export holds one page in memory and a slow client slows only
 * its own reads.
 */
import { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AccessPolicy } from '../../../auth/access-policy.js'
import { canExport } from '../../../auth/policy.js'
import type { ActionService } from '../../../domain/action-service.js'
import { AppError } from '../../../domain/errors.js'
import { exportLines } from '../../../export/export-lines.js'
import { exportHeader, exportJsonPages } from '../../../export/export-records.js'
import { parseQuery } from '../../compute/query-params.js'
import { principalOf } from '../../plugins/authentication.js'
import { parseActionQuery } from '../action-query.js'
import { commonQuerystring } from '../query-common.js'
import { v1ErrorResponse, v1Responses } from '../responses.js'

/** What the export route needs. */
export interface ExportRoutesOptions {
  service: ActionService
  policy: AccessPolicy
}

/** The query API's paging and embedding have no meaning here: the whole selection is sent. */
const NOT_EXPORT_PARAMETERS = ['limit', 'cursor', 'include', 'state', 'archived'] as const

const ExportQuerystring = Type.Omit(
  Type.Object(commonQuerystring('actions'), { additionalProperties: false }),
  ['limit', 'cursor', 'state', 'archived'],
)

/** Registers `GET /v1/export`. */
export const exportRoutes: FastifyPluginAsyncTypebox<ExportRoutesOptions> = async (app, deps) => {
  // Parameters are checked on the raw URL by the query API's parser (action-query.ts).
  app.setValidatorCompiler(() => () => true)
  app.get(
    '/export',
    {
      schema: {
        operationId: 'exportActions',
        summary: 'Export actions with their instances and events (NDJSON)',
        description:
          'Admins only (`actiontrail:export`). The filters of GET /v1/actions; every matching ' +
          'action, newest first. The first line is `{"actiontrail_export": 1, "exported_at", ' +
          '"filters"}`; each next line is `{"instance": Instance, "action": QueryAction, ' +
          '"events": [QueryEvent]}` in the admin view. `actiontrail import --from-export` ' +
          'imports it.',
        tags: ['query'],
        querystring: ExportQuerystring,
        response: v1Responses({
          200: {
            description:
              'The export, one JSON document a line: the header, one line per action, and the end line ' +
              '`{"actiontrail_export_end": {"actions": N}}` (or `actiontrail_export_error` when it failed).',
            content: { 'application/x-ndjson': { schema: Type.String() } },
          } as unknown as ReturnType<typeof Type.String>,
          403: v1ErrorResponse('The caller may not export (`forbidden`).'),
        }),
      },
    },
    async (request, reply) => {
      if (!canExport(deps.policy, principalOf(request)))
        throw new AppError('forbidden', 'Exporting requires the admin role.')
      const url = request.raw.url ?? ''
      const params = parseQuery(url)
      for (const name of NOT_EXPORT_PARAMETERS)
        if (params.has(name))
          throw new AppError('invalid_input', `Invalid parameter: '${name}' (an export is whole).`)
      const { search } = parseActionQuery(params)
      const q = url.indexOf('?')
      const header = exportHeader(new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), new Date())
      const lines = exportLines(header, exportJsonPages(deps.service, search), 'ndjson', {
        // The status line is sent: the body's last line says the export failed.
        onError: (err) => request.log.error({ err }, 'export stopped by a read failure'),
      })
      return reply.type('application/x-ndjson; charset=utf-8').send(Readable.from(lines))
    },
  )
}
