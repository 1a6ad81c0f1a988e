/**
 * Finding nova-api in a Keystone v3 service catalog, as the openstack client does: the service of
 * type `compute`, the endpoint of the wanted interface (public unless asked), in the wanted region
 * when one is named (otherwise the first, as keystoneauth picks it).
 */

/** Which endpoint to take. */
export interface EndpointChoice {
  /** `public` (default), `internal` or `admin`. */
  interface?: string
  /** A region id; none: any region. */
  region?: string
}

interface CatalogEndpoint {
  interface?: unknown
  region?: unknown
  region_id?: unknown
  url?: unknown
}

/**
 * The compute endpoint's URL, or a message saying what is missing (no compute service, or none
 * of its endpoints matches the interface and region). Never throws on a strange catalog.
 */
export function computeEndpoint(
  catalog: unknown,
  choice: EndpointChoice = {},
): { url: string } | { missing: string } {
  const iface = choice.interface ?? 'public'
  const where = `interface ${iface}${choice.region ? `, region ${choice.region}` : ''}`
  const services = Array.isArray(catalog) ? (catalog as unknown[]) : []
  const compute = services.filter(
    (s): s is { endpoints?: unknown } =>
      typeof s === 'object' && s !== null && (s as { type?: unknown }).type === 'compute',
  )
  if (compute.length === 0) return { missing: 'the catalog has no compute service' }
  for (const service of compute) {
    const endpoints = Array.isArray(service.endpoints) ? (service.endpoints as unknown[]) : []
    for (const e of endpoints as CatalogEndpoint[]) {
      if (!e || e.interface !== iface || typeof e.url !== 'string') continue
      // Keystone sends both `region_id` and the older `region` (the same id).
      if (choice.region && e.region_id !== choice.region && e.region !== choice.region) continue
      return { url: e.url.replace(/\/+$/, '') }
    }
  }
  return { missing: `the catalog has no compute endpoint with ${where}` }
}
