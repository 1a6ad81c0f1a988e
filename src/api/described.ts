/** A response schema with the description the OpenAPI document shows for it. */
import type { TSchema } from 'typebox'

/** `schema` described for one response (the same body can mean different things per status). */
export function described<T extends TSchema>(schema: T, description: string): T {
  return { ...schema, description }
}
