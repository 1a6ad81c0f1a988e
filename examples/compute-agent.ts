/**
 * A small compute agent that performs fake reboots and resizes on a few instances and records
 * them in ActionTrail over HTTP, the way a Nova compute service records its actions.
 *
 *   npm start                                   # in another terminal
 *   npx tsx examples/compute-agent.ts           # reads data/tokens.json for the service token
 *   npx tsx examples/compute-agent.ts --rounds 50 --buffered --url http://127.0.0.1:8774
 *
 * Some operations fail on purpose: a PublicError's message becomes the event's `details`; any
 * other error shows only its class name, and its stack frames are stored sanitized.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { ActionRecorder, PublicError } from '../src/index.js'
import { ActionTrailClient, BufferedActionWriter, type ActionWriter } from '../src/client/index.js'

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8774' },
    tokens: { type: 'string', default: 'data/tokens.json' },
    token: { type: 'string' },
    rounds: { type: 'string', default: '12' },
    buffered: { type: 'boolean', default: false },
  },
})

interface TokenFile {
  tokens: { token: string; project_id: string; user_id: string; roles: string[] }[]
}

const tokenFile = JSON.parse(readFileSync(values.tokens, 'utf8')) as TokenFile
const service = values.token ?? tokenFile.tokens.find((t) => t.roles.includes('service'))?.token
// The instances belong to the first member's project, so that member sees them in `openstack`.
const owner = tokenFile.tokens.find((t) => t.roles.includes('member'))
if (!service || !owner)
  throw new Error(`${values.tokens} has no service or member token; pass --token`)

/** Raised by the fake hypervisor when it has no room; its message is safe to show. */
class NoValidHost extends PublicError {}
/** An internal failure whose message must not be shown (it carries a connection string). */
class HypervisorConnectionError extends Error {}

const client = new ActionTrailClient({ baseUrl: values.url, token: service })
const writer: ActionWriter = values.buffered ? new BufferedActionWriter(client) : client
const recorder = new ActionRecorder({ writer, host: 'compute-demo-1' })

const instances = ['agent-vm-1', 'agent-vm-2', 'agent-vm-3'].map((name, i) => ({
  uuid: `a9e7c5b3-0000-4000-8000-00000000000${i + 1}`,
  name,
}))

async function fakeHypervisorCall(op: string, roll: number): Promise<void> {
  await sleep(5 + Math.floor(roll * 20))
  if (op === 'resize' && roll < 0.25)
    throw new NoValidHost('No valid host was found. There are not enough hosts available.')
  if (roll > 0.9)
    throw new HypervisorConnectionError(
      `cannot reach qemu+ssh://root:hunter2@hv-7/system during ${op}`,
    )
}

let failures = 0
for (const inst of instances) {
  await writer.putInstance({
    uuid: inst.uuid,
    name: inst.name,
    projectId: owner.project_id,
    userId: owner.user_id,
  })
}

const rounds = Number(values.rounds)
for (let round = 0; round < rounds; round++) {
  const inst = instances[round % instances.length]!
  const action = round % 2 === 0 ? 'reboot' : 'resize'
  const ctx = {
    requestId: `req-${randomUUID()}`,
    userId: owner.user_id,
    projectId: owner.project_id,
  }
  await recorder.actionStart(ctx, inst.uuid, action)
  const steps =
    action === 'reboot'
      ? ['compute_reboot_instance']
      : ['compute_prep_resize', 'compute_resize_instance', 'compute_finish_resize']
  try {
    for (const event of steps) {
      await recorder.withInstanceEvent(ctx, inst.uuid, event, () =>
        fakeHypervisorCall(action, Math.random()),
      )
    }
    console.log(`${ctx.requestId} ${action.padEnd(6)} ${inst.name}: ok`)
  } catch (err) {
    failures++
    console.log(
      `${ctx.requestId} ${action.padEnd(6)} ${inst.name}: failed (${(err as Error).constructor.name})`,
    )
  }
}
// The buffered writer flushes on close; closing the client as well is harmless when it is the writer.
await writer.close()
await client.close()
console.log(`\n${rounds} actions recorded, ${failures} failed. See them with:`)
console.log(
  `  openstack --os-auth-type admin_token --os-endpoint ${values.url}/v2.1 ` +
    `--os-token=${owner.token} server event list ${instances[0]!.name} --long`,
)
