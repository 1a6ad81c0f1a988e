/**
 * A Kysely plugin that pins MariaDB/MySQL to the `(filter, time, id)` index of a keyset-paginated
 * search (`GET /v1/actions`, `GET /v1/events`), chosen from the query's shape: a SELECT from one
 * of the searched tables, ordered by a time column, with equality filters. With a keyset bound
 * deep in the filter's range MariaDB leaves that index for a `ref` on the filter alone (the same
 * or another index), reads every newer row of the filter from the newest one and filters them,
 * or sorts; the deep page of the hot instance, of `action` or of a big project's member cost
 * 10–19× the first (docs/storage.md, finding 5). The query text stays the same on every backend:
 * only this dialect adds the hint.
 */
import {
  AliasNode,
  AndNode,
  BinaryOperationNode,
  ColumnNode,
  FromNode,
  IdentifierNode,
  OperationNodeTransformer,
  OperatorNode,
  ParensNode,
  PrimitiveValueListNode,
  RawNode,
  ReferenceNode,
  SelectQueryNode,
  TableNode,
  ValueListNode,
  ValueNode,
  type KyselyPlugin,
  type OperationNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely'

/** One index a search can be read through: `columns` = equality columns, then the time, then id. */
export interface SearchIndex {
  table: string
  name: string
  columns: readonly string[]
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/

/**
 * Equality filters, most selective first: when a query has several, the index of the first one
 * (with the most equality columns) is forced. `request_id` has no ordering index and is not here:
 * its own index finds a handful of rows, and a forced hint would only stand in its way.
 */
const SELECTIVITY = [
  'instance_uuid',
  'finish_time',
  'user_id',
  'owner_project_id',
  'project_id',
  'host',
  'event',
  'action',
  'action_name',
] as const

function columnOf(
  node: OperationNode,
  table: string,
  alias: string | undefined,
): string | undefined {
  if (ColumnNode.is(node)) return node.column.name
  if (!ReferenceNode.is(node) || !ColumnNode.is(node.column)) return undefined
  const owner = node.table?.table.identifier.name
  if (owner !== undefined && owner !== table && owner !== alias) return undefined
  return node.column.column.name
}

/** `col = value` and `col IN (one value)` at the top level of the WHERE (ANDed terms only). */
function equalityColumns(
  where: OperationNode,
  table: string,
  alias: string | undefined,
  out: Set<string>,
): void {
  if (AndNode.is(where)) {
    equalityColumns(where.left, table, alias, out)
    equalityColumns(where.right, table, alias, out)
    return
  }
  if (ParensNode.is(where)) return equalityColumns(where.node, table, alias, out)
  if (!BinaryOperationNode.is(where) || !OperatorNode.is(where.operator)) return
  const column = columnOf(where.leftOperand, table, alias)
  if (column === undefined) return
  const op = where.operator.operator
  const right = where.rightOperand
  if (op === '=' && ValueNode.is(right)) out.add(column)
  // `finish_time IS NULL` (result=running, state=stuck) is an equality on NULL to InnoDB: a
  // (finish_time, …, time, id) index is read as one ref range in the order asked for.
  if (op === 'is' && ValueNode.is(right) && right.value === null) out.add(column)
  if (
    op === 'in' &&
    ((PrimitiveValueListNode.is(right) && right.values.length === 1) ||
      (ValueListNode.is(right) && right.values.length === 1))
  )
    out.add(column)
}

/** Whether `where` has a top-level (ANDed) `=` or `IN` term on any table's column. */
function hasEquality(where: OperationNode | undefined): boolean {
  if (where === undefined) return false
  if (AndNode.is(where)) return hasEquality(where.left) || hasEquality(where.right)
  if (ParensNode.is(where)) return hasEquality(where.node)
  if (!BinaryOperationNode.is(where) || !OperatorNode.is(where.operator)) return false
  const op = where.operator.operator
  return (op === '=' || op === 'in') && ReferenceNode.is(where.leftOperand)
}

/** Whether a subquery (EXISTS, IN (SELECT …)) appears anywhere under `node`. */
function hasSubquery(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false
  if (SelectQueryNode.is(node as OperationNode)) return true
  return Object.values(node).some(hasSubquery)
}

/** Whether an `IS` (`IS NOT`) comparison appears anywhere under `node`. */
function hasIsTerm(node: unknown, operator: 'is' | 'is not'): boolean {
  if (node === null || typeof node !== 'object') return false
  const op = node as OperationNode
  if (OperatorNode.is(op) && op.operator === operator) return true
  return Object.values(node).some((child) => hasIsTerm(child, operator))
}

class SearchIndexTransformer extends OperationNodeTransformer {
  readonly #indexes: readonly SearchIndex[]

  constructor(indexes: readonly SearchIndex[]) {
    super()
    this.#indexes = indexes
  }

  protected override transformSelectQuery(node: SelectQueryNode): SelectQueryNode {
    const inner = super.transformSelectQuery(node)
    const index = this.#choose(node)
    if (!index || !inner.from) return inner
    const [from] = inner.from.froms
    if (!from) return inner
    const alias = aliasOf(from)
    const aliased = alias === undefined ? '' : ` as \`${alias}\``
    const hinted = RawNode.createWithSql(
      `\`${index.table}\`${aliased} FORCE INDEX (\`${index.name}\`)`,
    )
    return { ...inner, from: FromNode.create([hinted, ...inner.from.froms.slice(1)]) }
  }

  /** The index to force for this SELECT, or none when its shape is not a search's. */
  #choose(node: SelectQueryNode): SearchIndex | undefined {
    const froms = node.from?.froms
    if (froms?.length !== 1 || !node.orderBy) return undefined
    const from = froms[0] as OperationNode
    const tableNode = AliasNode.is(from) ? from.node : from
    if (!TableNode.is(tableNode) || tableNode.table.schema !== undefined) return undefined
    const table = tableNode.table.identifier.name
    const alias = aliasOf(from)
    // A correlated or semi-join subquery (the `host` filter's EXISTS) may be the better start:
    // a hint on the outer table would forbid that plan, so such queries keep the planner's choice.
    if (hasSubquery(node.where)) return undefined
    // Finished work (`IS NOT NULL`: result=success) is most rows: the planner's choice stands.
    if (hasIsTerm(node.where, 'is not')) return undefined
    // Unfinished work (`finish_time IS NULL`: result=running, state=stuck) is a few rows with
    // indexes of their own, (finish_time[, filter], time, id): forced only when one of them holds
    // every equality filter of the query. Otherwise the planner chooses between the unfinished
    // rows and the filter's (instance=X&result=running: the instance's few rows may be better).
    const unfinished = hasIsTerm(node.where, 'is')
    const first = node.orderBy.items[0]
    const time = first ? columnOf(first.orderBy, table, alias) : undefined
    if (time === undefined) return undefined
    const equal = new Set<string>()
    if (node.where) equalityColumns(node.where.where, table, alias, equal)
    let best: SearchIndex | undefined
    let bestRank = Infinity
    for (const index of this.#indexes) {
      if (index.table !== table) continue
      const n = index.columns.length
      if (n < 2 || index.columns[n - 2] !== time || index.columns[n - 1] !== 'id') continue
      const prefix = index.columns.slice(0, n - 2)
      if (!prefix.every((c) => equal.has(c))) continue
      if (unfinished && prefix.length < equal.size) continue
      // The bare (time, id) index only for a join (events with their action): MariaDB 10.11 reads
      // `GET /v1/events` with no equality filter from the actions' side, all 1M of them, and sorts
      // the 5M joined events (minutes at 1M actions); forced, it reads 51 index entries. Alone, a
      // table's time-ordered scan is the planner's own choice.
      // An equality on the joined table (`request_id` on the action) is the better start there.
      if (prefix.length === 0 && !(node.joins?.length && !hasEquality(node.where?.where))) continue
      // More equality columns first, then the most selective leading column.
      const lead = SELECTIVITY.indexOf(prefix[0] as (typeof SELECTIVITY)[number])
      const rank = -prefix.length * 100 + (lead < 0 ? 99 : lead)
      if (rank < bestRank) {
        best = index
        bestRank = rank
      }
    }
    return best
  }
}

function aliasOf(from: OperationNode): string | undefined {
  return AliasNode.is(from) && IdentifierNode.is(from.alias) ? from.alias.name : undefined
}

/**
 * Rewrites `FROM table [as alias]` to `FROM table [as alias] FORCE INDEX (idx)` in every SELECT
 * (including UNION arms and subqueries in FROM) that reads one searched table ordered by a time
 * column, where `idx` is the index of `indexes` made of equality filters of the query followed by
 * that time column and id. Queries of any other shape pass unchanged.
 */
export class SearchIndexPlugin implements KyselyPlugin {
  readonly #transformer: SearchIndexTransformer

  constructor(indexes: readonly SearchIndex[]) {
    // The names end up in SQL text: only plain identifiers are accepted.
    for (const i of indexes)
      if (!IDENTIFIER.test(i.table) || !IDENTIFIER.test(i.name))
        throw new Error(`not a plain identifier: ${i.table}, ${i.name}`)
    this.#transformer = new SearchIndexTransformer(indexes)
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node, args.queryId)
  }

  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result)
  }
}
