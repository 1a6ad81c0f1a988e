/** `actiontrail import --from-nova-api URL`: backfill the history of an existing Nova from its API. */
import { resolveDatabase } from '../../config.js'
import { createActionService } from '../../local-service.js'
import { NovaApiClient, NovaRequestError } from '../../nova/api-import/nova-api-client.js'
import { importFromNovaApi, type ImportTotals } from '../../nova/api-import/nova-api-import.js'
import { NOVA_IMPORT_WRITER, novaWriterTag } from '../../nova/nova-writers.js'
import { openStore } from '../../store/open-store.js'
import { CliError, EXIT, usageError } from '../cli-error.js'

/** The flags the API import reads. */
export interface NovaApiImportFlags {
  fromNovaApi?: string
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

/** Runs `import --from-nova-api`. */
export async function importFromNovaApiCommand(opts: NovaApiImportFlags): Promise<void> {
  if (!opts.fromNovaApi) throw usageError('--from-nova-api URL is required')
  let url: URL
  try {
    url = new URL(opts.fromNovaApi)
  } catch {
    throw usageError('--from-nova-api must be an http(s) URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw usageError('--from-nova-api must be an http(s) URL')
  const token = opts.token ?? process.env.ACTIONTRAIL_NOVA_TOKEN ?? process.env.OS_AUTH_TOKEN
  if (!token) throw usageError('a Nova token is required: --token or $ACTIONTRAIL_NOVA_TOKEN')
  const rate = positive('--rate', opts.rate, true)
  const pageSize = positive('--page-size', opts.pageSize)
  if (!Number.isInteger(pageSize)) throw usageError('--page-size must be an integer')
  const endpoint = opts.fromNovaApi.replace(/\/+$/, '')
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
