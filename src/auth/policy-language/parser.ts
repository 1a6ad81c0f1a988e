/**
 * Check string → tree. The grammar is oslo.policy's, with its precedence (`not` binds tighter than
 * `and`, `and` tighter than `or`, so `a or b and c` is `a or (b and c)`) and parentheses; the empty
 * string allows everyone. Where oslo logs a parse failure and denies, this refuses the string with
 * the reason, so a broken policy file stops start-up instead of denying at request time.
 */
import type { PolicyNode } from './ast.js'
import { parseCheck } from './check-parser.js'
import { PolicySyntaxError } from './policy-syntax-error.js'
import { tokenize, type PolicyToken } from './tokenizer.js'

// Deep nesting is legal but a file with thousands of "(" must not exhaust the stack.
const MAX_DEPTH = 100

function describe(token: PolicyToken | undefined): string {
  if (!token) return 'the end'
  return token.type === 'check' ? `"${token.text}"` : `"${token.type}"`
}

/** Parses a check string; throws PolicySyntaxError naming what is wrong. */
export function parsePolicy(source: string): PolicyNode {
  const tokens = tokenize(source)
  if (tokens.length === 0) return { type: 'always' }
  let pos = 0
  const peek = (): PolicyToken | undefined => tokens[pos]

  function expectOperand(after: string): void {
    const next = peek()
    if (!next || next.type === ')' || next.type === 'and' || next.type === 'or') {
      throw new PolicySyntaxError(`expected a check after ${after}, found ${describe(next)}`)
    }
  }

  function orExpr(depth: number): PolicyNode {
    const items = [andExpr(depth)]
    while (peek()?.type === 'or') {
      pos++
      expectOperand('"or"')
      items.push(andExpr(depth))
    }
    return items.length === 1 ? (items[0] as PolicyNode) : { type: 'or', items }
  }

  function andExpr(depth: number): PolicyNode {
    const items = [notExpr(depth)]
    while (peek()?.type === 'and') {
      pos++
      expectOperand('"and"')
      items.push(notExpr(depth))
    }
    return items.length === 1 ? (items[0] as PolicyNode) : { type: 'and', items }
  }

  function notExpr(depth: number): PolicyNode {
    if (peek()?.type === 'not') {
      pos++
      expectOperand('"not"')
      return { type: 'not', item: notExpr(depth + 1) }
    }
    return atom(depth)
  }

  function atom(depth: number): PolicyNode {
    if (depth > MAX_DEPTH) throw new PolicySyntaxError(`nested deeper than ${MAX_DEPTH} levels`)
    const token = peek()
    if (token?.type === '(') {
      pos++
      expectOperand('"("')
      const inner = orExpr(depth + 1)
      if (peek()?.type !== ')') {
        throw new PolicySyntaxError(`expected ")" to close "(", found ${describe(peek())}`)
      }
      pos++
      return inner
    }
    if (token?.type === 'check') {
      pos++
      return parseCheck(token.text)
    }
    throw new PolicySyntaxError(`expected a check, found ${describe(token)}`)
  }

  const tree = orExpr(0)
  if (pos < tokens.length) {
    const extra = peek()
    throw new PolicySyntaxError(
      extra?.type === ')'
        ? 'unbalanced ")"'
        : `expected "and", "or" or the end, found ${describe(extra)}`,
    )
  }
  return tree
}
