/**
 * The chain's bytes are a format: links and digests written by one version are verified by every
 * later one (and by an auditor's copy, offline). Fixed vectors pin them, so that a faster
 * implementation (sha256.ts) cannot change them unnoticed.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sha256Hex } from './canonical-record.js'
import { nextLink } from './chain-link.js'

test('a link is SHA-256 over the previous link’s 32 bytes, then the entry’s JSON', () => {
  assert.equal(
    nextLink('cd'.repeat(32), {
      position: 7,
      kind: 'event',
      actionId: 3,
      eventId: 12,
      digest: 'ab'.repeat(32),
    }),
    '1140df76a70bb8b966b76b8df3c39bd66c15e96c7117fd97bb8fa70989c0a9da',
  )
})

test('the first link follows 32 zero bytes', () => {
  assert.equal(
    nextLink(null, {
      position: 1,
      kind: 'action',
      actionId: 1,
      eventId: null,
      digest: 'ef'.repeat(32),
    }),
    '8d3bb72a147a75ba4881d8d91bb2db4844741b2eb23c01a14b63265a67cbb0b2',
  )
})

test('a digest hashes the encoding as UTF-8', () => {
  assert.equal(
    sha256Hex('["action",1,"é"]'),
    '9ac311b1ba17aeed4da743dd72686d9b30b837ff5fee5bfe6be86fd5f8dff337',
  )
})
