/** Version discovery (`/`, `/v2`, `/v2.1`), as Nova answers it. */
import { Type, type Static } from 'typebox'

const closed = { additionalProperties: false } as const

const LINK = Type.Object(
  { rel: Type.String(), href: Type.String(), type: Type.Optional(Type.String()) },
  closed,
)

/** One API version in the list. */
export const VersionEntry = Type.Object(
  {
    id: Type.String(),
    status: Type.String({ enum: ['CURRENT', 'SUPPORTED', 'DEPRECATED'] }),
    version: Type.String({ description: 'Highest microversion, empty for v2.0.' }),
    min_version: Type.String({ description: 'Lowest microversion, empty for v2.0.' }),
    updated: Type.String(),
    links: Type.Array(LINK),
  },
  { ...closed, title: 'VersionEntry' },
)

/** One API version in detail. */
export const VersionDetail = Type.Object(
  {
    ...VersionEntry.properties,
    'media-types': Type.Array(Type.Object({ base: Type.String(), type: Type.String() }, closed)),
  },
  { ...closed, title: 'VersionDetail' },
)

/** `GET /`. */
export const VersionListResponse = Type.Object({ versions: Type.Array(VersionEntry) }, closed)
/** `GET /v2.1/`, `GET /v2/`. */
export const VersionShowResponse = Type.Object({ version: VersionDetail }, closed)

/** A version entry. */
export type VersionEntryView = Static<typeof VersionEntry>
/** A version in detail. */
export type VersionDetailView = Static<typeof VersionDetail>
