/**
 * The authenticator of a configuration (ACTIONTRAIL_AUTH): the token file (default), Keystone, or
 * the no-auth development mode, each behind the one Authenticator interface.
 */
import type { Logger } from 'pino'
import type { ServeConfig } from '../config.js'
import { AppError } from '../domain/errors.js'
import { KeystoneAuthenticator } from './keystone/keystone-authenticator.js'
import { assertLoopback, NoAuthAuthenticator } from './noauth-authenticator.js'
import type { Authenticator } from './principal.js'
import { ReloadingTokenFile, type ReloadResult } from './reloading-token-file.js'

/** An authenticator and what the server may do with it. */
export interface ConfiguredAuth {
  authenticator: Authenticator
  /** Re-reads the token file (static mode; the server calls it on SIGHUP). */
  reload?: () => Promise<ReloadResult>
}

/** Builds (and, for Keystone, starts) the authenticator the configuration asks for. */
export async function createAuthenticator(
  config: ServeConfig,
  logger: Logger,
): Promise<ConfiguredAuth> {
  const mode = config.authMode ?? 'static'
  if (mode === 'noauth') {
    assertLoopback(config.host)
    logger.warn(
      'AUTHENTICATION IS OFF (ACTIONTRAIL_AUTH=noauth): every caller is whoever its token ' +
        '"user:project" claims; for development only',
    )
    return { authenticator: new NoAuthAuthenticator() }
  }
  if (mode === 'keystone') {
    if (!config.keystone) throw new AppError('invalid_input', 'Keystone mode has no settings')
    const keystone = new KeystoneAuthenticator({
      url: config.keystone.url,
      credentials: config.keystone.credentials,
      cacheSeconds: config.keystone.cacheSeconds,
      timeoutMs: config.keystone.timeoutMs,
      warn: (message) => logger.warn(message),
    })
    try {
      await keystone.start()
    } catch (err) {
      // Keystone may come up after ActionTrail: requests get 503 until it answers, then work.
      logger.warn(
        `Keystone mode: the service login failed at start-up (${(err as Error).message}); ` +
          'requests get 503 until it succeeds',
      )
    }
    return { authenticator: keystone }
  }
  if (!config.tokenFile) {
    throw new AppError(
      'invalid_input',
      'a token file is required: set ACTIONTRAIL_TOKENS or --tokens ' +
        '(or choose another mode with ACTIONTRAIL_AUTH=keystone)',
    )
  }
  const file = await ReloadingTokenFile.open(config.tokenFile, {
    strict: config.tokensStrict === true,
    warn: (message) => logger.warn(message),
  })
  return { authenticator: file, reload: () => file.reload() }
}
