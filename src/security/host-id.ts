/**
 * Nova's `hostId`: an opaque per-project name for a host, so that a tenant can tell whether two of
 * its events ran on the same host without learning the host's name.
 */
import { createHash } from 'node:crypto'

/**
 * Lower-case hex SHA-224 of the UTF-8 bytes of `projectId + host`; `""` when there is no host.
 * The project is the action's (the initiator's), falling back to the instance owner's when null.
 */
export function hostId(projectId: string | null, host: string | null): string {
  if (!host) return ''
  return createHash('sha224')
    .update(`${projectId ?? ''}${host}`, 'utf8')
    .digest('hex')
}
