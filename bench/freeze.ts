/**
 * `npm run bench:freeze [-- --attacks a,b --idle-ms 3000 --batch-mib 64 --tracebacks 60 --traceback-chars N]`
 *
 * Does one hostile request freeze everybody else (issue 9)? A real `actiontrail serve` (child
 * process, SQLite file, log level warn) is probed with `GET /` (the public version document) by one
 * closed-loop client, first idle, then during each attack, on a fresh server each time:
 *  (a) batch: one chunked `POST /v1/batch` of a JSON array of `{}`, 64 MiB (about 22 million
 *      operations, far over the 100,000 cap);
 *  (b) tracebacks: 60 concurrent `POST …/events/{event}/finish`, each with a traceback just under
 *      1 MiB made of the pattern that keeps the sanitizer busiest (`x://u:p `, see
 *      test/helpers/freeze-attacks.ts) — all of them real writes, answered 200.
 * Printed per line: the probe's p50 and max latency idle and during the attack, their ratios
 * (attack / idle), how long the attack took to be answered and with what, and the server's RSS before, after
 * and at its peak (VmHWM, Linux). Uses only the HTTP API, so the same file runs against any commit.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  adversarialFinish,
  emptyObjectsBatch,
  percentile,
  prepareFailures,
  probeIdle,
  residentMemory,
  sendStreamed,
  startProbe,
  type StreamedRequest,
} from '../test/helpers/freeze-attacks.js'
import { startActionTrail } from './child-server.js'

const { values } = parseArgs({
  options: {
    'idle-ms': { type: 'string', default: '3000' },
    'batch-mib': { type: 'string', default: '64' },
    tracebacks: { type: 'string', default: '60' },
    attacks: { type: 'string', default: 'a,b' },
    // Just under the single endpoints' body limit of the original 1 MiB, with the JSON around it.
    'traceback-chars': { type: 'string', default: String(1024 * 1024 - 4096) },
  },
})
const IDLE_MS = Number(values['idle-ms'])
const BATCH_MIB = Number(values['batch-mib'])
const TRACEBACKS = Number(values.tracebacks)
const TRACEBACK_CHARS = Number(values['traceback-chars'])
const ATTACKS = new Set(values.attacks.split(','))
const TOKEN = 'bench-service-token'

interface Row {
  attack: string
  idleP50: number
  idleMax: number
  p50: number
  max: number
  probes: number
  failures: number
  seconds: number
  answers: string
  rssBefore: number
  rssAfter: number
  rssPeak: number
}

async function run(
  name: string,
  prepare: (url: string) => Promise<void>,
  build: () => StreamedRequest[],
): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-bench-freeze-'))
  const server = await startActionTrail({
    dir,
    tokens: [{ token: TOKEN, user_id: 'bench', project_id: 'service', roles: ['service'] }],
  })
  try {
    await prepare(server.url)
    // Built before the clock starts: the prober shares this process.
    const requests = build()
    const idle = await probeIdle(server.url, IDLE_MS)
    const before = residentMemory(server.pid)
    const probe = startProbe(server.url)
    const t0 = process.hrtime.bigint()
    const answers = await Promise.all(requests.map((r) => sendStreamed(server.url, r)))
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    const during = await probe.stop()
    const after = residentMemory(server.pid)
    const counts = new Map<number, number>()
    for (const a of answers) counts.set(a.status, (counts.get(a.status) ?? 0) + 1)
    return {
      attack: name,
      idleP50: percentile(idle.latencies, 50),
      idleMax: Math.max(...idle.latencies),
      p50: percentile(during.latencies, 50),
      max: Math.max(...during.latencies),
      probes: during.latencies.length,
      failures: during.failures,
      seconds,
      answers: [...counts].map(([status, n]) => `${n}×${status}`).join(' '),
      rssBefore: before?.rss ?? NaN,
      rssAfter: after?.rss ?? NaN,
      rssPeak: after?.peak ?? NaN,
    }
  } finally {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(0))
const mib = (n: number) => (Number.isNaN(n) ? 'n/a' : (n / 1024 / 1024).toFixed(0))

function print(rows: Row[]): void {
  const header = [
    'attack',
    'idle p50 ms',
    'idle max ms',
    'attack p50 ms',
    'attack max ms',
    'p50 ratio',
    'max ratio',
    'probes (failed)',
    'answered in s',
    'answers',
    'RSS before MiB',
    'RSS after MiB',
    'RSS peak MiB',
  ]
  const lines = rows.map((r) => [
    r.attack,
    ms(r.idleP50),
    ms(r.idleMax),
    ms(r.p50),
    ms(r.max),
    `${(r.p50 / r.idleP50).toFixed(1)}×`,
    `${(r.max / r.idleMax).toFixed(1)}×`,
    `${r.probes} (${r.failures})`,
    r.seconds.toFixed(1),
    r.answers,
    mib(r.rssBefore),
    mib(r.rssAfter),
    mib(r.rssPeak),
  ])
  console.log(`| ${header.join(' | ')} |`)
  console.log(`|${header.map(() => ' --- ').join('|')}|`)
  for (const l of lines) console.log(`| ${l.join(' | ')} |`)
}

console.log(
  `bench:freeze — Node ${process.version}, ${cpus().length} cores; idle probe ${IDLE_MS} ms; ` +
    `batch ${BATCH_MIB} MiB of {}; ${TRACEBACKS} tracebacks of ${TRACEBACK_CHARS} characters`,
)
const rows: Row[] = []
if (ATTACKS.has('a')) {
  rows.push(
    await run(
      `(a) ${BATCH_MIB} MiB JSON array of {}`,
      async () => {},
      () => [emptyObjectsBatch(TOKEN, BATCH_MIB * 1024 * 1024)],
    ),
  )
}
if (ATTACKS.has('b')) {
  rows.push(
    await run(
      `(b) ${TRACEBACKS} × ${(TRACEBACK_CHARS / 1024).toFixed(0)} KiB adversarial tracebacks`,
      (url) => prepareFailures(url, TOKEN, TRACEBACKS),
      () =>
        Array.from({ length: TRACEBACKS }, (_, i) => adversarialFinish(TOKEN, i, TRACEBACK_CHARS)),
    ),
  )
}
print(rows)
