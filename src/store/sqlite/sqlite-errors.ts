/** Which SQLite failures mean "the store is unavailable", for reads and writes alike. */
import { AppError } from '../../domain/errors.js'

// Busy or locked beyond the busy timeout, disk full, I/O error, file gone or read-only, and a
// damaged file (CORRUPT, NOTADB): failures of the database rather than of the statement, which no
// change to the request can fix, and which an operator must see as the store being down (503)
// rather than as a bug (500).
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|READONLY|CORRUPT|NOTADB)/

/** Maps driver failures to typed errors: the ones above become `store_unavailable` (503). */
export function mapSqliteError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code
  if (!(err instanceof AppError) && typeof code === 'string' && UNAVAILABLE.test(code)) {
    return new AppError('store_unavailable', `database unavailable (${code})`, { cause: err })
  }
  return err
}
