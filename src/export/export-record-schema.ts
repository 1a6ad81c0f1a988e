/**
 * The schema of an NDJSON export's lines (export-records.ts), written once with TypeBox from the
 * views it is made of, and the check of one line before import: shape by the /v1 validator, then
 * meaning (canonical times, an instance uuid, the action on that instance), since an import writes
 * the records as they are, past the ActionService.
 */
import { Type } from 'typebox'
import { isCanonicalTimestamp, type Timestamp } from '../domain/timestamp.js'
import { isUuid } from '../domain/validation.js'
import { QueryEventSchema, writerTagSchema } from '../api/v1/query-common.js'
import { formatValidationErrors, v1Ajv } from '../api/v1/schemas.js'
import { ActionViewSchema, InstanceViewSchema } from '../api/v1/views.js'
import type { ImportedAction, ImportedInstance } from '../store/action-store.js'
import { EXPORT_FORMAT_VERSION, type ExportEnd, type ExportRecord } from './export-records.js'
import { sanitizedFailure } from '../security/sanitize-traceback.js'

/** One record line of an NDJSON export. */
export const ExportRecordSchema = Type.Object(
  {
    instance: InstanceViewSchema,
    action: Type.Object(
      {
        ...ActionViewSchema.properties,
        written_by: writerTagSchema('Writer tag of who started the action'),
      },
      { additionalProperties: false },
    ),
    events: Type.Array(QueryEventSchema),
    // Only in an export with a proof (export-proof.ts); an import ignores them.
    ids: Type.Optional(
      Type.Object(
        {
          action: Type.Integer({ minimum: 1 }),
          events: Type.Array(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, title: 'ExportRecord' },
)

const validateRecord = v1Ajv.compile(ExportRecordSchema)
const validateHeader = v1Ajv.compile(
  Type.Object({ actiontrail_export: Type.Literal(EXPORT_FORMAT_VERSION) }),
)

const validateEnd = v1Ajv.compile(
  Type.Object(
    {
      actiontrail_export_end: Type.Object(
        { actions: Type.Integer({ minimum: 0 }) },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
)

/**
 * A checked line: a record (what the import writes), the end line (the number of records the
 * export says it holds), or why the line is refused.
 */
export type ParsedExportLine =
  | {
      ok: true
      end?: undefined
      proof?: undefined
      instance: ImportedInstance
      action: ImportedAction
    }
  | { ok: true; end: { actions: number }; proof?: undefined }
  | { ok: true; end?: undefined; proof: true }
  | { ok: false; reason: string }

/** The end line's or failure line's meaning, when `value` is one of those (export-records.ts). */
function closingLine(value: object): ParsedExportLine | undefined {
  // A proof's lines (export-proof.ts) are for `verify --export`; an import has no use for them.
  if ('actiontrail_chain' in value || 'actiontrail_checkpoint' in value)
    return { ok: true, proof: true }
  if ('actiontrail_export_error' in value)
    return { ok: false, reason: 'the export was cut short by the server that wrote it' }
  if (!('actiontrail_export_end' in value)) return undefined
  if (!validateEnd(value))
    return { ok: false, reason: formatValidationErrors(validateEnd.errors ?? [], 'end line') }
  return { ok: true, end: (value as ExportEnd).actiontrail_export_end }
}

/** Why the first line is not an export header of this version, or undefined when it is one. */
export function headerProblem(line: string): string | undefined {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return 'not JSON'
  }
  if (!validateHeader(value)) {
    const why = formatValidationErrors(validateHeader.errors ?? [], 'header')
    return `not an ActionTrail export header of version ${EXPORT_FORMAT_VERSION} (${why})`
  }
  return undefined
}

function times(r: ExportRecord): [string, string | null][] {
  const i = r.instance
  const a = r.action
  return [
    ['instance.created_at', i.created_at],
    ['instance.updated_at', i.updated_at],
    ['instance.deleted_at', i.deleted_at],
    ['action.start_time', a.start_time],
    ['action.finish_time', a.finish_time],
    ['action.created_at', a.created_at],
    ['action.updated_at', a.updated_at],
    ...r.events.flatMap((e, n): [string, string | null][] => [
      [`events/${n}.start_time`, e.start_time],
      [`events/${n}.finish_time`, e.finish_time],
      [`events/${n}.created_at`, e.created_at],
      [`events/${n}.updated_at`, e.updated_at],
    ]),
  ]
}

/** Checks one record line and converts it to the store's import shapes. */
export function parseExportLine(line: string): ParsedExportLine {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (err) {
    return { ok: false, reason: `not JSON (${(err as Error).message})` }
  }
  const closing = typeof value === 'object' && value !== null ? closingLine(value) : undefined
  if (closing) return closing
  if (!validateRecord(value))
    return { ok: false, reason: formatValidationErrors(validateRecord.errors ?? [], 'record') }
  const r = value as ExportRecord
  if (!isUuid(r.instance.uuid)) return { ok: false, reason: `record/instance/uuid is not a UUID` }
  if (r.action.instance_uuid !== r.instance.uuid)
    return { ok: false, reason: 'record/action/instance_uuid is not the instance of the record' }
  for (const [field, t] of times(r))
    if (t !== null && !isCanonicalTimestamp(t))
      return { ok: false, reason: `record/${field} is not a time as YYYY-MM-DDTHH:MM:SS.ffffff` }
  const i = r.instance
  const a = r.action
  return {
    ok: true,
    instance: {
      uuid: i.uuid,
      name: i.name,
      projectId: i.project_id,
      userId: i.user_id,
      createdAt: i.created_at as Timestamp,
      updatedAt: i.updated_at as Timestamp,
      deletedAt: i.deleted_at as Timestamp | null,
    },
    action: {
      instanceUuid: a.instance_uuid,
      action: a.action,
      requestId: a.request_id,
      userId: a.user_id,
      projectId: a.project_id,
      startTime: a.start_time as Timestamp,
      finishTime: a.finish_time as Timestamp | null,
      message: a.message,
      createdAt: a.created_at as Timestamp,
      updatedAt: a.updated_at as Timestamp | null,
      writtenBy: a.written_by,
      events: r.events.map((e) => ({
        event: e.event,
        startTime: e.start_time as Timestamp,
        finishTime: e.finish_time as Timestamp | null,
        result: e.result,
        // Sanitized again, as every write is: an export file is input like any other.
        ...sanitizedFailure(e.traceback ?? null, e.details ?? null),
        host: e.host ?? null,
        createdAt: e.created_at as Timestamp,
        updatedAt: e.updated_at as Timestamp | null,
        writtenBy: e.written_by ?? null,
        finishedBy: e.finished_by ?? null,
      })),
    },
  }
}
