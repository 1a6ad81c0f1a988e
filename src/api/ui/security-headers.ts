/**
 * The headers of every answer of the Action Log page. The Content-Security-Policy allows scripts,
 * styles, images and requests from this server only: no inline script or style element, no
 * foreign origin, no plugin, no framing, and (Trusted Types) no HTML string ever assigned to a
 * DOM sink — the page builds its DOM from text nodes, so nothing a writer stored can run.
 */

/** The page's Content-Security-Policy. */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  'trusted-types',
].join('; ')

/** Headers sent with every file of the page and every answer of its routes. */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': UI_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  // The page's URL (its filters) is nobody else's business.
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
}
