#!/usr/bin/env bash
# Runs a real OpenStack nova-api (Debian's python3-nova) on 127.0.0.1 for the Nova import tests:
# Nova's API and cell databases on SQLite in DIR, built with Nova's own migrations and filled
# through Nova's own objects/DB layer with a fixed data set (scripts/nova-test-server.py), served
# with noauth2 (token "user:project"; "admin:admin" is an admin) by eventlet's WSGI server:
# no compute, no broker, no Keystone. It installs nothing (.ci/run installs python3-nova) and runs
# in the foreground: the caller stops it with SIGTERM. Prints one JSON line {"nova": URL, ...}
# when it serves.
#
#   scripts/nova-test-server.sh DIR PORT
set -euo pipefail
PY=/usr/bin/python3   # Debian's python: an interpreter earlier on PATH may not see dist-packages
[ $# -ge 2 ] || { echo "usage: $0 DIR PORT" >&2; exit 2; }
mkdir -p "$1"
"$PY" -c 'import nova' 2>/dev/null || { echo "python3-nova missing: apt-get install python3-nova" >&2; exit 3; }
exec "$PY" "$(dirname "$0")/nova-test-server.py" "$1" "$2"
