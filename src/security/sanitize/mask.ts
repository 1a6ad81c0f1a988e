/**
 * The mask every secret rule writes. It has a module of its own so that each rule can import it
 * without a cycle through secret-masking.ts, which composes the rules.
 */

/** The replacement for a secret value; the key or label in front of it is kept. */
export const MASK = '***'
