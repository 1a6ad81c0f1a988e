/**
 * Splits a check string into tokens the way oslo.policy's `_parse_tokenize` does: words are
 * separated by whitespace, leading `(` and trailing `)` are split off a word, and `and`, `or`,
 * `not` are operators in any letter case. Everything else is one check (`role:admin`, `@`, …), so
 * a check can never contain whitespace.
 */
import { PolicySyntaxError } from './policy-syntax-error.js'

/** One token of a check string. */
export type PolicyToken =
  | { type: '(' }
  | { type: ')' }
  | { type: 'and' }
  | { type: 'or' }
  | { type: 'not' }
  | { type: 'check'; text: string }

const OPERATORS = new Set(['and', 'or', 'not'])

/** Tokenizes a check string; a quoted word (oslo's "string" token) is refused. */
export function tokenize(source: string): PolicyToken[] {
  const tokens: PolicyToken[] = []
  for (const word of source.split(/\s+/)) {
    if (word === '') continue
    let start = 0
    while (start < word.length && word[start] === '(') {
      tokens.push({ type: '(' })
      start++
    }
    let end = word.length
    while (end > start && word[end - 1] === ')') end--
    const core = word.slice(start, end)
    if (core !== '') {
      const lowered = core.toLowerCase()
      if (OPERATORS.has(lowered)) {
        tokens.push({ type: lowered as 'and' | 'or' | 'not' })
      } else if (/^(['"]).*\1$/s.test(core) && core.length >= 2) {
        // oslo yields a "string" token here that no grammar rule accepts.
        throw new PolicySyntaxError(`a quoted word (${core}) is not a check`)
      } else {
        tokens.push({ type: 'check', text: core })
      }
    }
    for (let i = end; i < word.length; i++) tokens.push({ type: ')' })
  }
  return tokens
}
