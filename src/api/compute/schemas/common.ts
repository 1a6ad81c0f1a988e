/** Schema pieces shared by the compute surface's routes. */
import { Type, type TSchema } from 'typebox'

/** A time as Nova shows it in os-instance-actions: UTC without a zone, microseconds. */
export const NovaTime = Type.String({
  description: 'UTC, `YYYY-MM-DDTHH:MM:SS.ffffff` (no zone).',
  examples: ['2018-04-25T01:26:36.790544'],
})

/** A value that may be null. */
export function Nullable<T extends TSchema>(schema: T, description?: string) {
  return Type.Union([schema, Type.Null()], description ? { description } : {})
}

/** A link as Nova writes it. */
export const Link = Type.Object(
  { rel: Type.String(), href: Type.String() },
  { additionalProperties: false },
)

/** Nova's fault body: one key, the fault name (`itemNotFound`, `badRequest`, …), holding code and message. */
export const Fault = Type.Object(
  {},
  {
    minProperties: 1,
    maxProperties: 1,
    additionalProperties: Type.Object(
      {
        code: Type.Integer(),
        message: Type.String(),
        retryAfter: Type.Optional(
          Type.String({ description: 'On a 429 `overLimit`: seconds to wait, as `Retry-After`.' }),
        ),
      },
      { additionalProperties: false },
    ),
    description: 'Nova fault, e.g. `{"itemNotFound": {"code": 404, "message": "…"}}`.',
  },
)

/** Path parameter of the `/v2.1/{project_id}/…` form. */
export const ProjectParam = Type.Optional(
  Type.String({ description: "The caller's project (the `/v2.1/{project_id}/…` URL form)." }),
)
