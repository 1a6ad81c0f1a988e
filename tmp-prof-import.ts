import { memoryCheckpoint } from './src/nova/db-import/import-checkpoint.js'
import { importNovaCells } from './src/nova/db-import/nova-db-import.js'
import { openNovaCell } from './src/nova/db-import/open-cell.js'
import { openOfflineStore } from './src/store/open-offline-store.js'
import { rmSync } from 'node:fs'
const db = '/tmp/prof/store.db'
rmSync(db, { force: true })
const offline = await openOfflineStore(db)
const cell = await openNovaCell(`sqlite:${process.argv[2]}`)
const t0 = performance.now(); const c0 = process.cpuUsage()
await importNovaCells({ store: offline.store, importer: offline.importer, cells: [cell], checkpoint: memoryCheckpoint() })
const u = process.cpuUsage(c0)
console.log('load s', ((performance.now() - t0) / 1000).toFixed(1), 'cpu s', ((u.user + u.system) / 1e6).toFixed(1))
await cell.close()
await offline.close()
