/** The slice of Nova's servers API that ActionTrail answers (what clients need to find a server). */
import { Type, type Static } from 'typebox'
import { Link } from './common.js'

const closed = { additionalProperties: false } as const

/** A server in `GET /servers`. */
export const ServerSummary = Type.Object(
  { id: Type.String(), name: Type.String(), links: Type.Array(Link) },
  { ...closed, title: 'ServerSummary' },
)

/** A server in `GET /servers/detail` and `GET /servers/{id}`: only the fields ActionTrail knows. */
export const Server = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    status: Type.String({
      enum: ['ACTIVE', 'DELETED'],
      description: 'ActionTrail knows only whether the server is deleted.',
    }),
    tenant_id: Type.String(),
    user_id: Type.String(),
    created: Type.String({ description: 'UTC, `YYYY-MM-DDTHH:MM:SSZ`.' }),
    updated: Type.String({ description: 'UTC, `YYYY-MM-DDTHH:MM:SSZ`.' }),
    links: Type.Array(Link),
  },
  { ...closed, title: 'Server' },
)

/** `GET /servers`. */
export const ServerListResponse = Type.Object({ servers: Type.Array(ServerSummary) }, closed)
/** `GET /servers/detail`. */
export const ServerDetailListResponse = Type.Object({ servers: Type.Array(Server) }, closed)
/** `GET /servers/{id}`. */
export const ServerShowResponse = Type.Object({ server: Server }, closed)

/** Query of the server lists, for the document (checked by the route itself, as Nova does). */
export const ServerListQuerystring = Type.Object({
  name: Type.Optional(Type.String({ description: 'Only servers whose name contains this text.' })),
  all_tenants: Type.Optional(Type.String({ description: 'Admins: servers of every project.' })),
  all_projects: Type.Optional(Type.String({ description: 'Same as `all_tenants`.' })),
})

/** Path parameters of the lists. */
export const ServerListParams = Type.Object({ project_id: Type.Optional(Type.String()) })
/** Path parameters of show. */
export const ServerShowParams = Type.Object({
  project_id: Type.Optional(Type.String()),
  server_id: Type.String(),
})

/** A server as detail and show answer it. */
export type ServerView = Static<typeof Server>
/** A link of a server. */
export type LinkView = Static<typeof Link>
