#!/usr/bin/env bash
# Node 20's `node --test` does not expand globs: list the files here and fail when none are found.
#
# Without arguments: every test file runs on SQLite (the store contract suite and the multi-node
# test reach PostgreSQL and MariaDB/MySQL themselves) and, at the same time, the API suites run
# again with ACTIONTRAIL_TEST_BACKEND=postgres and =mysql; each line is prefixed with its backend.
# A server that does not answer is skipped with a loud warning, unless
# ACTIONTRAIL_REQUIRE_BACKENDS=1 (CI): then its suites run anyway and fail.
# With arguments: just those files, on ACTIONTRAIL_TEST_BACKEND (SQLite when unset).
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob

run_node_tests() {
  node --import tsx --test --test-concurrency=2 "$@"
}

if [ "$#" -gt 0 ]; then
  run_node_tests "$@"
  exit
fi

files=(src/**/*.test.ts test/**/*.test.ts)
api=(test/api/*.test.ts test/api-v1/*.test.ts)
if [ ${#files[@]} -eq 0 ] || [ ${#api[@]} -eq 0 ]; then
  echo "run-tests: no test files found" >&2
  exit 1
fi

# Exit 0 when the backend's server answers; prints the loud warning otherwise.
reachable() {
  node --import tsx --input-type=module \
    -e "const { serverProblem } = await import('./test/helpers/backends.ts'); process.exit((await serverProblem(process.argv[1])) ? 1 : 0)" \
    "$1"
}

declare -A result=()
declare -A pids=()
status=0

# One run per backend, all at once (the server runs mostly wait on their databases), each line
# prefixed with its backend.
start_run() {
  local backend=$1
  shift
  (
    set -o pipefail
    ACTIONTRAIL_TEST_BACKEND="$backend" run_node_tests "$@" 2>&1 | sed -u "s/^/[$backend] /"
  ) &
  pids[$backend]=$!
}

echo "run-tests: every suite on sqlite (the store contract suite covers every backend itself)"
start_run sqlite "${files[@]}"
for backend in postgres mysql; do
  if [ "${ACTIONTRAIL_REQUIRE_BACKENDS:-}" = 1 ] || reachable "$backend"; then
    echo "run-tests: API suites on $backend"
    start_run "$backend" "${api[@]}"
  else
    result[$backend]="SKIPPED (server unreachable)"
  fi
done
for backend in "${!pids[@]}"; do
  if wait "${pids[$backend]}"; then result[$backend]=ok; else result[$backend]=FAILED; status=1; fi
done

echo
for backend in sqlite postgres mysql; do echo "run-tests: $backend: ${result[$backend]:-not run}"; done
exit $status
