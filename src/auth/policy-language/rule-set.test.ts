/**
 * Rule sets are checked as a whole when built: a check string that does not parse, a `rule:` that
 * names no rule, and references that loop are refused with the rule's name, its line and the
 * reason — at load, so no request ever meets them.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { PolicyRuleError, RuleSet, type RuleSource } from './rule-set.js'

function refusal(sources: RuleSource[]): PolicyRuleError {
  try {
    RuleSet.build(sources)
  } catch (err) {
    if (err instanceof PolicyRuleError) return err
    throw err
  }
  assert.fail('the rule set was accepted')
}

describe('building a rule set', () => {
  test('a parse error names the rule, the line and the reason', () => {
    const err = refusal([
      { name: 'ok', check: 'role:a', line: 1 },
      { name: 'broken', check: 'role:a or (role:b', line: 7 },
    ])
    assert.equal(err.rule, 'broken')
    assert.equal(err.line, 7)
    assert.match(err.message, /^line 7: rule "broken": expected "\)" to close "\("/)
  })

  test('a reference to an unknown rule is refused, naming both', () => {
    const err = refusal([{ name: 'a', check: 'rule:b or role:x', line: 3 }])
    assert.equal(err.message, 'line 3: rule "a": refers to unknown rule "b"')
  })

  test('cycles are refused with their path, however long', () => {
    assert.match(
      refusal([{ name: 'self', check: 'role:x or rule:self' }]).message,
      /cycle: self -> self$/,
    )
    assert.match(
      refusal([
        { name: 'a', check: 'rule:b' },
        { name: 'b', check: 'role:x and (rule:c or role:y)' },
        { name: 'c', check: 'not rule:a' },
      ]).message,
      /cycle: a -> b -> c -> a$/,
    )
  })

  test('a later source replaces an earlier one of the same name (how a file overrides)', () => {
    const set = RuleSet.build([
      { name: 'r', check: 'role:a' },
      { name: 'r', check: 'role:b' },
    ])
    assert.equal(set.enforce('r', { roles: ['a'] }, {}), false)
    assert.equal(set.enforce('r', { roles: ['b'] }, {}), true)
  })

  test('an override can break a cycle or a dangling reference of the earlier definition', () => {
    const set = RuleSet.build([
      { name: 'a', check: 'rule:missing' },
      { name: 'a', check: 'role:x' },
    ])
    assert.equal(set.enforce('a', { roles: ['x'] }, {}), true)
  })

  test('a diamond of references is not a cycle', () => {
    const set = RuleSet.build([
      { name: 'top', check: 'rule:left and rule:right' },
      { name: 'left', check: 'rule:base' },
      { name: 'right', check: 'rule:base' },
      { name: 'base', check: 'role:x' },
    ])
    assert.equal(set.enforce('top', { roles: ['x'] }, {}), true)
  })

  test('enforcing a name that is not in the set is a programming error, not a denial', () => {
    const set = RuleSet.build([{ name: 'a', check: '@' }])
    assert.throws(() => set.enforce('b', {}, {}), /policy rule "b" is not defined/)
  })
})
