/**
 * Percent-encoded pairs whose value holds a quote JavaScript's encodeURIComponent leaves as it is
 * (`'`): found by the sanitizer fuzz suite (test/security/fuzz-sanitizer.test.ts), where the tail
 * of a password after its `'` survived.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sanitizeTraceback } from '../sanitize-traceback.js'

describe('percent-encoded pairs with a quote inside the value', () => {
  test('a JSON document in a query: the whole password is masked', () => {
    const query = `q=${encodeURIComponent(JSON.stringify({ password: "it's(a')s''3cret!" }))}`
    assert.equal(query, "q=%7B%22password%22%3A%22it's(a')s''3cret!%22%7D")
    assert.equal(sanitizeTraceback(query), 'q=%7B%22password%22%3A%22***%22%7D')
  })

  test('a query in a query: the whole password is masked', () => {
    const next = `next=${encodeURIComponent("/login?password=ab'cd&x=1")}`
    assert.equal(next, "next=%2Flogin%3Fpassword%3Dab'cd%26x%3D1")
    assert.equal(sanitizeTraceback(next), 'next=%2Flogin%3Fpassword%3D***%26x%3D1')
  })

  test('a quote that closes the text around the value is kept', () => {
    assert.equal(
      sanitizeTraceback("body='user%3Dbob%26password%3Ds3cret', next"),
      "body='user%3Dbob%26password%3D***', next",
    )
    assert.equal(
      sanitizeTraceback("data: '%22password%22%3A%22s3cret'"),
      "data: '%22password%22%3A%22***'",
    )
  })
})
