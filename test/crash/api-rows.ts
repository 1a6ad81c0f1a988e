/**
 * Actions and their events as a user reads them: through the Nova-compatible API (`show`, admin,
 * microversion 2.84), in the verifier's row form.
 */
import type { Rows } from './ledger.js'
import { ADMIN_TOKEN } from './bundled-server.js'

interface ShownAction {
  instanceAction: {
    action: string
    instance_uuid: string
    request_id: string
    message: string | null
    events: {
      event: string
      start_time: string
      finish_time: string | null
      result: string | null
    }[]
  }
}

/** The rows of these actions (`uuid request_id` keys) as `GET …/os-instance-actions/{id}` shows them. */
export async function readThroughApi(url: string, keys: Iterable<string>): Promise<Rows> {
  const rows: Rows = { instances: [], actions: [], events: [] }
  for (const key of keys) {
    const [uuid, requestId] = key.split(' ') as [string, string]
    const res = await fetch(`${url}/v2.1/servers/${uuid}/os-instance-actions/${requestId}`, {
      headers: { 'x-auth-token': ADMIN_TOKEN, 'openstack-api-version': 'compute 2.84' },
    })
    const text = await res.text()
    if (res.status === 404) continue
    if (res.status !== 200) throw new Error(`show ${key}: ${res.status} ${text.slice(0, 300)}`)
    const shown = (JSON.parse(text) as ShownAction).instanceAction
    // Nova's show has no finish time of the action itself (verify withoutActionFinish).
    rows.actions.push({
      instance_uuid: shown.instance_uuid,
      request_id: shown.request_id,
      action: shown.action,
      finish_time: null,
      message: shown.message,
    })
    for (const e of shown.events) {
      rows.events.push({ instance_uuid: shown.instance_uuid, request_id: shown.request_id, ...e })
    }
  }
  return rows
}
