/**
 * Keystone password credentials the way the openstack client takes them: `--os-*` flags, each
 * falling back to its `OS_*` variable (an openrc file's), with the password preferably from
 * `$OS_PASSWORD` or `--os-password-file` rather than the command line, where `ps` shows it.
 * Messages name the flags and variables, never their values.
 */
import { readFileSync } from 'node:fs'
import { keystoneV3Url } from '../auth/keystone/keystone-authenticator.js'
import type { PasswordCredentials } from '../auth/keystone/keystone-credentials.js'
import { usageError } from './cli-error.js'

/** The `--os-*` flags (commander's camelCase names). */
export interface OsAuthFlags {
  osAuthUrl?: string
  osUsername?: string
  osPassword?: string
  osPasswordFile?: string
  osProjectName?: string
  osUserDomainName?: string
  osProjectDomainName?: string
  osRegionName?: string
  osInterface?: string
}

/** A Keystone login and where to look in its catalog. */
export interface OsAuth {
  /** Keystone's v3 URL. */
  url: string
  credentials: PasswordCredentials
  /** Catalog interface: `public`, `internal` or `admin`. */
  interface: string
  /** Catalog region; none: any. */
  region?: string
}

const INTERFACES = ['public', 'internal', 'admin']

/** The flag's value, else its variable's; empty counts as unset (as in an openrc file). */
function pick(flag: string | undefined, variable: string, env: NodeJS.ProcessEnv): string {
  return flag || env[variable] || ''
}

/** The password: `--os-password-file` (first line), `--os-password`, or `$OS_PASSWORD`. */
function password(flags: OsAuthFlags, env: NodeJS.ProcessEnv): string {
  if (flags.osPasswordFile === undefined) return pick(flags.osPassword, 'OS_PASSWORD', env)
  let text: string
  try {
    text = readFileSync(flags.osPasswordFile, 'utf8')
  } catch (err) {
    throw usageError(
      `--os-password-file: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    )
  }
  // `echo secret > file` ends it with a newline that is not part of the password.
  return text.replace(/\r?\n$/, '')
}

/** True when Keystone credentials were asked for on the command line (`--os-auth-url`). */
export function osAuthOnCommandLine(flags: OsAuthFlags): boolean {
  return Boolean(flags.osAuthUrl)
}

/**
 * The login the flags and environment describe; throws a usage error naming what is missing or
 * wrong. Call it only when Keystone credentials are meant (`--os-auth-url` or `$OS_AUTH_URL`).
 */
export function resolveOsAuth(flags: OsAuthFlags, env: NodeJS.ProcessEnv = process.env): OsAuth {
  const authUrl = pick(flags.osAuthUrl, 'OS_AUTH_URL', env)
  let parsed: URL | undefined
  try {
    parsed = new URL(authUrl)
  } catch {
    parsed = undefined
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
    throw usageError('--os-auth-url ($OS_AUTH_URL) must be an http(s) URL')
  const values = {
    username: pick(flags.osUsername, 'OS_USERNAME', env),
    password: password(flags, env),
    project: pick(flags.osProjectName, 'OS_PROJECT_NAME', env),
  }
  const names = {
    username: '--os-username ($OS_USERNAME)',
    password: '--os-password-file or $OS_PASSWORD',
    project: '--os-project-name ($OS_PROJECT_NAME)',
  }
  const missing = (Object.keys(values) as (keyof typeof values)[]).filter((k) => !values[k])
  if (missing.length > 0)
    throw usageError(`Keystone login: missing ${missing.map((k) => names[k]).join(', ')}`)
  // keystoneauth also accepts the v2 catalog's names (publicURL…).
  const iface = pick(flags.osInterface, 'OS_INTERFACE', env).replace(/URL$/, '') || 'public'
  if (!INTERFACES.includes(iface))
    throw usageError(`--os-interface must be one of ${INTERFACES.join(', ')}`)
  const region = pick(flags.osRegionName, 'OS_REGION_NAME', env)
  return {
    url: keystoneV3Url(authUrl),
    credentials: {
      kind: 'password',
      ...values,
      userDomain: pick(flags.osUserDomainName, 'OS_USER_DOMAIN_NAME', env) || 'Default',
      projectDomain: pick(flags.osProjectDomainName, 'OS_PROJECT_DOMAIN_NAME', env) || 'Default',
    },
    interface: iface,
    ...(region ? { region } : {}),
  }
}
