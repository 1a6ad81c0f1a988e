/**
 * `actiontrail import --from-nova-api [URL]`: backfill the history of an existing Nova from its
 * API, as an admin: with a token (`--token`), or logged in at Keystone with a password (`--os-*`,
 * `OS_*`), the token then renewed before it expires and after a 401. Without URL, nova-api is the
 * compute endpoint of Keystone's catalog.
 */
import { KeystoneLoginError, ServiceToken } from '../../auth/keystone/service-token.js'
import { resolveDatabase } from '../../config.js'
import { createActionService } from '../../local-service.js'
import { computeEndpoint } from '../../nova/api-import/compute-endpoint.js'
import {
  NovaApiClient,
  NovaRequestError,
  type TokenSource,
} from '../../nova/api-import/nova-api-client.js'
import { importFromNovaApi, type ImportTotals } from '../../nova/api-import/nova-api-import.js'
import { NOVA_IMPORT_WRITER, novaWriterTag } from '../../nova/nova-writers.js'
import { openStore } from '../../store/open-store.js'
import { CliError, EXIT, usageError } from '../cli-error.js'
import { osAuthOnCommandLine, resolveOsAuth, type OsAuthFlags } from '../os-auth.js'

/** The flags the API import reads. */
export interface NovaApiImportFlags extends OsAuthFlags {
  /** The compute endpoint, or `true` (the flag alone): the endpoint of Keystone's catalog. */
  fromNovaApi?: string | true
  token?: string
  rate: string
  checkpoint?: string
  pageSize: string
  db?: string
}

function positive(name: string, value: string, allowZero = false): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0))
    throw usageError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number`)
  return n
}

/** A one-line counter on a terminal's stderr; nothing when stderr is not a TTY. */
function progressLine(): { update: (t: ImportTotals) => void; end: () => void } {
  if (!process.stderr.isTTY) return { update: () => undefined, end: () => undefined }
  let shown = false
  return {
    update: (t) => {
      shown = true
      process.stderr.write(
        `\rimporting: ${t.servers} servers, ${t.actions} actions, ${t.events} events`,
      )
    },
    end: () => {
      if (shown) process.stderr.write('\n')
    },
  }
}

/** `text` without trailing slashes when it is an http(s) URL; else a usage error naming `what`. */
function httpUrl(text: string, what = '--from-nova-api'): string {
  let url: URL | undefined
  try {
    url = new URL(text)
  } catch {
    url = undefined
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw usageError(`${what} must be an http(s) URL`)
  return text.replace(/\/+$/, '')
}

/** How the import authenticates: a fixed token, or a Keystone login (with its catalog). */
type NovaAuth =
  { token: string } | { login: ServiceToken; choice: { interface: string; region?: string } }

/**
 * The command line first: `--token`, then `--os-auth-url` (both: a usage error); then the
 * environment: `$ACTIONTRAIL_NOVA_TOKEN`, `$OS_AUTH_TOKEN` (as with `openstack`, an openrc's token
 * wins over its password), then `$OS_AUTH_URL` with `$OS_USERNAME`, `$OS_PASSWORD`….
 */
function novaAuth(opts: NovaApiImportFlags, env: NodeJS.ProcessEnv): NovaAuth {
  const keystoneFlag = osAuthOnCommandLine(opts)
  if (opts.token !== undefined && keystoneFlag)
    throw usageError('give a token (--token) or Keystone credentials (--os-*), not both')
  const token = keystoneFlag
    ? undefined
    : opts.token || env.ACTIONTRAIL_NOVA_TOKEN || env.OS_AUTH_TOKEN
  if (token) return { token }
  if (!keystoneFlag && !env.OS_AUTH_URL)
    throw usageError(
      'a Nova admin token or Keystone credentials are required: --token or ' +
        '$ACTIONTRAIL_NOVA_TOKEN, or --os-auth-url (or $OS_AUTH_URL) with a user and password',
    )
  const auth = resolveOsAuth(opts, env)
  return {
    login: new ServiceToken({
      url: auth.url,
      credentials: auth.credentials,
      timeoutMs: 30_000,
      fetch: globalThis.fetch,
      now: Date.now,
      catalog: true,
      label: 'the login',
    }),
    choice: { interface: auth.interface, ...(auth.region ? { region: auth.region } : {}) },
  }
}

/** A Keystone login's failure as the CLI reports it: refused (exit 1) or no answer (exit 3). */
function loginFailure(err: KeystoneLoginError): CliError {
  if (err.status === undefined) return new CliError(err.message, EXIT.unreachable)
  const hint =
    err.status === 401
      ? ': check the user, password, project and their domains (--os-*, $OS_*)'
      : ''
  return new CliError(`${err.message}${hint}`, EXIT.api)
}

/** Runs `import --from-nova-api`. */
export async function importFromNovaApiCommand(
  opts: NovaApiImportFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if (opts.fromNovaApi === undefined) throw usageError('--from-nova-api is required')
  // A secret given on the command line is visible in `ps` for as long as the import runs: the
  // title overwrites the argument area (checked on Linux: /proc/PID/cmdline then shows the title).
  if (opts.osPassword !== undefined || opts.token !== undefined)
    process.title = 'actiontrail import'
  const given = typeof opts.fromNovaApi === 'string' ? httpUrl(opts.fromNovaApi) : undefined
  const auth = novaAuth(opts, env)
  if (!given && 'token' in auth)
    throw usageError(
      '--from-nova-api without a URL takes nova-api from the Keystone catalog: give Keystone ' +
        'credentials (--os-auth-url…), or the URL',
    )
  const rate = positive('--rate', opts.rate, true)
  const pageSize = positive('--page-size', opts.pageSize)
  if (!Number.isInteger(pageSize)) throw usageError('--page-size must be an integer')
  let token: string | TokenSource
  let endpoint: string
  if ('token' in auth) {
    token = auth.token
    endpoint = given ?? ''
  } else {
    token = auth.login
    try {
      await auth.login.get()
    } catch (err) {
      if (err instanceof KeystoneLoginError) throw loginFailure(err)
      throw err
    }
    const found = given ? { url: given } : computeEndpoint(auth.login.catalog(), auth.choice)
    if ('missing' in found)
      throw new CliError(
        `keystone: ${found.missing}; give nova-api's URL: --from-nova-api URL`,
        EXIT.api,
      )
    endpoint = httpUrl(found.url, "the catalog's compute endpoint")
  }
  const store = await openStore(resolveDatabase(opts.db))
  const progress = progressLine()
  try {
    const service = createActionService(store)
    const tag = novaWriterTag(await service.writerTagKey(), NOVA_IMPORT_WRITER)
    const client = new NovaApiClient({ url: endpoint, token, rate })
    const totals = await importFromNovaApi({
      client,
      url: endpoint,
      writer: service,
      ...(tag === undefined ? {} : { writerTag: tag }),
      ...(opts.checkpoint ? { checkpoint: opts.checkpoint } : {}),
      pageSize,
      onProgress: progress.update,
    })
    progress.end()
    console.log(
      `imported from Nova (microversion ${totals.version}): ${totals.servers} servers, ` +
        `${totals.actions} actions, ${totals.events} events (${client.requests} requests)` +
        (totals.failed ? `; ${totals.failed} writes refused` : ''),
    )
    if (totals.failed) process.exitCode = EXIT.api
  } catch (err) {
    progress.end()
    if (err instanceof NovaRequestError)
      throw new CliError(err.message, err.kind === 'api' ? EXIT.api : EXIT.unreachable)
    // A renewal of the Keystone token during the import failed.
    if (err instanceof KeystoneLoginError) throw loginFailure(err)
    if (
      err instanceof SyntaxError ||
      (err instanceof Error && err.message.startsWith('not a checkpoint'))
    )
      throw new CliError(`checkpoint: ${err.message}`, EXIT.usage)
    throw err
  } finally {
    await store.close()
  }
}
