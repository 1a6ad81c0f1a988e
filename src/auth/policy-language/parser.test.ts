/**
 * The grammar: precedence (`not` > `and` > `or`), parentheses, operators in any letter case, the
 * empty string, and refusals that say what is wrong. Trees are compared through what they decide
 * (the evaluator) and, for precedence, through their shape.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { PolicyNode } from './ast.js'
import { evaluate } from './evaluator.js'
import { parsePolicy } from './parser.js'
import { PolicySyntaxError } from './policy-syntax-error.js'

// a, b, c are roles; `holds` is the set of roles the caller has.
function decide(source: string, holds: string[]): boolean {
  return evaluate(parsePolicy(source), {
    credentials: { roles: holds },
    target: {},
    rule: () => undefined,
  })
}

// Every combination of roles a, b, c.
const COMBINATIONS = [0, 1, 2, 3, 4, 5, 6, 7].map((bits) =>
  ['a', 'b', 'c'].filter((_, i) => (bits >> i) & 1),
)

describe('precedence and grouping', () => {
  const cases: [string, (a: boolean, b: boolean, c: boolean) => boolean][] = [
    ['role:a or role:b and role:c', (a, b, c) => a || (b && c)],
    ['role:a and role:b or role:c', (a, b, c) => (a && b) || c],
    ['(role:a or role:b) and role:c', (a, b, c) => (a || b) && c],
    ['not role:a and role:b', (a, b) => !a && b],
    ['not role:a or role:b', (a, b) => !a || b],
    ['not (role:a or role:b)', (a, b) => !(a || b)],
    ['not not role:a', (a) => a],
    ['role:a or role:b or role:c', (a, b, c) => a || b || c],
    ['role:a and (role:b or not role:c)', (a, b, c) => a && (b || !c)],
    ['((role:a))', (a) => a],
    ['role:a OR role:b AND NOT role:c', (a, b, c) => a || (b && !c)],
  ]
  for (const [source, expected] of cases) {
    test(source, () => {
      for (const holds of COMBINATIONS) {
        const [a, b, c] = ['a', 'b', 'c'].map((r) => holds.includes(r)) as [
          boolean,
          boolean,
          boolean,
        ]
        assert.equal(decide(source, holds), expected(a, b, c), `roles [${holds.join(',')}]`)
      }
    })
  }

  test('"a or b and c" groups as "a or (b and c)" (oslo fixed the other reading long ago)', () => {
    const tree = parsePolicy('role:a or role:b and role:c')
    assert.equal(tree.type, 'or')
    assert.equal((tree as Extract<PolicyNode, { type: 'or' }>).items[1]?.type, 'and')
  })
})

describe('special checks', () => {
  test('the empty string and whitespace allow everyone', () => {
    assert.equal(decide('', []), true)
    assert.equal(decide('  \t ', []), true)
  })
  test('@ allows, ! denies, in any position', () => {
    assert.equal(decide('@', []), true)
    assert.equal(decide('!', ['a']), false)
    assert.equal(decide('! or role:a', ['a']), true)
    assert.equal(decide('@ and not role:a', ['a']), false)
  })
  test('a check may contain colons after the first (role:compute:admin)', () => {
    assert.equal(decide('role:compute:admin', ['compute:admin']), true)
    assert.equal(decide('role:compute:admin', ['compute']), false)
  })
})

describe('refusals name the reason', () => {
  const bad: [string, RegExp][] = [
    ['role:a or', /expected a check after "or", found the end/],
    ['and role:a', /expected a check, found "and"/],
    ['role:a role:b', /expected "and", "or" or the end, found "role:b"/],
    ['(role:a', /expected "\)" to close "\(", found the end/],
    ['role:a)', /unbalanced "\)"/],
    ['()', /expected a check after "\(", found "\)"/],
    ['not', /expected a check after "not", found the end/],
    ['role:a and or role:b', /expected a check after "and", found "or"/],
    ['admin', /"admin" is not a check \(expected kind:match, @ or !\)/],
    [':admin', /":admin" is not a check/],
    ['role:', /"role:" needs a role name/],
    ['rule:', /"rule:" needs a rule name/],
    ['http://example.com/check', /http and https checks are not supported/],
    ['project_id:%(project_id)d', /a % must start %\(name\)s or be doubled/],
    ['project_id:50%', /a % must start/],
    ['"role:a"', /a quoted word \("role:a"\) is not a check/],
    ['a..b:x', /"a..b" is not a credential name/],
    ['('.repeat(150) + 'role:a' + ')'.repeat(150), /nested deeper than 100 levels/],
  ]
  for (const [source, reason] of bad) {
    test(source.length > 40 ? `${source.slice(0, 20)}…` : source, () => {
      assert.throws(
        () => parsePolicy(source),
        (err: unknown) => err instanceof PolicySyntaxError && reason.test(err.reason),
      )
    })
  }

  test('a long chain of "and" is not limited by the nesting bound', () => {
    const source = Array.from({ length: 5000 }, (_, i) => `role:r${i}`).join(' or ')
    assert.equal(decide(source, ['r4999']), true)
  })
})
