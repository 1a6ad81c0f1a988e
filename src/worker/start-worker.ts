/**
 * Starts a worker thread on a module of this package, from the compiled package or from a
 * checkout alike.
 * @module
 */
import { Worker, type WorkerOptions } from 'node:worker_threads'

/**
 * Starts a worker running `name` (a module's file name without extension, next to the module
 * whose `import.meta.url` is `here`). From the compiled package it is `name.js`; in a checkout
 * the sources run through tsx, whose loader a worker does not inherit when it was registered in
 * code (bin/actiontrail.js), so the worker registers it first — resolved from here, not from the
 * working directory.
 */
export function startModuleWorker(
  here: string,
  name: string,
  options: Pick<WorkerOptions, 'workerData'> = {},
): Worker {
  if (!here.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, here), options)
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify(new URL(`./${name}.ts`, here).href)
  return new Worker(
    `import(${tsx}).then(({ register }) => { register(); return import(${entry}) })`,
    { ...options, eval: true },
  )
}
