#!/usr/bin/env bash
# Runs a real OpenStack Keystone (Debian's python3-keystone) on 127.0.0.1 for the Keystone-mode
# tests: SQLite and fernet tokens in DIR, served by a small threaded stdlib WSGI server, no apache
# or uwsgi. It installs nothing (.ci/run installs python3-keystone) and runs in the foreground:
# the caller stops it with SIGTERM. Prints "keystone listening on URL" when it serves.
#
#   scripts/keystone-test-server.sh DIR PORT [TOKEN_EXPIRATION_SECONDS]
#
# bootstrap creates domain Default, project and user `admin` (password $KS_ADMIN_PASSWORD, admin
# on the project and on the system), the roles admin, member, reader with the implied-role rules
# admin → member → reader, and the identity endpoint. The tests create everything else by REST.
set -euo pipefail
PY=/usr/bin/python3   # Debian's python: an interpreter earlier on PATH may not see dist-packages
[ $# -ge 2 ] || { echo "usage: $0 DIR PORT [EXPIRATION]" >&2; exit 2; }
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
PORT=$2
EXPIRATION=${3:-3600}
URL=http://127.0.0.1:$PORT/v3
command -v keystone-manage >/dev/null || { echo "keystone-manage missing: apt-get install python3-keystone" >&2; exit 3; }

cat > "$DIR/keystone.conf" <<CONF
[DEFAULT]
log_file = $DIR/keystone.log
[database]
connection = sqlite:///$DIR/keystone.db
[token]
provider = fernet
expiration = $EXPIRATION
[fernet_tokens]
key_repository = $DIR/fernet-keys
[credential]
key_repository = $DIR/credential-keys
[identity]
# Test only: bcrypt cost 4 makes a password login take milliseconds instead of ~300 ms.
password_hash_rounds = 4
[cache]
# In-process cache: validation ~10 ms instead of ~120 ms. Never enabled = false (it also turns off
# request-local memoisation: ~600 ms per validation). One server process per DB, so revocations
# are seen at once.
enabled = true
backend = dogpile.cache.memory
CONF

km() { keystone-manage --config-file "$DIR/keystone.conf" "$@" 2>>"$DIR/keystone-manage.err"; }
# Every keystone-manage run prints a harmless eventlet traceback at exit; its status is still 0.
[ -f "$DIR/fernet-keys/0" ] || km fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
[ -f "$DIR/credential-keys/0" ] || km credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
if [ ! -f "$DIR/.db_synced" ]; then km db_sync; touch "$DIR/.db_synced"; fi
if [ "$(cat "$DIR/.bootstrapped" 2>/dev/null || true)" != "$PORT" ]; then
  km bootstrap --bootstrap-password "${KS_ADMIN_PASSWORD:-admin-secret}" \
    --bootstrap-username admin --bootstrap-project-name admin --bootstrap-role-name admin \
    --bootstrap-service-name keystone --bootstrap-region-id RegionOne \
    --bootstrap-admin-url "$URL" --bootstrap-internal-url "$URL" --bootstrap-public-url "$URL"
  echo "$PORT" > "$DIR/.bootstrapped"
fi

cat > "$DIR/serve.py" <<'PYEOF'
import os, socketserver, sys
from wsgiref.simple_server import WSGIServer, WSGIRequestHandler, make_server
host, port, conf = sys.argv[1], int(sys.argv[2]), os.path.abspath(sys.argv[3])
os.environ['OS_KEYSTONE_CONFIG_FILES'] = conf
sys.argv = sys.argv[:1]  # oslo.config parses sys.argv
from keystone.server.wsgi import initialize_public_application
app = initialize_public_application()
class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass
class Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 256  # the default backlog of 5 resets connections under load
srv = make_server(host, port, app, server_class=Server, handler_class=Quiet)
print('keystone listening on http://%s:%d/v3' % (host, port), flush=True)
srv.serve_forever()
PYEOF
exec "$PY" "$DIR/serve.py" 127.0.0.1 "$PORT" "$DIR/keystone.conf"
