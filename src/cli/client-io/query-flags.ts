/**
 * Query filters as command-line flags, one table mirroring the API's parameters
 * (docs/operations.md): `--owner-project P` is `owner_project=P`, a repeatable flag
 * (`--action a --action b`) repeats the parameter. The server checks the values (a bad time is
 * its 400, naming the parameter); the CLI only maps names.
 */
import { Option, type Command } from 'commander'

/** One filter flag. */
export interface FilterFlag {
  /** The API parameter, e.g. `owner_project`. */
  param: string
  /** The flag's value name, e.g. `<project-id>`. */
  value: string
  help: string
  repeatable?: boolean
  /** Allowed values, checked by commander (a usage error lists them). */
  choices?: readonly string[]
}

/** The filters of `GET /v1/actions` (and the parameters its neighbours share). */
export const FILTERS = {
  instance: { param: 'instance', value: '<uuid>', help: 'instance uuid' },
  project: { param: 'project', value: '<project-id>', help: 'project that started it' },
  owner_project: {
    param: 'owner_project',
    value: '<project-id>',
    help: 'project owning the instance',
  },
  user: { param: 'user', value: '<user-id>', help: 'user who started it' },
  action: {
    param: 'action',
    value: '<name>',
    help: 'action name (repeatable: any of them)',
    repeatable: true,
  },
  event: { param: 'event', value: '<name>', help: 'event name (repeatable)', repeatable: true },
  request_id: { param: 'request_id', value: '<id>', help: 'request id' },
  result: {
    param: 'result',
    value: '<result>',
    help: 'outcome: an event failed, not finished, or finished without failure',
    choices: ['success', 'error', 'running'],
  },
  host: { param: 'host', value: '<host>', help: 'host an event ran on (admins only)' },
  since: { param: 'since', value: '<time>', help: 'ISO 8601 lower bound (inclusive)' },
  until: { param: 'until', value: '<time>', help: 'ISO 8601 upper bound (inclusive)' },
  time_field: {
    param: 'time_field',
    value: '<field>',
    help: 'the time --since/--until bound and rows are ordered by (default start_time)',
    choices: ['start_time', 'updated_at'],
  },
  instance_project: {
    param: 'project',
    value: '<project-id>',
    help: 'project owning the instances (admins; others only ever see their own)',
  },
  name: { param: 'name', value: '<text>', help: 'substring of the instance name' },
  deleted: {
    param: 'deleted',
    value: '<which>',
    help: 'deleted ones only, live ones only (default), or both',
    choices: ['true', 'false', 'any'],
  },
} as const satisfies Record<string, FilterFlag>

/** A filter's name in FILTERS. */
export type FilterName = keyof typeof FILTERS

function flagName(param: string): string {
  return param.replaceAll('_', '-')
}

function attributeName(param: string): string {
  return param.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
}

/** Adds the named filters to a command as flags. */
export function withFilters(command: Command, names: readonly FilterName[]): Command {
  for (const name of names) {
    const f: FilterFlag = FILTERS[name]
    const option = new Option(`--${flagName(f.param)} ${f.value}`, f.help)
    if (f.choices) option.choices(f.choices)
    if (f.repeatable)
      option.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    command.addOption(option)
  }
  return command
}

/** The API query parameters that the parsed options of withFilters' flags stand for. */
export function filterParams(
  opts: Record<string, unknown>,
  names: readonly FilterName[],
): URLSearchParams {
  const params = new URLSearchParams()
  for (const name of names) {
    const f: FilterFlag = FILTERS[name]
    const value = opts[attributeName(f.param)]
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) params.append(f.param, String(v))
  }
  return params
}
