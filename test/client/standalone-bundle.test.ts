/**
 * `actiontrail/client` stands alone: bundled for the browser from src/client/index.ts, it pulls in
 * only the client's own files and a few dependency-free domain files — no server code, nothing
 * from node_modules, no `node:` import — and the bundle works where only web globals exist (fetch,
 * AbortSignal, setTimeout, Web Crypto), against the real server.
 */
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import vm from 'node:vm'
import { build, type BuildOptions, type Metafile } from 'esbuild'
import { PROJECT_A, TOKENS, USER_A } from '../helpers/build-app.js'
import { CTX, seedVm, startActionTrail, VM } from './support.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const ENTRY = 'src/client/index.ts'

// The domain files the client may load: each imports nothing with side effects and nothing of node.
const ALLOWED_DOMAIN_FILES = new Set([
  'src/domain/errors.ts',
  'src/domain/error-status.ts',
  'src/domain/timestamp.ts',
])

// Files the bundle must contain, so that an empty or partial bundle cannot pass for a clean one.
const EXPECTED_FILES = [
  'src/client/index.ts',
  'src/client/action-trail-client.ts',
  'src/client/buffered-writer.ts',
  'src/client/client-errors.ts',
  'src/client/transport.ts',
  'src/client/retry-after.ts',
  'src/client/retry-policy.ts',
  'src/client/failure-kind.ts',
  'src/client/wire.ts',
  'src/domain/errors.ts',
  'src/domain/error-status.ts',
  'src/domain/timestamp.ts',
]

const BASE: BuildOptions = {
  absWorkingDir: ROOT,
  entryPoints: [ENTRY],
  bundle: true,
  write: false,
  metafile: true,
  platform: 'browser',
  // Kept external rather than failing to resolve, so that the assertions below can name the file
  // that imports a node built-in.
  external: ['node:*'],
  logLevel: 'silent',
}

/** Builds the client; a failed build fails the test with esbuild's messages. */
async function bundle(options: BuildOptions): Promise<{ text: string; metafile: Metafile }> {
  try {
    const result = await build({ ...BASE, ...options })
    const [output] = result.outputFiles ?? []
    assert.ok(output && result.metafile, 'esbuild produced a bundle and a metafile')
    return { text: output.text, metafile: result.metafile }
  } catch (err) {
    const errors =
      (err as { errors?: { text: string; location?: { file: string } | null }[] }).errors ?? []
    const detail = errors.map((e) => `${e.location?.file ?? '?'}: ${e.text}`).join('\n')
    assert.fail(`bundling ${ENTRY} failed:\n${detail || String(err)}`)
  }
}

test('the client bundles for the browser from its own files and dependency-free domain files only', async () => {
  const { metafile } = await bundle({ format: 'esm' })
  const inputs = Object.keys(metafile.inputs)
  // Every problem at once, so that a failure names all the files to fix.
  const problems = [
    ...inputs
      .filter(
        (file) =>
          file.includes('node_modules') ||
          !(file.startsWith('src/client/') || ALLOWED_DOMAIN_FILES.has(file)),
      )
      .map((file) => `${file}: outside src/client and the allowed domain files`),
    ...Object.entries(metafile.inputs).flatMap(([file, input]) =>
      input.imports
        .filter((i) => i.path.startsWith('node:') || i.external)
        .map((i) => `${file}: imports ${i.path}`),
    ),
    ...EXPECTED_FILES.filter((file) => !inputs.includes(file)).map(
      (file) => `${file}: missing from the bundle`,
    ),
  ]
  assert.deepEqual(problems, [])
})

test('the bundle runs with web globals only and records through the real server', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const { text } = await bundle({ format: 'iife', globalName: 'actiontrailClient' })
  // A fresh realm with what a browser (or a worker) offers; `process`, `Buffer` and `require` are
  // absent, so touching any of them fails here.
  const sandbox = vm.createContext({
    fetch,
    Response,
    Headers,
    AbortController,
    AbortSignal,
    setTimeout,
    clearTimeout,
    crypto: globalThis.crypto,
    performance,
    TextEncoder,
    URLSearchParams,
  })
  vm.runInContext(text, sandbox)
  const lib = (sandbox as { actiontrailClient?: typeof import('../../src/client/index.js') })
    .actiontrailClient
  assert.ok(lib, 'the bundle defines its global')

  const client = new lib.ActionTrailClient({
    baseUrl,
    token: TOKENS.serviceA,
    retries: 1,
    backoffMs: 1,
  })
  const writer = new lib.BufferedActionWriter(client, { flushIntervalMs: 1 })
  const START = {
    instanceUuid: VM,
    action: 'reboot',
    requestId: CTX.requestId,
    userId: USER_A,
    projectId: PROJECT_A,
  }
  await client.actionStart(START)
  await writer.eventStart({
    instanceUuid: VM,
    requestId: CTX.requestId,
    event: 'compute_reboot_instance',
    host: 'c-1',
  })
  await writer.eventFinish({
    instanceUuid: VM,
    requestId: CTX.requestId,
    event: 'compute_reboot_instance',
    result: 'Success',
  })
  await writer.close()
  await assert.rejects(
    client.actionStart({ ...START, action: 'resize' }),
    (err: { name?: string; code?: string }) => {
      assert.equal(err.name, 'ClientHttpError')
      assert.equal(err.code, 'conflict')
      return true
    },
  )
  await client.close()

  const reader = new lib.ActionTrailClient({ baseUrl, token: TOKENS.admin, retries: 0 })
  const { instanceAction } = await reader.getAction(VM, CTX.requestId)
  assert.equal(instanceAction.action, 'reboot')
  assert.equal(instanceAction.events?.[0]?.result, 'Success')
  assert.equal(instanceAction.events?.[0]?.host, 'c-1')
})
