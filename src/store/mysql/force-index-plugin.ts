/**
 * A Kysely plugin that makes MariaDB/MySQL read one table through a named index (`FORCE INDEX`).
 * Kysely has no index-hint builder, so the plugin swaps the table reference in the FROM clause
 * for the hinted text. Used for the one query where MariaDB's optimizer chooses badly
 * (docs/storage.md, finding 1).
 */
import {
  FromNode,
  OperationNodeTransformer,
  RawNode,
  TableNode,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely'

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/

class ForceIndexTransformer extends OperationNodeTransformer {
  readonly #table: string
  readonly #hinted: RawNode

  constructor(table: string, index: string) {
    super()
    this.#table = table
    this.#hinted = RawNode.createWithSql(`\`${table}\` FORCE INDEX (\`${index}\`)`)
  }

  protected override transformFrom(node: FromNode): FromNode {
    return FromNode.create(
      node.froms.map((from) =>
        TableNode.is(from) &&
        from.table.schema === undefined &&
        from.table.identifier.name === this.#table
          ? this.#hinted
          : this.transformNode(from),
      ),
    )
  }
}

/** Rewrites `FROM table` to `FROM table FORCE INDEX (index)` in the queries it is applied to. */
export class ForceIndexPlugin implements KyselyPlugin {
  readonly #transformer: ForceIndexTransformer

  constructor(table: string, index: string) {
    // Both names end up in SQL text: only plain identifiers are accepted.
    if (!IDENTIFIER.test(table) || !IDENTIFIER.test(index))
      throw new Error(`not a plain identifier: ${table}, ${index}`)
    this.#transformer = new ForceIndexTransformer(table, index)
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node, args.queryId)
  }

  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result)
  }
}
