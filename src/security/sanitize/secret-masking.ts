/**
 * Stage 2 of traceback sanitizing: secret masking, composed from one module per kind of rule.
 */
import { maskCliSecrets } from './cli-secrets.js'
import { maskEncodedPairs } from './encoded-pairs.js'
import { CLI_FLAG_RE, KEY_VALUE_RE, maskKeyValuePairs } from './key-value-pairs.js'
import { MASK } from './mask.js'
import { maskPemBlocks } from './pem-blocks.js'
import { maskKnownTokens } from './secret-patterns.js'
import { maskUrlCredentials } from './url-credentials.js'

// The mask is part of what maskSecrets promises, so it is exported alongside it.
export { MASK }

/**
 * Masks secrets in any free text (used also for `details` messages and log
 * lines): same secret rules as `sanitizeTraceback` (../sanitize-traceback.ts),
 * no path rewriting, no size cap, no control-character stripping (callers that
 * store untrusted text should use sanitizeTraceback or sanitizeDetails, which
 * strip and fold first so that an invisible character cannot split a key name).
 *
 * Rules, applied in this order:
 * - PEM private-key blocks keep their BEGIN and END lines and the body becomes
 *   `***` on its own line: `-----BEGIN RSA PRIVATE KEY-----\n***\n-----END RSA PRIVATE KEY-----`.
 *   The separator style is preserved, so a key embedded in a repr with
 *   literal `\n` escapes stays on one line. A block without an END line is
 *   masked to the end of the text (to the end of the line when the key is in
 *   escaped one-line form, as its body cannot continue past it).
 * - Credentials in URLs: `scheme://user:password@host` keeps user and host,
 *   including oslo.messaging's comma-separated multi-host form; the password
 *   runs to the last `@` of the authority, so `/`, `#`, `?`, `)`, `'` or a
 *   space in it do not end it. A user info without a colon is masked whole
 *   when it looks like a token (`https://ghp_…@github.com`), never when it is
 *   a user name (`ssh://git@github.com`).
 * - Key/value pairs (`key=value`, `key: value`, `"key": "value"`,
 *   `'key': 'value'`, `key => value`, `--key value`, also JSON-escaped and
 *   Python `b'...'` forms), case-insensitively, when the key's last word is
 *   or ends in a sensitive word (password, passwd, pwd, passphrase, secret,
 *   token, credential(s), cookie, authorization, signature; `pass` only as a
 *   whole word), or when two adjacent words anywhere in it form a sensitive
 *   pair (api_key/apikey/api-key, access_key, secret_key, private_key,
 *   session_id/sessionid). Words come from `_`, `-`, `.` and camelCase, so
 *   `bypass`, `passport`, `passed`, `token_expired` and `password_length`
 *   are left alone while `OS_PASSWORD`, `PGPASSWORD`, `adminPass` and
 *   `X-Auth-Token` are masked; short `pw`, Azure's `AccountKey` and Keystone's
 *   `fernet_keys` too. A quote may be escaped up to three times (JSON inside
 *   JSON), a single-quoted value may hold a doubled quote (`'it''s'`), and a
 *   `key:` alone on its line takes the next, deeper-indented line as its value
 *   (YAML), unless that line is itself a `key:` pair or a list item. `Authorization`, `Proxy-Authorization`,
 *   `Cookie` and `Set-Cookie` headers are masked to the end of the line
 *   (`Authorization: ***`), the scheme included.
 * - The same pairs percent-encoded (`password%3Ds3cret`,
 *   `%22password%22%3A%22s3cret%22`), as in a logged form body or a query
 *   parameter holding another query or a JSON document.
 * - Command-line passwords the pair rules cannot see: `mysql -p<secret>`
 *   (glued; `mysql -p db` prompts and stays), `sshpass -p <secret>`,
 *   `curl -u user:<secret>`.
 * - Well-known token shapes anywhere: AWS access key ids (AKIA/ASIA), Keystone
 *   fernet tokens, JWTs, GitHub and Slack tokens, `Bearer <token>`.
 *
 * Trade-offs:
 * - A value is masked only when it follows the key with a separator; a
 *   secret in prose ("the password is hunter2") cannot be told from words.
 * - Source lines quoted in Python tracebacks are masked like data, so
 *   `self.token = token` becomes `self.token = ***` and `password: str`
 *   becomes `password: ***`: a bare identifier cannot be told from a literal
 *   secret that looks like one, and losing a variable name costs less than
 *   leaking a password.
 * - A PascalCase key followed by a colon (`InvalidToken: Signature did not
 *   match`) is an exception class name, not a key, and is left alone.
 * - Unquoted values that are plainly not secrets (None, null, undefined, nil,
 *   true/false, YES/NO as in MySQL's "using password: YES") are kept.
 * - Dict values (`"token": {...}`) are not masked as a whole; their inner
 *   keys are judged on their own. Lists under a sensitive key have every
 *   item masked (string literals and bare items), since a list of cookies or
 *   fernet keys has no inner keys.
 * - A label in front of another pair (`Credentials: aws_access_key_id = x`)
 *   is not a value; the pair after it is judged on its own.
 * - A bare `key` is not sensitive: sort keys, dict keys and `KeyError: 'key'`
 *   are far more common in tracebacks than key material under that name.
 * - `Bearer <token>` in prose needs a digit in the token, so that "Bearer
 *   authentication failed" survives.
 *
 * @param text - Any text.
 * @returns The text with every recognized secret value replaced by {@link MASK}.
 */
export function maskSecrets(text: string): string {
  if (text === '') return text
  let out = maskPemBlocks(text)
  out = maskUrlCredentials(out)
  out = maskKeyValuePairs(out, KEY_VALUE_RE)
  out = maskKeyValuePairs(out, CLI_FLAG_RE)
  out = maskEncodedPairs(out)
  out = maskCliSecrets(out)
  out = maskKnownTokens(out)
  return out
}
