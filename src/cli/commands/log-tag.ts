/**
 * `actiontrail log-tag ID…`: the tag each id gets in ActionTrail's logs. Logs never hold a user,
 * project or request id, only its keyed tag (security/id-tagger.ts); an operator given a request id
 * by a user (or from Nova's log) computes its tag with the servers' log key and greps for it.
 */
import type { Command } from 'commander'
import { createIdTagger } from '../../security/id-tagger.js'
import { CliError, EXIT } from '../cli-error.js'

/** Registers the log-tag command. */
export function logTagCommand(program: Command): void {
  program
    .command('log-tag')
    .description("print the tag each id (request, user, project) gets in the servers' logs")
    .argument('<id...>', 'ids, e.g. req-<uuid> (a global request id from Nova) or a user id')
    .option('--log-key <key>', "the servers' HMAC key for log tags (env ACTIONTRAIL_LOG_KEY)")
    .action((ids: string[], opts: { logKey?: string }) => {
      const key = opts.logKey ?? process.env.ACTIONTRAIL_LOG_KEY
      if (!key)
        throw new CliError(
          'the log key is needed (--log-key or ACTIONTRAIL_LOG_KEY): tags are keyed, and a server ' +
            'without a key draws a random one that no tag can be computed for',
          EXIT.usage,
        )
      const tag = createIdTagger(key)
      for (const id of ids) console.log(`${id} ${tag(id)}`)
    })
}
