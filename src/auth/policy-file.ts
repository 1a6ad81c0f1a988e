/**
 * Reads an oslo.policy file: a YAML or JSON mapping of rule name → check string (JSON when the
 * name ends in `.json` or the text starts with `{`, YAML otherwise), and builds the access policy
 * from the defaults and these overrides. Every refusal names the file, the line and the reason,
 * and stops start-up: a policy that is not what the operator wrote must not serve requests.
 */
import { readFile, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import YAML, { LineCounter, isMap, isScalar, isSeq } from 'yaml'
import { AppError } from '../domain/errors.js'
import { AccessPolicy } from './access-policy.js'
import { PolicyRuleError, type RuleSource } from './policy-language/index.js'

// Policy files are a few kilobytes (Nova's full sample is about 60 KB); a bigger one is a mistake.
const MAX_POLICY_FILE_BYTES = 1024 * 1024

function refuse(file: string, where: string, reason: string): AppError {
  return new AppError('invalid_input', `policy file ${file}: ${where}${reason}`)
}

// Node 22+ say "(line L column C)", Node 20 sometimes "at position N" and sometimes neither (then
// the message has no line).
function jsonErrorLine(text: string, message: string): number | undefined {
  const line = /line (\d+)/.exec(message)
  if (line?.[1]) return Number(line[1])
  const position = /position (\d+)/.exec(message)
  if (!position?.[1]) return undefined
  return text.slice(0, Number(position[1])).split('\n').length
}

/**
 * Parses the text of a policy file into rule sources with their lines. `file` only names the
 * file in messages; throws AppError('invalid_input') naming the line and the reason.
 */
export function parsePolicyText(file: string, text: string): RuleSource[] {
  const json = /\.json$/i.test(file) || /^\s*\{/.test(text)
  if (json) {
    try {
      JSON.parse(text)
    } catch (err) {
      const message = ((err as Error).message.split('\n')[0] ?? '').slice(0, 200)
      const line = jsonErrorLine(text, message)
      throw refuse(file, line === undefined ? '' : `line ${line}: `, `not valid JSON (${message})`)
    }
  }
  const lineCounter = new LineCounter()
  const doc = YAML.parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false })
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line
  const [error] = doc.errors
  if (error) {
    const line = lineOf(error.pos[0])
    const reason = error.message.split('\n')[0] ?? error.code
    throw refuse(file, line === undefined ? '' : `line ${line}: `, reason)
  }
  if (doc.contents === null) return []
  if (!isMap(doc.contents)) {
    throw refuse(file, 'line 1: ', 'expected a mapping of rule names to check strings')
  }
  const sources: RuleSource[] = []
  for (const pair of doc.contents.items) {
    const key = pair.key
    const line = lineOf(isScalar(key) ? key.range?.[0] : undefined)
    const where = line === undefined ? '' : `line ${line}: `
    if (!isScalar(key) || typeof key.value !== 'string' || key.value === '') {
      throw refuse(file, where, 'a rule name must be a non-empty string')
    }
    const name = key.value
    const value = pair.value
    if (isSeq(value)) {
      throw refuse(
        file,
        where,
        `rule "${name}": the legacy list-of-lists form is not supported; write a check string ` +
          '(e.g. "role:admin or role:reader")',
      )
    }
    if (!isScalar(value) || typeof value.value !== 'string') {
      throw refuse(
        file,
        where,
        `rule "${name}": expected a check string (write "" to allow everyone, "!" to deny)`,
      )
    }
    sources.push({ name, check: value.value, ...(line === undefined ? {} : { line }) })
  }
  return sources
}

/**
 * Builds the access policy from the defaults and, when `file` is given, its overrides. Warnings
 * (rules that have no effect) go to `onWarning`; anything else wrong throws, naming the line.
 */
export async function loadAccessPolicy(
  file: string | undefined,
  onWarning: (message: string) => void = () => {},
): Promise<AccessPolicy> {
  if (file === undefined) return AccessPolicy.create()
  let text: string
  try {
    const info = await stat(file)
    if (info.size > MAX_POLICY_FILE_BYTES) {
      throw refuse(file, '', `larger than ${MAX_POLICY_FILE_BYTES} bytes`)
    }
    text = await readFile(file, 'utf8')
  } catch (err) {
    if (err instanceof AppError) throw err
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable'
    throw refuse(file, '', `cannot be read (${code})`)
  }
  const overrides = parsePolicyText(file, text)
  try {
    return AccessPolicy.create({
      overrides,
      // The log takes no absolute paths (they name hosts' layouts): the file's base name only.
      onWarning: (message) => onWarning(`policy file ${basename(file)}: ${message}`),
    })
  } catch (err) {
    if (err instanceof PolicyRuleError) throw refuse(file, '', err.message)
    throw err
  }
}
