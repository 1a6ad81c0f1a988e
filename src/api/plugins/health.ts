/**
 * Probes for orchestrators and load balancers, public (they probe without a token) and free of
 * detail that would help an attacker (the reason goes to the log):
 *
 * - `GET /healthz`, liveness: 200 while the process serves HTTP and its store connection answers
 *   a trivial query within a bound, 503 otherwise. A failing liveness probe gets the process
 *   restarted, so it does not fail for what a restart would make worse: with its SQLite file
 *   deleted, the process still holds the only copy of the data open (see /readyz).
 * - `GET /readyz`, readiness: 200 when this instance can take traffic, writes included: the store
 *   answers a trivial query within the bound AND its schema is still exactly this build's (not
 *   migrated since by a newer or older binary) AND (SQLite) the database files are still the ones
 *   it opened, checked at each probe; in Keystone mode, Keystone answered recently too (app.ts).
 *   503 tells a load balancer to send requests elsewhere.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'

/** Options of the health routes. */
export interface HealthOptions {
  /** Liveness: resolves when the store answers; rejects (or never settles) when it does not. */
  probe: () => Promise<unknown>
  /** Readiness: resolves when the store can take writes (by default the liveness probe). */
  readinessProbe?: () => Promise<unknown>
  /** How long a probe may take before the answer is 503. */
  timeoutMs?: number
}

const HealthBody = Type.Object(
  { status: Type.String({ enum: ['ok', 'unavailable'] }) },
  { additionalProperties: false },
)

type Outcome = { ok: true } | { ok: false; err?: unknown }

/** Runs `probe` with a deadline. */
async function answersWithin(probe: () => Promise<unknown>, timeoutMs: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false }), timeoutMs)
  })
  try {
    return await Promise.race([
      probe().then(
        (): Outcome => ({ ok: true }),
        (err: unknown): Outcome => ({ ok: false, err }),
      ),
      deadline,
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Registers `/healthz` and `/readyz`. */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (
  app,
  { probe, readinessProbe = probe, timeoutMs = 2000 },
) => {
  // Under overload (plugins/overload.ts) liveness answers as usual and readiness says 503.
  const routes = [
    { url: '/healthz', run: probe, failed: 'health probe failed', overloaded: () => undefined },
    {
      url: '/readyz',
      run: readinessProbe,
      failed: 'readiness probe failed',
      overloaded: (_request: FastifyRequest, reply: FastifyReply) => {
        reply.code(503).header('retry-after', '1')
        return { status: 'unavailable' }
      },
    },
  ]
  for (const { url, run, failed, overloaded } of routes) {
    app.get(
      url,
      {
        config: { public: true, pressureHandler: overloaded as never },
        schema: { hide: true, response: { 200: HealthBody, 503: HealthBody } },
      },
      async (request, reply) => {
        const outcome = await answersWithin(run, timeoutMs)
        if (outcome.ok) return { status: 'ok' }
        request.log.warn(outcome.err === undefined ? { timeoutMs } : { err: outcome.err }, failed)
        return reply.code(503).send({ status: 'unavailable' })
      },
    )
  }
}
