/**
 * The bodies of the Nova-compatible read API (`/v2.1/servers/{id}/os-instance-actions`) as the
 * client returns them: the compute surface's own schema types (src/api/compute/schemas), the one
 * definition the server's views, its OpenAPI document and the client share. Type-only, so the
 * client bundle loads none of it. Which keys are present depends on the microversion and the
 * caller's policy.
 */
export type {
  NovaInstanceAction,
  NovaInstanceActionDetail,
  NovaInstanceActionEvent,
  NovaInstanceActionList,
  NovaInstanceActionWithEvents,
} from '../api/compute/schemas/instance-actions.js'
