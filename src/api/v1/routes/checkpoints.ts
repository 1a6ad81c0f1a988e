/**
 * `GET /v1/checkpoints`: the hash chain's signed checkpoints (store/chain/checkpoints.ts), oldest
 * first, for admins (`actiontrail:checkpoints`), so that they can be kept outside the database: a
 * copy taken now lets an auditor prove later, with only the public key, that history up to each
 * checkpoint's position was not rewritten (docs/operations.md, "Verification").
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AccessPolicy } from '../../../auth/access-policy.js'
import { canListCheckpoints } from '../../../auth/policy.js'
import { AppError } from '../../../domain/errors.js'
import type { CheckpointLog } from '../../../store/chain/checkpoint-log.js'
import { parseQuery } from '../../compute/query-params.js'
import { described } from '../../described.js'
import { principalOf } from '../../plugins/authentication.js'
import { checkQueryParams } from '../action-query.js'
import { V1_CONTENT_TYPE } from '../error-body.js'
import { v1ErrorResponse, v1Responses } from '../responses.js'
import { checkpointView, CheckpointViewSchema } from '../views.js'

/** What the checkpoints route needs. */
export interface CheckpointRoutesOptions {
  checkpoints: CheckpointLog
  policy: AccessPolicy
}

const PARAMS = ['after', 'limit'] as const
const MAX_PAGE = 1000
const DEFAULT_PAGE = 100

const CheckpointsQuerystring = Type.Object(
  {
    after: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Only checkpoints with a larger id.' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE })),
  },
  { additionalProperties: false },
)

const CheckpointsPage = Type.Object(
  {
    checkpoints: Type.Array(CheckpointViewSchema),
    next_after: Type.Union([Type.Integer(), Type.Null()], {
      description: 'The `after` of the next page; null on the last.',
    }),
  },
  { additionalProperties: false },
)

function wholeNumber(
  name: string,
  text: string | undefined,
  fallback: number,
  max: number,
): number {
  if (text === undefined) return fallback
  if (!/^\d{1,15}$/.test(text) || Number(text) > max)
    throw new AppError('invalid_input', `Invalid ${name}: '${text.slice(0, 40)}' (0 to ${max}).`)
  return Number(text)
}

/** Registers `GET /v1/checkpoints`. */
export const checkpointRoutes: FastifyPluginAsyncTypebox<CheckpointRoutesOptions> = async (
  app,
  { checkpoints, policy },
) => {
  // Parameters are checked by hand on the raw URL, as the query routes' (one error format).
  app.setValidatorCompiler(() => () => true)
  app.get(
    '/checkpoints',
    {
      schema: {
        operationId: 'listCheckpoints',
        summary: 'List the signed checkpoints of the hash chain',
        description:
          'Admins only (`actiontrail:checkpoints`). Oldest first. `actiontrail verify ' +
          '--public-key` checks each signature and that its link is the chain’s at its position.',
        tags: ['query'],
        querystring: CheckpointsQuerystring,
        response: v1Responses({
          200: described(CheckpointsPage, 'A page of checkpoints, by id.'),
          403: v1ErrorResponse('The caller may not list checkpoints (`forbidden`).'),
        }),
      },
    },
    async (request, reply) => {
      if (!canListCheckpoints(policy, principalOf(request)))
        throw new AppError('forbidden', 'Listing checkpoints requires the admin role.')
      const params = parseQuery(request.raw.url ?? '')
      checkQueryParams(params, PARAMS)
      const after = wholeNumber('after', params.get('after')?.[0], 0, Number.MAX_SAFE_INTEGER)
      const limit = wholeNumber('limit', params.get('limit')?.[0], DEFAULT_PAGE, MAX_PAGE)
      if (limit < 1) throw new AppError('invalid_input', `Invalid limit: '0' (1 to ${MAX_PAGE}).`)
      const rows = await checkpoints.list(after, limit + 1)
      const page = rows.slice(0, limit)
      return reply.type(V1_CONTENT_TYPE).send({
        checkpoints: page.map(checkpointView),
        next_after: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
      })
    },
  )
}
