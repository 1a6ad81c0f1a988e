/**
 * @module
 * oslo.policy's rule language, pure and without I/O: tokenizer → parser (tree) → evaluator, and
 * rule sets checked as a whole (parse errors, unknown `rule:` references and cycles are refused
 * when a set is built, naming the rule and its line).
 */
export type { GenericKind, MatchPart, PolicyNode } from './ast.js'
export { referencedRules } from './ast.js'
export { evaluate, type Credentials, type EvaluationContext, type Target } from './evaluator.js'
export { parsePolicy } from './parser.js'
export { PolicySyntaxError } from './policy-syntax-error.js'
export { PolicyRuleError, RuleSet, type RuleSource } from './rule-set.js'
