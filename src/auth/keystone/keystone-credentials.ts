/**
 * ActionTrail's own identity in Keystone: a service user with a password (scoped to a project by
 * name), or an application credential (which carries its scope). Either becomes the body of
 * `POST /v3/auth/tokens`.
 */

/** Password credentials of the service user. */
export interface PasswordCredentials {
  kind: 'password'
  username: string
  password: string
  /** Project name the service token is scoped to. */
  project: string
  /** Domain names of the user and the project (`Default` in a fresh Keystone). */
  userDomain: string
  projectDomain: string
}

/** An application credential (id and secret). */
export interface ApplicationCredentials {
  kind: 'application_credential'
  id: string
  secret: string
}

/** How ActionTrail logs in to Keystone. */
export type KeystoneCredentials = PasswordCredentials | ApplicationCredentials

/** The JSON body of the login request. */
export function loginBody(credentials: KeystoneCredentials): string {
  if (credentials.kind === 'application_credential') {
    return JSON.stringify({
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: { id: credentials.id, secret: credentials.secret },
        },
      },
    })
  }
  return JSON.stringify({
    auth: {
      identity: {
        methods: ['password'],
        password: {
          user: {
            name: credentials.username,
            domain: { name: credentials.userDomain },
            password: credentials.password,
          },
        },
      },
      scope: {
        project: { name: credentials.project, domain: { name: credentials.projectDomain } },
      },
    },
  })
}
