/** Opens a Nova cell database from the URL an operator gives (`import --from-nova-db`). */
import { AppError } from '../../domain/errors.js'
import { openMysqlCell } from './mysql-cell-source.js'
import type { NovaCellSource } from './nova-rows.js'
import { openSqliteCell } from './sqlite-cell-source.js'

/**
 * The SQLite path of a `sqlite:` URL: ours (`sqlite:/abs/path`, `sqlite:rel/path`) or nova.conf's
 * SQLAlchemy form (`sqlite:///rel/path`, `sqlite:////abs/path`).
 */
export function sqlitePath(url: string): string {
  const rest = url.replace(/^sqlite:/i, '')
  return rest.startsWith('//') ? rest.slice(3) : rest
}

/**
 * `mysql://`, `mariadb://` or `mysql+<driver>://` (as in nova.conf) is a MariaDB/MySQL cell;
 * `sqlite:…` an SQLite file. Anything else is refused (invalid_input).
 */
export async function openNovaCell(url: string): Promise<NovaCellSource> {
  const v = url.trim()
  if (/^(mysql(\+\w+)?|mariadb):\/\//i.test(v)) return openMysqlCell(v)
  if (/^sqlite:/i.test(v)) {
    const path = sqlitePath(v)
    if (!path || path === ':memory:')
      throw new AppError('invalid_input', 'a Nova SQLite URL needs a file path')
    return openSqliteCell(path)
  }
  throw new AppError(
    'invalid_input',
    'a Nova database URL is mysql://, mariadb://, mysql+pymysql:// or sqlite:PATH',
  )
}
