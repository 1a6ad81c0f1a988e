/**
 * Fuzzing the traceback sanitizer (issue 9, suite 1), held to exactly what its documentation
 * claims (src/security/sanitize-traceback.ts, src/security/sanitize/secret-masking.ts):
 * - generated secrets, written in each form the masking rules claim (URL credentials with the
 *   awkward characters, token user infos, key/value pairs in every separator and quoting, keys
 *   split by invisible characters or written in fullwidth forms, percent-encoded pairs, YAML
 *   next-line values, lists, CLI passwords, headers, well-known token shapes, PEM blocks) and
 *   embedded in generated Python and Node tracebacks, never survive, not even in part;
 * - text without secrets survives unchanged, except the documented path reduction (generated
 *   absolute paths under `site-packages/`, `dist-packages/`, `pythonX.Y/` and `node_modules/`
 *   must come out exactly as the path rule says);
 * - the pipeline is idempotent on any text.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { sanitizeDetails, sanitizeTraceback } from '../../src/security/sanitize-traceback.js'
import { fuzzParameters, hostileText } from '../helpers/fuzz.js'

// ---------------------------------------------------------------------------------------------
// Tracebacks without secrets, built from a vocabulary that names nothing sensitive.

const WORDS = [
  'instance',
  'context',
  'volume',
  'network',
  'result',
  'host',
  'flavor',
  'image',
  'port',
  'server',
  'retries',
  'timeout',
  'count',
  'node',
  'driver',
  'spawn',
  'build',
  'reboot',
  'migrate',
  'allocation',
  'resource',
  'quota',
  'state',
  'task',
  'vm',
  'disk',
  'size',
  'name',
  'uuid',
  'limit',
]
const word = fc.constantFrom(...WORDS)
const identifier = fc.array(word, { minLength: 1, maxLength: 3 }).map((w) => w.join('_'))
const className = fc
  .array(word, { minLength: 1, maxLength: 2 })
  .map((w) => w.map((x) => x[0]!.toUpperCase() + x.slice(1)).join(''))
const number = fc.integer({ min: 0, max: 99999 }).map(String)
const relPath = fc
  .tuple(fc.array(word, { minLength: 1, maxLength: 4 }), fc.constantFrom('.py', '.js', '.ts'))
  .map(([dirs, ext]) => `${dirs.join('/')}${ext}`)

/** A sentence of safe words, numbers and quoted values, as exception messages are written. */
const message = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: word },
      { weight: 1, arbitrary: number },
      { weight: 1, arbitrary: word.map((w) => `'${w}'`) },
      { weight: 1, arbitrary: fc.tuple(identifier, number).map(([k, v]) => `${k}=${v}`) },
      { weight: 1, arbitrary: fc.tuple(identifier, word).map(([k, v]) => `${k}: ${v}`) },
      { weight: 1, arbitrary: fc.constantFrom('(', ')', ',', '.', '-', '[1, 2]', '{}', 'None') },
      // Forms the masking rules document as left alone.
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'bypass=1',
          'passport=P123',
          'passed=3',
          'token_expired=True',
          'password_length=12',
          'token_count=7',
          'sort_key=name',
          "KeyError: 'key'",
          'Bearer authentication failed',
          'using password: YES',
          'password=None',
          'token: null',
          'InvalidToken: Signature did not match digest.',
          'ssh://git@github.com/org/repo',
          'mysql -p db',
        ),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom('http', 'https'), word, number, relPath)
          .map(([s, h, p, path]) => `${s}://${h}:${p}/${path}`),
      },
    ),
    { minLength: 1, maxLength: 12 },
  )
  .map((parts) => parts.join(' '))

const sourceLine = fc.oneof(
  fc
    .tuple(identifier, identifier, identifier, fc.array(identifier, { maxLength: 3 }))
    .map(([v, a, m, args]) => `${v} = self.${a}.${m}(${args.join(', ')})`),
  fc
    .tuple(identifier, fc.array(identifier, { maxLength: 3 }))
    .map(([f, a]) => `return ${f}(${a.join(', ')})`),
  fc.tuple(className, message).map(([c, m]) => `raise ${c}Error(${JSON.stringify(m)})`),
)

/**
 * A frame's file: relative (kept as is) or absolute under a root the path rule names (expected:
 * what the rule keeps).
 */
const frameFile = fc.oneof(
  relPath.map((p) => ({ raw: p, expected: p })),
  fc
    .tuple(
      fc.constantFrom(
        '/usr/lib/python3/dist-packages/',
        '/usr/local/lib/python3.11/site-packages/',
        '/opt/stack/venv/lib/python3.12/site-packages/',
        '/home/stack/.venv/lib/python3.10/site-packages/',
      ),
      relPath,
    )
    .map(([root, p]) => ({ raw: root + p, expected: p })),
  fc
    .tuple(fc.constantFrom('/usr/lib/python3.11/', '/usr/lib64/python3.9/'), word)
    .map(([root, w]) => ({ raw: `${root}${w}.py`, expected: `${w}.py` })),
)

const nodeFile = fc.oneof(
  relPath.map((p) => ({ raw: p, expected: p })),
  fc
    .tuple(fc.constantFrom('/srv/app/', '/home/ci/work/app/', '/usr/lib/'), word, relPath)
    .map(([root, pkg, p]) => ({
      raw: `${root}node_modules/${pkg}/${p}`,
      expected: `node_modules/${pkg}/${p}`,
    })),
)

/** A traceback line as generated and as the sanitizer must return it. */
interface Line {
  raw: string
  expected: string
}

const pythonFrame: fc.Arbitrary<Line[]> = fc
  .tuple(frameFile, number, identifier, sourceLine)
  .map(([file, n, fn, code]) => [
    {
      raw: `  File "${file.raw}", line ${n}, in ${fn}`,
      expected: `  File "${file.expected}", line ${n}, in ${fn}`,
    },
    { raw: `    ${code}`, expected: `    ${code}` },
  ])

const nodeFrame: fc.Arbitrary<Line[]> = fc
  .tuple(className, identifier, nodeFile, number, number)
  .map(([c, fn, file, l, col]) => [
    {
      raw: `    at ${c}.${fn} (${file.raw}:${l}:${col})`,
      expected: `    at ${c}.${fn} (${file.expected}:${l}:${col})`,
    },
  ])

const same = (raw: string): Line => ({ raw, expected: raw })

/** A Python or Node traceback, line by line. */
const traceback: fc.Arbitrary<Line[]> = fc.oneof(
  fc
    .tuple(fc.array(pythonFrame, { minLength: 1, maxLength: 6 }), className, message)
    .map(([frames, c, m]) => [
      same('Traceback (most recent call last):'),
      ...frames.flat(),
      same(`${c}Error: ${m}`),
    ]),
  fc
    .tuple(className, message, fc.array(nodeFrame, { minLength: 1, maxLength: 6 }))
    .map(([c, m, frames]) => [same(`${c}Error: ${m}`), ...frames.flat()]),
)

// ---------------------------------------------------------------------------------------------
// Secrets in every form the rules claim.

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

function chars(alphabet: string, minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength })
}

/** A secret: starts with a letter and holds a digit, so it is never a placeholder or a number. */
function secret(extra: string, minLength = 8, maxLength = 24): fc.Arbitrary<string> {
  return fc
    .tuple(
      chars(ALNUM.slice(0, 52), 1, 1),
      chars(ALNUM + extra, minLength - 2, maxLength - 2),
      chars('0123456789', 1, 1),
    )
    .map(([a, b, c]) => a + b + c)
    .filter((s) => !s.includes('://'))
}

/** A form: the text with the secret in it, and the secret exactly as written there. */
interface Planted {
  text: string
  secrets: string[]
  /** Lines of their own (a YAML block, a PEM block): placed as they are, not after other text. */
  standalone?: boolean
}

const plant = (text: string, ...secrets: string[]): Planted => ({ text, secrets })

const SENSITIVE_KEYS = [
  'password',
  'Password',
  'PASSWORD',
  'passwd',
  'pwd',
  'pw',
  'pass',
  'passphrase',
  'secret',
  'token',
  'credential',
  'credentials',
  'cookie',
  'signature',
  'OS_PASSWORD',
  'PGPASSWORD',
  'MYSQL_ROOT_PASSWORD',
  'db_password',
  'admin_password',
  'adminPass',
  'client_secret',
  'auth_token',
  'access_token',
  'X-Auth-Token',
  'X-Subject-Token',
  'api_key',
  'apikey',
  'api-key',
  'apiKey',
  'access_key',
  'secret_key',
  'SECRET_KEY_BASE',
  'private_key',
  'session_id',
  'sessionid',
  'AccountKey',
  'SharedAccessKey',
  'fernet_keys',
  'aws_secret_access_key',
  'request.headers.X-Auth-Token',
]

// PascalCase keys before an unquoted `:` read as exception class names (a documented trade-off).
const isClassLike = (key: string) =>
  /^[A-Z][A-Za-z0-9]*[a-z0-9][A-Z]/.test(key) && !/[_-]/.test(key)

/** Default-ignorable code points the sanitizer removes before matching. */
const INVISIBLE = ['\u200b', '\u200c', '\u200d', '\u2060', '\u00ad', '\ufeff', '\u180e', '\u034f']

/** A key as written: plain, split by an invisible character, or in fullwidth forms (NFKC folds them). */
const writtenKey = fc.constantFrom(...SENSITIVE_KEYS).chain((key) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant({ key, written: key }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.integer({ min: 1, max: Math.max(1, key.length - 1) }),
          fc.constantFrom(...INVISIBLE),
        )
        .map(([at, inv]) => ({ key, written: key.slice(0, at) + inv + key.slice(at) })),
    },
    {
      weight: 1,
      arbitrary: fc.constant({
        key,
        written: key.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)),
      }),
    },
  ),
)

// An unquoted value stops at blanks, quotes, brackets and `,;&|<>\`.
const BARE = '!#$%*+-./:=?@^_~'
// A quoted value may hold anything printable but its own quote and a backslash.
const IN_DOUBLE = " !#$%&'()*+,-./:;<=>?@[]^_`{|}~"
const IN_SINGLE = ' !"#$%&()*+,-./:;<=>?@[]^_`{|}~'

const keyValue: fc.Arbitrary<Planted> = fc
  .tuple(writtenKey, fc.constantFrom('=', ' = ', ': ', ':', '=>', ' => ', ':='))
  .filter(([k, sep]) => !(sep.trim() === ':' && isClassLike(k.key)))
  .chain(([k, sep]) =>
    fc.oneof(
      secret(BARE).map((s) => plant(`${k.written}${sep}${s}`, s)),
      secret(IN_DOUBLE).map((s) => plant(`${k.written}${sep}"${s}"`, s)),
      secret(IN_SINGLE).map((s) => plant(`${k.written}${sep}'${s}'`, s)),
      secret(IN_SINGLE).map((s) => plant(`${k.written}${sep}b'${s}'`, s)),
      // A backslash-escaped quote inside double quotes.
      fc
        .tuple(secret(''), secret(''))
        .map(([a, b]) => plant(`${k.written}${sep}"${a}\\"${b}"`, a, b)),
      // A doubled quote inside single quotes (SQL, YAML).
      fc
        .tuple(secret(''), secret(''))
        .map(([a, b]) => plant(`${k.written}${sep}'${a}''${b}'`, a, b)),
      // A list: every item.
      fc
        .array(secret(''), { minLength: 1, maxLength: 3 })
        .map((items) =>
          plant(`${k.written}${sep}[${items.map((i) => `'${i}'`).join(', ')}]`, ...items),
        ),
    ),
  )

/** `"key": "value"` as JSON, JSON inside a JSON string, and one level deeper. */
const jsonPair: fc.Arbitrary<Planted> = fc
  .tuple(fc.constantFrom(...SENSITIVE_KEYS), secret(" !#$%&'()*+,-./:;<=>?@[]^_`{|}~"), fc.nat(2))
  .map(([key, s, depth]) => {
    let doc = JSON.stringify({ user: 'nova', [key]: s })
    for (let i = 0; i < depth; i++) doc = JSON.stringify({ body: doc })
    return plant(doc, s)
  })

/** A `key:` alone on its line with the value on the next, deeper-indented line (YAML). */
const yamlNextLine: fc.Arbitrary<Planted> = fc
  .tuple(fc.constantFrom(...SENSITIVE_KEYS.filter((k) => !isClassLike(k))), secret(BARE + ' '))
  .filter(([, s]) => !/^[\w.$"'-]+[ \t]*:(?:[ \t]|$)/.test(s) && s.trim() === s)
  .map(([key, s]) => ({ ...plant(`  ${key}:\n      ${s}`, s), standalone: true }))

/** `--password value` and `--password=value`. */
const cliFlag: fc.Arbitrary<Planted> = fc
  .tuple(
    fc.constantFrom('--password', '--os-password', '--os-token', '--db-password', '--token'),
    secret(BARE),
  )
  .chain(([flag, s]) =>
    fc.constantFrom(plant(`${flag} ${s}`, s), plant(`${flag}=${s}`, s), plant(`${flag} '${s}'`, s)),
  )

/** Authorization and cookie headers: masked to the end of the line. */
const header: fc.Arbitrary<Planted> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('Authorization', 'Proxy-Authorization', 'authorization'),
      fc.constantFrom('Basic', 'Bearer', 'Digest', 'Token'),
      secret('+/='),
    )
    .map(([h, scheme, s]) => plant(`${h}: ${scheme} ${s}`, s)),
  fc
    .tuple(fc.constantFrom('Cookie', 'Set-Cookie'), secret(''), secret(''))
    .map(([h, a, b]) => plant(`${h}: session=${a}; csrftoken=${b}`, a, b)),
)

/** A password in a URL's user info, with the characters the rule claims to handle. */
const urlPassword: fc.Arbitrary<Planted> = fc
  .tuple(
    fc.constantFrom('mysql+pymysql', 'postgresql', 'amqp', 'rabbit', 'redis', 'https', 'mongodb'),
    fc.constantFrom('nova', 'root', 'guest', 'admin', ''),
    fc.oneof(
      // No blank: `/`, `#`, `?`, `)`, `'`, `@`, `:` and `,` anywhere.
      secret("/#?)'(@:,!$%^*+=~.-_"),
      // A blank: the first word holds no `@`, `/`, `?` or `#`.
      fc
        .tuple(secret("')!$%^*+=~.-_"), secret("/#?)'!$%^*+=~.-_", 3, 12))
        .map(([a, b]) => `${a} ${b}`),
    ),
    fc.constantFrom('db', 'db:3306', '10.0.0.1', 'rabbit1:5672', '[::1]:5432'),
    fc.constantFrom('/nova', '/', '', '/nova?charset=utf8'),
  )
  // A port before a path (`u:8080/x@h`) reads as host:port/path, and a password holding both `@`
  // and `,` cannot be told from oslo.messaging's `u:p@h1,u:p@h2`: both documented limits.
  .filter(([, , pw]) => !/^\d+[/?#]/.test(pw) && !(pw.includes('@') && pw.includes(',')))
  .map(([scheme, user, pw, host, path]) => plant(`${scheme}://${user}:${pw}@${host}${path}`, pw))

/** oslo.messaging's multi-host transport URL: every host's password. */
const multiHost: fc.Arbitrary<Planted> = fc
  .array(secret("/#?)'!$%^*+=~.-_"), { minLength: 2, maxLength: 3 })
  .map((pws) =>
    plant(`rabbit://${pws.map((pw, i) => `nova:${pw}@rabbit${i}:5672`).join(',')}/nova`, ...pws),
  )

/** A token used as the whole user info: known prefixes, hex, or mixed-case base64-ish. */
const urlToken: fc.Arbitrary<Planted> = fc
  .oneof(
    chars(ALNUM, 36, 36).map((s) => `ghp_${s}`),
    chars('0123456789abcdef', 20, 40),
    fc
      .tuple(
        chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 2, 6),
        chars('abcdefghijklmnopqrstuvwxyz', 2, 6),
        chars('0123456789', 2, 6),
        chars(ALNUM, 14, 20),
      )
      .map(([a, b, c, d]) => a + b + c + d),
  )
  .map((tok) => plant(`https://${tok}@github.com/org/repo.git`, tok))

/**
 * Percent-encoded pairs: a form body or a query holding another query (each value encoded as a
 * form does), or a query holding a JSON document (encoded as JavaScript's encodeURIComponent
 * does, which leaves `'`, `(`, `)`, `!` and `*` as they are).
 */
const encodedPair: fc.Arbitrary<Planted> = fc.oneof(
  fc.tuple(fc.constantFrom(...SENSITIVE_KEYS), secret(" !#$()*+/:=?@~'")).map(([key, s]) => {
    const form = new URLSearchParams({ user: 'nova', [key]: s, next: '1' }).toString()
    const value = new URLSearchParams({ [key]: s }).toString().split('=')[1]!
    return plant(`body=${encodeURIComponent(form)}`, value)
  }),
  fc
    .tuple(fc.constantFrom(...SENSITIVE_KEYS), secret(" !#$()*+/:=?@~'"))
    .map(([key, s]) =>
      plant(`q=${encodeURIComponent(JSON.stringify({ [key]: s }))}`, encodeURIComponent(s)),
    ),
  fc
    .tuple(fc.constantFrom(...SENSITIVE_KEYS), secret(" !#$()*+/:=?@~'"))
    .map(([key, s]) =>
      plant(`next=${encodeURIComponent(`/login?${key}=${s}&x=1`)}`, encodeURIComponent(s)),
    ),
)

/** Command lines: `mysql -p<secret>`, `sshpass -p <secret>`, `curl -u user:<secret>`. */
const cli: fc.Arbitrary<Planted> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('mysql', 'mysqldump', 'mariadb', '/usr/bin/mysql'),
      secret('!#$%*+./:=?@^_~'),
    )
    .chain(([cmd, s]) =>
      fc.constantFrom(
        plant(`${cmd} -uroot -p${s} -h db nova`, s),
        plant(`${cmd} -p'${s}' nova`, s),
        plant(`${cmd} -p"${s}" nova`, s),
      ),
    ),
  secret('!#$%*+./:=?@^_~').chain((s) =>
    fc.constantFrom(plant(`sshpass -p ${s} ssh host`, s), plant(`sshpass -p${s} ssh host`, s)),
  ),
  secret('!#$%*+./:=?@^_~').chain((s) =>
    fc.constantFrom(
      plant(`curl -u admin:${s} https://host/x`, s),
      plant(`curl --user=admin:${s} https://host/x`, s),
      plant(`curl -s -u "admin:${s}" https://host/x`, s),
    ),
  ),
)

/** Token shapes masked wherever they are. */
const knownToken: fc.Arbitrary<Planted> = fc
  .oneof(
    chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 16, 16).map((s) => `AKIA${s}`),
    chars(ALNUM + '-_', 60, 120).map((s) => `gAAAAA${s}`),
    fc
      .tuple(chars(ALNUM + '-_', 10, 40), chars(ALNUM + '-_', 10, 60), chars(ALNUM + '-_', 0, 43))
      .map(([a, b, c]) => `eyJ${a}.eyJ${b}.${c}`),
    chars(ALNUM, 36, 40).map((s) => `ghp_${s}`),
    chars(ALNUM + '-', 12, 40).map((s) => `xoxb-${s}`),
  )
  .map((tok) => plant(`failed with ${tok} after 3 tries`, tok))

const bearer: fc.Arbitrary<Planted> = secret('.~+/=-').map((s) =>
  plant(`sent Bearer ${s} to keystone`, s),
)

const pem: fc.Arbitrary<Planted> = fc
  .tuple(
    fc.constantFrom(
      'RSA PRIVATE KEY',
      'PRIVATE KEY',
      'EC PRIVATE KEY',
      'OPENSSH PRIVATE KEY',
      'ENCRYPTED PRIVATE KEY',
    ),
    fc.array(chars(ALNUM + '+/', 16, 64), { minLength: 1, maxLength: 5 }),
  )
  .map(([label, lines]) =>
    plant(
      `key = """-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----"""`,
      ...lines,
    ),
  )

/** Every claimed form. */
const planted: fc.Arbitrary<Planted> = fc.oneof(
  { weight: 6, arbitrary: keyValue },
  { weight: 2, arbitrary: jsonPair },
  { weight: 1, arbitrary: yamlNextLine },
  { weight: 2, arbitrary: cliFlag },
  { weight: 1, arbitrary: header },
  { weight: 4, arbitrary: urlPassword },
  { weight: 1, arbitrary: multiHost },
  { weight: 1, arbitrary: urlToken },
  { weight: 2, arbitrary: encodedPair },
  { weight: 2, arbitrary: cli },
  { weight: 2, arbitrary: knownToken },
  { weight: 1, arbitrary: bearer },
  { weight: 1, arbitrary: pem },
)

/** Where in a traceback line the secret sits: the whole line, or after text on it. */
const placement = fc.constantFrom(
  (s: string) => `    ${s}`,
  (s: string) => `ValueError: ${s}`,
  (s: string) => `ERROR nova.compute.manager [req-1 - - - - -] connect failed ${s}`,
  (s: string) => `oslo_db.exception.DBConnectionError: (2003, "cannot connect") ${s}`,
)

/** Fragments of `secret` this long that appear in the output are leaks (unless in the context). */
const LEAK_WINDOW = 5

function leakedFragment(output: string, context: string, secretText: string): string | undefined {
  const n = Math.min(LEAK_WINDOW, secretText.length)
  for (let i = 0; i + n <= secretText.length; i++) {
    const fragment = secretText.slice(i, i + n)
    if (fragment.trim().length < n) continue
    if (output.includes(fragment) && !context.includes(fragment)) return fragment
  }
  return undefined
}

test('secrets in every claimed form, inside generated tracebacks, never survive', (t) => {
  const params = fuzzParameters(t, 4000)
  fc.assert(
    fc.property(traceback, planted, placement, fc.nat(), (lines, p, place, at) => {
      const raw = lines.map((l) => l.raw)
      const index = at % (raw.length + 1)
      const line = p.standalone ? p.text : place(p.text)
      const withSecret = [...raw.slice(0, index), line, ...raw.slice(index)].join('\n')
      // The form's own syntax (`%22%3A%22`) is context too: only the secret's characters count.
      const context = [
        ...raw,
        p.secrets.reduce((text, x) => text.split(x).join('\u0000'), p.text),
      ].join('\n')
      const out = sanitizeTraceback(withSecret)
      for (const s of p.secrets) {
        const leak = leakedFragment(out, context, s)
        assert.equal(
          leak,
          undefined,
          `secret ${JSON.stringify(s)} survives as ${JSON.stringify(leak)} in:\n${out}`,
        )
      }
      // `details` go through the same pipeline, with a smaller cap.
      const details = sanitizeDetails(line)
      for (const s of p.secrets) {
        if (line.indexOf(s) + s.length > 200) continue // cut off by the 255-byte cap anyway
        assert.equal(
          leakedFragment(details, context, s),
          undefined,
          `details: ${JSON.stringify(details)}`,
        )
      }
    }),
    params,
  )
})

test('tracebacks without secrets survive unchanged, except the documented path reduction', (t) => {
  const params = fuzzParameters(t, 3000)
  fc.assert(
    fc.property(traceback, (lines) => {
      const raw = lines.map((l) => l.raw).join('\n')
      const expected = lines.map((l) => l.expected).join('\n')
      assert.equal(sanitizeTraceback(raw), expected)
    }),
    params,
  )
})

test('sanitizing is idempotent on any text', (t) => {
  const params = fuzzParameters(t, 3000)
  const anyText = fc.oneof(
    hostileText(12),
    fc
      .tuple(traceback, planted, hostileText(4))
      .map(([lines, p, junk]) => [...lines.map((l) => l.raw), p.text + junk].join('\n')),
  )
  fc.assert(
    fc.property(anyText, (text) => {
      const once = sanitizeTraceback(text)
      assert.equal(sanitizeTraceback(once), once)
      const details = sanitizeDetails(text)
      assert.equal(sanitizeDetails(details), details)
    }),
    params,
  )
})
