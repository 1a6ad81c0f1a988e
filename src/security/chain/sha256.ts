/**
 * SHA-256 in one call, for the hash chain's many small inputs (a record's canonical encoding, a
 * link's 32 bytes and entry): `crypto.hash` (Node ≥ 20.12) hashes without building a Hash object,
 * whose construction, update and digest calls were ~21 % of `actiontrail verify`'s CPU profile
 * (2026-12-07, 120,000 records on SQLite), each a crossing into C++. Measured here (Node 20.20,
 * CPU time per call): a record's digest 1,240–1,570 ns with a Hash object, 400–430 ns in one call;
 * a link 1,430–1,530 ns with two updates, 920–960 ns as one buffer in one call. Where
 * `crypto.hash` is missing, the Hash object gives the same bytes (chain-link.test.ts pins them).
 */
import * as crypto from 'node:crypto'

type OneShot = (algorithm: string, data: string | Buffer, encoding: 'hex') => string

// Looked up once: a Node without it (< 20.12) falls back, a later one uses it.
const oneShot = (crypto as unknown as { hash?: OneShot }).hash

/** The hex SHA-256 of `data` (a string is hashed as UTF-8). */
export const sha256 = (data: string | Buffer): string =>
  oneShot ? oneShot('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex')
