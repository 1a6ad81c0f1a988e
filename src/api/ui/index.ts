/**
 * The Action Log page at `/ui`, one encapsulated plugin: the built page's files (no token needed
 * to load them: the page signs in itself and calls /v1 with its token), `GET /ui/config.json`
 * (which sign-in form to show) and, in Keystone mode, `POST /ui/sign-in`. Every answer carries
 * the page's Content-Security-Policy (security-headers.ts); errors use the /v1 format.
 *
 * Caching: content-hashed files under `/ui/assets/` are cached for a year (`immutable`); the page
 * itself is revalidated on every load (`no-cache` with an ETag, answered 304 when unchanged), so a
 * new release is picked up at once.
 * @module
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { installErrorFormat, NOT_FOUND_ANSWER } from '../errors.js'
import { sendV1Error, V1_CONTENT_TYPE } from '../v1/error-body.js'
import { v1Ajv } from '../v1/schemas.js'
import { keystoneSignIn, SignInBody, type KeystoneSignInOptions } from './keystone-sign-in.js'
import { UI_SECURITY_HEADERS } from './security-headers.js'
import { loadWebAssets, WEB_DIST_DIR, type WebAsset } from './web-assets.js'

/** Where the page is mounted. */
export const UI_PREFIX = '/ui'

/** What the page's plugin needs. */
export interface UiSurfaceOptions {
  /** The built page (`web/dist` by default). */
  assetsDir?: string
  /** Keystone mode: where `POST /ui/sign-in` logs in. Absent: the page signs in with a token. */
  keystone?: KeystoneSignInOptions
}

const NOT_BUILT =
  'The Action Log page is not built. In a checkout, run `npm run build:web` (or `npm start`, ' +
  'which builds it when needed).'

// The sign-in form is a few hundred bytes; nothing bigger is read.
const SIGN_IN_BODY_LIMIT = 16 * 1024

/** True when the client sent the asset's current ETag (RFC 9110 weak comparison, `*` included). */
function unchanged(request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match']
  if (typeof header !== 'string') return false
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*')
}

/** Sends a built file with its caching headers, compressed when the client accepts gzip. */
function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: WebAsset): FastifyReply {
  reply
    .header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('etag', asset.etag)
    .header('vary', 'accept-encoding')
  if (unchanged(request, asset.etag)) return reply.code(304).send()
  reply.type(asset.contentType)
  const accepts = request.headers['accept-encoding']
  if (asset.gzip && typeof accepts === 'string' && /\bgzip\b/i.test(accepts))
    return reply.header('content-encoding', 'gzip').send(asset.gzip)
  return reply.send(asset.body)
}

/** Registers the page; mount it with `{ prefix: UI_PREFIX }`. */
export const uiSurface: FastifyPluginAsyncTypebox<UiSurfaceOptions> = async (app, options) => {
  installErrorFormat(app, sendV1Error)
  // As in /v1: unknown fields are refused, not silently dropped; nothing is coerced.
  app.setValidatorCompiler(({ schema }) => v1Ajv.compile(schema))
  const assets = loadWebAssets(options.assetsDir ?? WEB_DIST_DIR)
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(UI_SECURITY_HEADERS)
    return payload
  })

  const page = async (request: FastifyRequest, reply: FastifyReply) => {
    const index = assets?.get('index.html')
    if (!index) {
      reply.header('cache-control', 'no-store')
      return sendV1Error(reply, { status: 503, code: 'ui_not_built', message: NOT_BUILT })
    }
    return sendAsset(request, reply, index)
  }
  // `/ui` and `/ui/` (Fastify registers both for a prefix's root route).
  app.get('/', { config: { public: true }, schema: { hide: true } }, page)

  app.get(
    '/config.json',
    { config: { public: true }, schema: { hide: true } },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store').type(V1_CONTENT_TYPE)
      return { auth: options.keystone ? 'keystone' : 'token' }
    },
  )

  // Registered in every mode (public), so that a sign-in attempt against a token-mode server is a
  // plain 404 rather than a request for a token.
  const keystone = options.keystone
  app.post(
    '/sign-in',
    {
      config: { public: true },
      bodyLimit: SIGN_IN_BODY_LIMIT,
      schema: { hide: true, body: SignInBody },
    },
    async (request, reply) => {
      if (!keystone) return sendV1Error(reply, NOT_FOUND_ANSWER)
      const signedIn = await keystoneSignIn(request.body, keystone)
      reply.header('cache-control', 'no-store').type(V1_CONTENT_TYPE)
      return signedIn
    },
  )

  app.get<{ Params: { '*': string } }>(
    '/*',
    {
      config: { public: true },
      schema: { hide: true, params: Type.Object({ '*': Type.String() }) },
    },
    async (request, reply) => {
      const path = request.params['*']
      const asset = path === 'index.html' ? undefined : assets?.get(path)
      if (!asset) return sendV1Error(reply, NOT_FOUND_ANSWER)
      return sendAsset(request, reply, asset)
    },
  )
}
