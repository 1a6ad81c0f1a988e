#!/usr/bin/env bash
# Node 20's `node --test` does not expand globs: list the files here and fail when none are found.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob
files=(src/**/*.test.ts test/**/*.test.ts)
if [ ${#files[@]} -eq 0 ]; then
  echo "run-tests: no test files found" >&2
  exit 1
fi
if [ "$#" -gt 0 ]; then files=("$@"); fi
exec node --import tsx --test --test-concurrency=2 "${files[@]}"
