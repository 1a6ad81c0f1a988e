/** The one error of the policy language: a check string that cannot be parsed, and why. */

/** A check string the policy language refuses; `reason` says what is wrong, in words. */
export class PolicySyntaxError extends Error {
  /** What is wrong, without the rule's name (the loader adds the name and the line). */
  readonly reason: string

  constructor(reason: string) {
    super(reason)
    this.name = 'PolicySyntaxError'
    this.reason = reason
  }
}
