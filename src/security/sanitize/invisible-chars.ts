/**
 * Stage 1b of sanitizing: every default-ignorable code point is removed and compatibility forms
 * are folded (NFKC), so that neither an invisible character (`pass\u00ADword`, `pass\u2060word`)
 * nor a look-alike form (fullwidth `ｐａｓｓｗｏｒｄ`) can split or disguise a key name.
 */

/**
 * Every code point Unicode marks Default_Ignorable_Code_Point: soft hyphen, combining grapheme
 * joiner, Hangul fillers, Mongolian vowel separator, zero-width characters, word joiner and
 * invisible operators, variation selectors, tag characters and the rest. The property escape
 * follows the engine's Unicode version, so no hand-kept list can fall behind it.
 */
const DEFAULT_IGNORABLE_RE = /\p{Default_Ignorable_Code_Point}/gu

/**
 * Removes every default-ignorable code point, then folds compatibility forms with NFKC
 * (fullwidth `ｐ` → `p`, `ﬁ` → `fi`, `①` → `1`), then removes again whatever the fold produced.
 * The stored text keeps the folded form: what a reader sees is then exactly what the masking
 * rules saw. Both steps are linear and idempotent. Emoji lose their variation selectors and
 * joiners (a family emoji shows as its members), which is the price of removing every invisible
 * character rather than a hand-picked list.
 *
 * @param text - Text whose controls and lone surrogates are already gone.
 * @returns The text without default-ignorable code points, in NFKC.
 */
export function foldInvisibleChars(text: string): string {
  let out = text.replace(DEFAULT_IGNORABLE_RE, '')
  // All ASCII: NFKC would change nothing, and most tracebacks are ASCII.
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u007f]*$/.test(out)) return out
  out = out.normalize('NFKC')
  return out.replace(DEFAULT_IGNORABLE_RE, '')
}
