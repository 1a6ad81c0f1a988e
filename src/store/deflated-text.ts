/**
 * Text kept compressed (raw DEFLATE, zlib's default level). Remembered answers repeat themselves:
 * the answer to a 300 KB batch of invalid operations is 11.6 MB of one error message over and
 * over, and deflates to 39 KB (measured, ~300×); a single write's answer of a few hundred bytes
 * still shrinks by a third. zlib runs on libuv's thread pool, so compressing an 11.6 MB answer
 * (31 ms measured) does not stall other requests.
 */
import { promisify } from 'node:util'
import { deflateRaw, inflateRaw } from 'node:zlib'

const deflate = promisify(deflateRaw)
const inflate = promisify(inflateRaw)

/** `text` as UTF-8, compressed. */
export async function deflateText(text: string): Promise<Buffer> {
  return deflate(Buffer.from(text, 'utf8'))
}

/** The text that `deflateText` compressed. */
export async function inflateText(stored: Uint8Array): Promise<string> {
  return (await inflate(stored)).toString('utf8')
}
