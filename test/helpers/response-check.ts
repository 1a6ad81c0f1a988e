/**
 * The documents cannot drift: every answer an API suite receives through `app.inject` is checked
 * against the OpenAPI document of its surface (`/openapi.json` for the compute surface,
 * `/v1/openapi.json` for /v1), by its route and status. An undocumented status, or a body that does
 * not match the documented schema, is recorded; the harness fails the test at its end. So is any
 * answer, documented or not, that carries a stack trace (test/helpers/leak-scan.ts).
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import { stackTraceIn } from './leak-scan.js'

interface Operation {
  method: string
  pattern: RegExp
  template: string
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>
}

// Routes that are in no document on purpose: the documents themselves, the health probes and the
// Prometheus exposition text.
const UNDOCUMENTED = new Set([
  '/openapi.json',
  '/v1/openapi.json',
  '/healthz',
  '/readyz',
  '/metrics',
])

function operationsOf(doc: {
  paths: Record<string, Record<string, Operation['responses'] | unknown>>
}): Operation[] {
  const out: Operation[] = []
  for (const [template, methods] of Object.entries(doc.paths)) {
    const pattern = new RegExp(
      `^${template.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`,
    )
    for (const [method, op] of Object.entries(methods)) {
      out.push({
        method: method.toUpperCase(),
        pattern,
        template,
        responses: (op as { responses: Operation['responses'] }).responses,
      })
    }
  }
  // A literal segment wins over a parameter (`/servers/detail` before `/servers/{server_id}`).
  return out.sort((a, b) =>
    (b.template.match(/\{/g)?.length ?? 0) < (a.template.match(/\{/g)?.length ?? 0) ? 1 : -1,
  )
}

/** Checks every injected answer of `app` against its documents; `violations()` lists what failed. */
export async function checkResponses(
  app: FastifyInstance,
): Promise<{ violations: () => string[] }> {
  const violations: string[] = []
  const docs = await Promise.all(
    ['/openapi.json', '/v1/openapi.json'].map(async (url) => (await app.inject(url)).json()),
  )
  const operations = docs.flatMap(operationsOf)
  const ajv = new Ajv({ strict: false, allowUnionTypes: true, allErrors: true })
  addFormats.default(ajv)
  const compiled = new Map<unknown, ValidateFunction>()
  const validatorOf = (schema: unknown): ValidateFunction => {
    let v = compiled.get(schema)
    if (!v) compiled.set(schema, (v = ajv.compile(schema as object)))
    return v
  }
  const fault =
    docs[0].paths['/v2.1/servers'].get.responses['404'].content['application/json'].schema
  const v1Error =
    docs[1].paths['/v1/instances/{uuid}'].put.responses['400'].content['application/json'].schema

  const check = (options: InjectOptions | string, res: LightMyRequestResponse): void => {
    const method = (typeof options === 'string' ? 'GET' : (options.method ?? 'GET')).toUpperCase()
    const url = typeof options === 'string' ? options : String(options.url ?? options.path ?? '/')
    const path = url.split('?')[0] ?? '/'
    const where = `${method} ${path} → ${res.statusCode}`
    const trace = stackTraceIn(res.body)
    if (trace) violations.push(`${where}: a stack trace in the answer: ${trace}`)
    if (method === 'HEAD' || UNDOCUMENTED.has(path)) return
    // The Action Log page's files and routes are no API (no OpenAPI entry); its errors are in the
    // /v1 format (src/api/ui/index.ts).
    // Dot segments resolved as the server resolves them (`/ui/../x` is not the page's).
    // A path starting with `//` would be read as a host (`//v2.1//servers`: an invalid one).
    const resolved = new URL(`http://localhost/${path.replace(/^\/+/, '')}`).pathname
    const ui = resolved === '/ui' || resolved.startsWith('/ui/')
    if (ui && res.statusCode < 400) return
    const op = operations.find((o) => o.method === method && o.pattern.test(path))
    let schema: unknown
    if (op) {
      const documented = op.responses[String(res.statusCode)]
      if (!documented) {
        violations.push(`${where}: status not documented for ${method} ${op.template}`)
        return
      }
      schema = documented.content?.['application/json']?.schema
    } else {
      // No route: the surface's not-found (or an earlier auth/version error) in its error format.
      schema = ui || path === '/v1' || path.startsWith('/v1/') ? v1Error : fault
    }
    if (!schema) return
    let body: unknown
    try {
      body = JSON.parse(res.body)
    } catch {
      violations.push(`${where}: body is not JSON`)
      return
    }
    const validate = validatorOf(schema)
    if (!validate(body))
      violations.push(`${where}: ${ajv.errorsText(validate.errors)} in ${res.body.slice(0, 300)}`)
  }

  const inject = app.inject.bind(app) as (
    o: InjectOptions | string,
  ) => Promise<LightMyRequestResponse>
  ;(app as unknown as { inject: typeof inject }).inject = async (
    options: InjectOptions | string,
  ) => {
    const res = await inject(options)
    check(options, res)
    return res
  }
  return { violations: () => [...violations] }
}
