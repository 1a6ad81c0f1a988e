import assert from 'node:assert/strict'
import { test } from 'node:test'
import { computeEndpoint } from './compute-endpoint.js'

// The shape of a Keystone v3 catalog (POST /v3/auth/tokens without ?nocatalog).
const CATALOG = [
  {
    type: 'identity',
    endpoints: [{ interface: 'public', region_id: 'RegionOne', url: 'http://ks:5000/v3' }],
  },
  {
    type: 'compute',
    name: 'nova',
    endpoints: [
      {
        interface: 'internal',
        region_id: 'RegionOne',
        region: 'RegionOne',
        url: 'http://n1-int:8774/v2.1',
      },
      {
        interface: 'public',
        region_id: 'RegionOne',
        region: 'RegionOne',
        url: 'http://n1:8774/v2.1/',
      },
      {
        interface: 'public',
        region_id: 'RegionTwo',
        region: 'RegionTwo',
        url: 'http://n2:8774/v2.1',
      },
    ],
  },
]

test('the public compute endpoint by default, the first region unless one is named', () => {
  assert.deepEqual(computeEndpoint(CATALOG), { url: 'http://n1:8774/v2.1' })
  assert.deepEqual(computeEndpoint(CATALOG, { region: 'RegionTwo' }), {
    url: 'http://n2:8774/v2.1',
  })
  assert.deepEqual(computeEndpoint(CATALOG, { interface: 'internal' }), {
    url: 'http://n1-int:8774/v2.1',
  })
})

test('what is missing is said: no compute service, or no endpoint of that interface and region', () => {
  assert.deepEqual(computeEndpoint([CATALOG[0]]), { missing: 'the catalog has no compute service' })
  assert.deepEqual(computeEndpoint(undefined), { missing: 'the catalog has no compute service' })
  assert.deepEqual(computeEndpoint(CATALOG, { interface: 'admin' }), {
    missing: 'the catalog has no compute endpoint with interface admin',
  })
  assert.deepEqual(computeEndpoint(CATALOG, { interface: 'internal', region: 'RegionTwo' }), {
    missing: 'the catalog has no compute endpoint with interface internal, region RegionTwo',
  })
  assert.deepEqual(computeEndpoint([{ type: 'compute', endpoints: 'nonsense' }, null]), {
    missing: 'the catalog has no compute endpoint with interface public',
  })
})
