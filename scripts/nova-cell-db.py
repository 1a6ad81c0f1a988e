#!/usr/bin/python3
"""Creates an empty Nova cell database with Nova's own migrations (issue 12's importer tests).

Usage: /usr/bin/python3 scripts/nova-cell-db.py CONNECTION

CONNECTION is an SQLAlchemy URL as in nova.conf's [database] connection:
  sqlite:////abs/path/cell.sqlite             (the file is created; it must not exist)
  mysql+pymysql://root@127.0.0.1/nova_cell1   (the database must exist and be empty)

Needs Debian's python3-nova (run with /usr/bin/python3: a python3 earlier on PATH may not see
Debian's packages). The schema is Nova's, built by `nova.db.migration.db_sync`, exactly what
`nova-manage db sync` runs, so the importer is tested against Nova's real tables (instances,
instance_actions, instance_actions_events, with their soft-delete columns deleted/deleted_at).
Test data is filled afterwards with plain INSERTs by the caller. Prints one JSON line.
"""
import json
import os
import sys
import tempfile


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2
    connection = argv[1]
    with tempfile.TemporaryDirectory(prefix="nova-cell-db-") as d:
        conf = os.path.join(d, "nova.conf")
        with open(conf, "w") as f:
            # Nova's config needs a lock path and the API database option set, though only the
            # cell ("main") database is migrated here.
            f.write(f"[DEFAULT]\nstate_path = {d}\n"
                    f"[database]\nconnection = {connection}\n"
                    f"[oslo_concurrency]\nlock_path = {d}\n")
        from nova import config
        from nova.db import migration
        config.parse_args(["nova-cell-db", "--config-file", conf])
        migration.db_sync(database="main")
    import sqlalchemy
    eng = sqlalchemy.create_engine(connection)
    names = sorted(sqlalchemy.inspect(eng).get_table_names())
    eng.dispose()
    print(json.dumps({"connection": connection.split("@")[-1], "tables": len(names),
                      "has_instance_actions": "instance_actions_events" in names}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
