/**
 * `GET /healthz`: 200 when the store answers a trivial query within a bound, 503 otherwise. Public
 * (orchestrators probe without a token) and free of detail that would help an attacker.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'

/** Options of the health route. */
export interface HealthOptions {
  /** Resolves when the store answers; rejects (or never settles) when it does not. */
  probe: () => Promise<unknown>
  /** How long the probe may take before the answer is 503. */
  timeoutMs?: number
}

const HealthBody = Type.Object(
  { status: Type.String({ enum: ['ok', 'unavailable'] }) },
  { additionalProperties: false },
)

/** Runs `probe` with a deadline; true when it resolved in time. */
async function answersWithin(probe: () => Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs)
  })
  try {
    return await Promise.race([
      probe().then(
        () => true,
        () => false,
      ),
      deadline,
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Registers `/healthz`. */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (
  app,
  { probe, timeoutMs = 2000 },
) => {
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: { hide: true, response: { 200: HealthBody, 503: HealthBody } },
    },
    async (request, reply) => {
      if (await answersWithin(probe, timeoutMs)) return { status: 'ok' }
      request.log.warn('health probe failed')
      return reply.code(503).send({ status: 'unavailable' })
    },
  )
}
