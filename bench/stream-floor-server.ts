/**
 * The floor of bench:stream: what any server on this machine pays to answer the bench's batches
 * and fan their changes out to the same subscribers, with no store at all. It speaks the part of
 * ActionTrail's API the bench uses (`POST /v1/batch`, `GET /v1/stream` with `?instance=`,
 * `?after=` and `Last-Event-ID`, members limited to their project's instances) and fans out as
 * ActionTrail does (stream-hub.ts): subscribers with the same filter form a group, a wake's share
 * of a group is encoded once and written to each member in one socket write. Every operation of
 * a batch is one change, numbered in order and kept in memory for the replay; a batch's changes
 * go out right after its answer, as a commit's do.
 *
 * Messages have the shape and about the size of ActionTrail's for an admin (an action's view, or
 * an event's with its action's identity; bench:stream prints the mean bytes per delivery of both).
 *
 * Usage (bench/stream.ts starts it): `node --import tsx bench/stream-floor-server.ts TOKEN_FILE`;
 * prints `listening on http://…`.
 */
import http from 'node:http'
import { readFileSync } from 'node:fs'
import type { BenchToken } from './child-server.js'

interface Op {
  op: string
  instance_uuid: string
  request_id?: string
  project_id?: string
  user_id?: string
  action?: string
  event?: string
  host?: string
  result?: string
}

/** A group of subscribers with one filter: every change, a project's instances, or one instance. */
interface Group {
  members: Set<http.ServerResponse>
  texts: string[]
}

const tokens = new Map(
  (
    JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as { tokens: BenchToken[] }
  ).tokens.map((t) => [t.token, t]),
)
const ownerOf = new Map<string, string>()
/** The log: every change's message and the key of its instance and owner project. */
const log: { text: string; instance: string; owner: string }[] = []
const groups = new Map<string, Group>()
/** Groups with texts waiting for the next wake. */
let touched: Group[] = []

const groupOf = (key: string): Group => {
  let g = groups.get(key)
  if (!g) groups.set(key, (g = { members: new Set(), texts: [] }))
  return g
}

function render(op: Op, position: number, at: string): string {
  const finished = op.op.endsWith('_finish')
  const request = op.request_id ?? ''
  const data = op.op.startsWith('event_')
    ? {
        instance_uuid: op.instance_uuid,
        request_id: request,
        action: 'reboot',
        event: {
          event: op.event,
          start_time: at,
          finish_time: finished ? at : null,
          result: finished ? (op.result ?? 'Success') : null,
          host: op.host ?? 'compute-1',
          hostId: '9f0c4c8e2f5e6a1b3d7c8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d',
          traceback: null,
          details: null,
        },
      }
    : {
        action: {
          action: op.action ?? 'reboot',
          instance_uuid: op.instance_uuid,
          request_id: request,
          user_id: op.user_id ?? 'bench-user',
          project_id: op.project_id ?? ownerOf.get(op.instance_uuid) ?? '',
          start_time: at,
          finish_time: finished ? at : null,
          message: null,
          updated_at: at,
          owner_project_id: ownerOf.get(op.instance_uuid) ?? '',
        },
      }
  return `id: ${position}\nevent: ${op.op.startsWith('event_') ? 'event' : 'action'}\ndata: ${JSON.stringify(data)}\n\n`
}

function offer(key: string, text: string): void {
  const g = groups.get(key)
  if (!g || g.members.size === 0) return
  if (g.texts.length === 0) touched.push(g)
  g.texts.push(text)
}

/** The wake after a batch's answer: one write per member of every touched group. */
function wake(): void {
  const now = touched
  touched = []
  for (const g of now) {
    const chunk = Buffer.from(g.texts.join(''))
    g.texts = []
    for (const res of g.members) res.write(chunk)
  }
}

function batch(body: string, res: http.ServerResponse): void {
  const at = new Date().toISOString()
  for (const line of body.split('\n')) {
    if (line.trim() === '') continue
    const op = JSON.parse(line) as Op
    if (op.op === 'instance_put') {
      ownerOf.set(op.instance_uuid, op.project_id ?? '')
      continue
    }
    const owner = ownerOf.get(op.instance_uuid) ?? ''
    const text = render(op, log.length + 1, at)
    log.push({ text, instance: op.instance_uuid, owner })
    offer('all', text)
    offer(`p:${owner}`, text)
    offer(`i:${op.instance_uuid}`, text)
  }
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end('{"results":[]}')
  wake()
}

function stream(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
  const token = tokens.get(String(req.headers['x-auth-token'] ?? ''))
  if (!token) {
    res.writeHead(401).end('{"error":"unauthorized"}')
    return
  }
  const instance = url.searchParams.get('instance')
  const key = instance
    ? `i:${instance}`
    : token.roles.includes('admin')
      ? 'all'
      : `p:${token.project_id}`
  const header = req.headers['last-event-id']
  const after = Number(
    (typeof header === 'string' ? header : undefined) ??
      url.searchParams.get('after') ??
      log.length,
  )
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'close',
  })
  res.write('retry: 1000\n: ready\n\n')
  const replay: string[] = []
  for (let p = after; p < log.length; p++) {
    const c = log[p] as (typeof log)[number]
    if (key === 'all' || key === `i:${c.instance}` || key === `p:${c.owner}`) replay.push(c.text)
  }
  if (replay.length > 0) res.write(replay.join(''))
  const g = groupOf(key)
  g.members.add(res)
  res.on('close', () => g.members.delete(res))
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (req.method === 'POST' && url.pathname === '/v1/batch') {
    const parts: Buffer[] = []
    req.on('data', (d: Buffer) => parts.push(d))
    req.on('end', () => batch(Buffer.concat(parts).toString('utf8'), res))
  } else if (req.method === 'GET' && url.pathname === '/v1/stream') stream(req, res, url)
  else res.writeHead(404).end()
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  console.log(
    `listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
  )
})
process.on('SIGTERM', () => process.exit(0))
