/**
 * Masking of secrets passed on a command line in the forms the key/value rules cannot see:
 * `mysql -p<secret>`, `sshpass -p <secret>`, `curl -u user:<secret>`. (`--password=x` and
 * `--password x` are key/value pairs and handled there.)
 */
import { MASK } from './mask.js'

/**
 * A command whose options carry a password, and the rest of its command (up to a newline, `;`,
 * `|` or `&`). The look-behind keeps `/usr/bin/mysql` matching but `my-mysql-tool` not.
 */
const COMMAND_RE =
  /(?<![\w.-])(mysql|mysqldump|mysqladmin|mariadb|mariadb-dump|mariadb-admin|sshpass|curl)(?![\w.-])([^\n;|&]*)/g

/** `-p<secret>` glued to its option, as the MySQL clients take it (`-p secret` prompts instead). */
const MYSQL_P_RE = /(?<=\s)-p(?:'([^'\n]*)'|"([^"\n]*)"|([^\s'"]+))/g
/** `-p <secret>` or `-p<secret>`, as sshpass takes it. */
const SSHPASS_P_RE = /(?<=\s)(-p[ \t]*)(?:'([^'\n]*)'|"([^"\n]*)"|([^\s'"]+))/g
/** `-u user:<secret>`, `--user=user:<secret>`, quoted or not; `-u user` alone prompts. */
const CURL_USER_RE = /(?<=\s)(-u|--user)([ \t]*|=)(['"]?)([^\s:'"]*):([^\s'"]+)/g

function maskOption(option: string, quoted1?: string, quoted2?: string): string {
  if (quoted1 !== undefined) return `${option}'${MASK}'`
  if (quoted2 !== undefined) return `${option}"${MASK}"`
  return option + MASK
}

/**
 * Masks `mysql`/`mysqldump`/`mysqladmin`/`mariadb` `-p<secret>`, `sshpass -p <secret>` and the
 * password of `curl -u user:<secret>`; the options and user names stay.
 *
 * @param text - Any text.
 * @returns The text with those command-line passwords replaced by {@link MASK}.
 */
export function maskCliSecrets(text: string): string {
  return text.replace(COMMAND_RE, (_whole, command: string, rest: string) => {
    let masked = rest
    if (command === 'sshpass') {
      masked = rest.replace(SSHPASS_P_RE, (_m, option: string, q1?: string, q2?: string) =>
        maskOption(option, q1, q2),
      )
    } else if (command === 'curl') {
      masked = rest.replace(
        CURL_USER_RE,
        (_m, option: string, gap: string, quote: string, user: string) =>
          `${option}${gap}${quote}${user}:${MASK}`,
      )
    } else {
      masked = rest.replace(MYSQL_P_RE, (_m, q1?: string, q2?: string) => maskOption('-p', q1, q2))
    }
    return command + masked
  })
}
