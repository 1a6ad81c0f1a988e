"""A real nova-api for ActionTrail's tests (run by scripts/nova-test-server.sh with Debian's
/usr/bin/python3 and python3-nova).

It builds Nova's API and cell databases on SQLite in DIR with Nova's own migrations, fills them
through Nova's own objects and DB layer (the calls nova-api and nova-compute make), and serves
Nova's real osapi_compute WSGI application (noauth2: the token is "user:project", user "admin"
is admin) on 127.0.0.1:PORT with eventlet's WSGI server: no compute, no broker, no
Keystone. GET /servers/detail asks Neutron for security groups, so /network answers an empty
Neutron (no ports, no groups) from the same server.

Prints one JSON line {"nova": URL, "servers": [...]} once it serves; the caller stops it with
SIGTERM. The data set is fixed (FIXTURE below) so tests can reason about it.

With NOVA_TEST_KEYSTONE_URL (a Keystone's v3 URL) and NOVA_TEST_KEYSTONE_PASSWORD (its bootstrap
admin's password) in the environment, tokens are checked by keystonemiddleware's auth_token against
that Keystone instead (auth_strategy = keystone, as a deployed nova-api), without a token cache so
that a revoked token is refused at once.
"""
import datetime
import json
import os
import sys
import uuid

DIR = os.path.abspath(sys.argv[1])
PORT = int(sys.argv[2])
URL = "http://127.0.0.1:%d" % PORT
KEYSTONE = os.environ.get("NOVA_TEST_KEYSTONE_URL")

PASTE = """
[pipeline:v21]
pipeline = compute_req_id faultwrap noauth2 osapi_compute_app_v21

[pipeline:versions]
pipeline = faultwrap oscomputeversionapp

[filter:compute_req_id]
paste.filter_factory = nova.api.compute_req_id:ComputeReqIdMiddleware.factory

[filter:faultwrap]
paste.filter_factory = nova.api.openstack:FaultWrapper.factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory

[filter:keystonecontext]
paste.filter_factory = nova.api.auth:NovaKeystoneContext.factory

[filter:noauth2]
paste.filter_factory = nova.api.openstack.auth:NoAuthMiddleware.factory

[app:osapi_compute_app_v21]
paste.app_factory = nova.api.openstack.compute:APIRouterV21.factory

[app:oscomputeversionapp]
paste.app_factory = nova.api.openstack.compute.versions:Versions.factory
"""

CONF_TEXT = """[DEFAULT]
transport_url = fake://
host = nova-test
state_path = {d}
use_stderr = true
debug = false

[api]
auth_strategy = noauth2

[api_database]
connection = sqlite:///{d}/nova_api.sqlite

[database]
connection = sqlite:///{d}/nova_cell1.sqlite

[oslo_concurrency]
lock_path = {d}/lock

[oslo_policy]
enforce_scope = false
enforce_new_defaults = false

[neutron]
auth_type = none
endpoint_override = {url}/network

[notifications]
notification_format = unversioned

[oslo_messaging_notifications]
driver = noop
"""

KEYSTONE_CONF = """
[keystone_authtoken]
www_authenticate_uri = {k}
auth_url = {k}
auth_type = password
username = admin
password = {p}
project_name = admin
user_domain_name = Default
project_domain_name = Default
token_cache_time = -1
"""

T0 = datetime.datetime(2025, 3, 1, 9, 0, 0)


def at(seconds, micro=0):
    return T0 + datetime.timedelta(seconds=seconds, microseconds=micro)


def uid(n):
    return str(uuid.UUID(int=0x5E7000000000400080000000000000 + n))


def rid(n):
    return "req-" + str(uuid.UUID(int=0xAC7000000000400080000000000000 + n))


TRACEBACK = (
    'Traceback (most recent call last):\n'
    '  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 10415, in _error_out\n'
    '    raise exception.InstanceFaultRollback(error)\n'
    'nova.exception.InstanceFaultRollback: Instance rollback performed due to: '
    'No valid host was found.\n'
)

# (server number, name, project, user, deleted, [actions]); an action is
# (action, user, project, start second, [events], finished); an event is
# (event, start second, finish second or None, result, host, traceback, details)
OK = "Success"


def fixture():
    servers = []
    many = []
    for i in range(23):  # more than one page of actions at the tests' page sizes
        name = ["reboot", "stop", "start"][i % 3]
        many.append((name, "u-alice", "p-alpha", 100 + i * 10,
                     [("compute_%s_instance" % name, 100 + i * 10, 101 + i * 10, OK,
                       "compute-1", None, None)], True))
    servers.append((1, "alpha-busy", "p-alpha", "u-alice", False,
                    [("create", "u-alice", "p-alpha", 0,
                      [("compute__do_build_and_run_instance", 1, 30, OK, "compute-1", None, None)],
                      True)] + many))
    servers.append((2, "alpha-failed-resize", "p-alpha", "u-alice", False, [
        ("create", "u-alice", "p-alpha", 5,
         [("compute__do_build_and_run_instance", 6, 40, OK, "compute-2", None, None)], True),
        ("resize", "u-alice", "p-alpha", 600,
         [("conductor_migrate_server", 600, 601, OK, "conductor-1", None, None),
          ("compute_prep_resize", 602, 605, "Error", "compute-2", TRACEBACK,
           "No valid host was found. ")], True),
    ]))
    servers.append((3, "beta-gone", "p-beta", "u-bob", True, [
        ("create", "u-bob", "p-beta", 10,
         [("compute__do_build_and_run_instance", 11, 50, OK, "compute-1", None, None)], True),
        ("delete", "u-bob", "p-beta", 900,
         [("compute_terminate_instance", 901, 905, OK, "compute-1", None, None)], True),
    ]))
    servers.append((4, "beta-migrating", "p-beta", "u-bob", False, [
        ("create", "u-bob", "p-beta", 20,
         [("compute__do_build_and_run_instance", 21, 60, OK, "compute-2", None, None)], True),
        # an admin acting on another project's server, still running
        ("live-migration", "admin", "admin", 1000,
         [("conductor_live_migrate_instance", 1000, 1002, OK, "conductor-1", None, None),
          ("compute_check_can_live_migrate_destination", 1003, None, None, "compute-1",
           None, None)], False),
    ]))
    servers.append((5, "gamma-quiet", "p-gamma", "u-carol", False, [
        ("create", "u-carol", "p-gamma", 30, [], True),
    ]))
    servers.append((6, "gamma-gone", "p-gamma", "u-carol", True, [
        ("create", "u-carol", "p-gamma", 40,
         [("compute__do_build_and_run_instance", 41, 70, OK, "compute-2", None, None)], True),
        ("delete", "u-carol", "p-gamma", 1200,
         [("compute_terminate_instance", 1201, 1203, OK, "compute-2", None, None)], True),
    ]))
    return servers


def setup():
    os.makedirs(os.path.join(DIR, "lock"), exist_ok=True)
    conf_path = os.path.join(DIR, "nova.conf")
    conf_text = CONF_TEXT.format(d=DIR, url=URL)
    paste = PASTE
    if KEYSTONE:
        conf_text = conf_text.replace("auth_strategy = noauth2", "auth_strategy = keystone")
        conf_text += KEYSTONE_CONF.format(k=KEYSTONE, p=os.environ["NOVA_TEST_KEYSTONE_PASSWORD"])
        paste = paste.replace(" noauth2 ", " authtoken keystonecontext ")
    with open(conf_path, "w") as f:
        f.write(conf_text)
    with open(os.path.join(DIR, "api-paste.ini"), "w") as f:
        f.write(paste)

    from nova import config
    from nova import context as nova_context
    from nova import objects
    from nova.db import migration
    from nova.db.main import api as db
    from nova.network import model as network_model
    import nova.conf
    from oslo_utils import timeutils

    CONF = nova.conf.CONF
    config.parse_args(["nova-test-server", "--config-file", conf_path])
    objects.register_all()
    if os.path.exists(os.path.join(DIR, ".filled")):
        return json.load(open(os.path.join(DIR, ".filled")))
    migration.db_sync(database="api")
    migration.db_sync(database="main")

    ctxt = nova_context.get_admin_context()
    cell = objects.CellMapping(ctxt, uuid=str(uuid.uuid4()), name="cell1",
                               database_connection=CONF.database.connection,
                               transport_url="fake://")
    cell.create()
    # cell0 (where Nova keeps instances that failed to schedule) has a database of its own, as
    # nova-manage makes it: sharing cell1's would list every server twice and cut pages short.
    cell0 = objects.CellMapping(ctxt, uuid=objects.CellMapping.CELL0_UUID, name="cell0",
                                database_connection="sqlite:///%s/nova_cell0.sqlite" % DIR,
                                transport_url="none:///")
    cell0.create()
    with nova_context.target_cell(ctxt, cell0) as c0:
        migration.db_sync(database="main", context=c0)
    flavor = objects.Flavor(id=1, flavorid="1", name="m1.tiny", memory_mb=512, vcpus=1,
                            root_gb=1, ephemeral_gb=0, swap=0, rxtx_factor=1.0,
                            vcpu_weight=0, disabled=False, is_public=True, extra_specs={},
                            description=None)
    made = []
    for (n, name, project, user, deleted, actions) in fixture():
        server_uuid = uid(n)
        uctx = nova_context.RequestContext(user_id=user, project_id=project, is_admin=True)
        with nova_context.target_cell(uctx, cell) as cctx:
            inst = objects.Instance(
                context=cctx, uuid=server_uuid, project_id=project, user_id=user,
                vm_state="active", power_state=1, task_state=None, display_name=name,
                hostname=name, host="compute-1", node="compute-1", image_ref="",
                flavor=flavor, old_flavor=None, new_flavor=None, instance_type_id=1,
                memory_mb=512, vcpus=1, root_gb=1, ephemeral_gb=0, launched_at=at(n),
                availability_zone="nova", locked=False, metadata={}, system_metadata={},
                info_cache=objects.InstanceInfoCache(
                    network_info=network_model.NetworkInfo([])))
            timeutils.set_time_override(at(n))
            inst.create()
            objects.InstanceMapping(ctxt, instance_uuid=server_uuid, cell_mapping=cell,
                                    project_id=project, user_id=user,
                                    queued_for_delete=deleted).create()
            for k, (action, a_user, a_project, start, events, finished) in enumerate(actions):
                request_id = rid(n * 100 + k)
                # microseconds on some times: the API must keep them (or not) as Nova does
                start_t = at(start, 123456 if k % 2 else 0)
                # Nova's models stamp updated_at with the wall clock of each write: pin the clock
                # to the write's own time, as on a real deployment, so the data set is fixed.
                timeutils.set_time_override(start_t)
                db.action_start(cctx, {"action": action, "instance_uuid": server_uuid,
                                       "request_id": request_id, "user_id": a_user,
                                       "project_id": a_project, "start_time": start_t,
                                       "updated_at": start_t})
                last = start_t
                for (ev, ev_start, ev_finish, result, host, tb, details) in events:
                    timeutils.set_time_override(at(ev_start))
                    db.action_event_start(cctx, {"event": ev, "instance_uuid": server_uuid,
                                                 "request_id": request_id,
                                                 "start_time": at(ev_start), "host": host})
                    last = at(ev_start)
                    if ev_finish is not None:
                        values = {"event": ev, "instance_uuid": server_uuid,
                                  "request_id": request_id, "finish_time": at(ev_finish),
                                  "result": result}
                        if tb:
                            values["traceback"] = tb
                        if details:
                            values["details"] = details
                        timeutils.set_time_override(at(ev_finish))
                        db.action_event_finish(cctx, values)
                        last = at(ev_finish)
                if finished:
                    done = last + datetime.timedelta(seconds=1)
                    timeutils.set_time_override(done)
                    db.action_finish(cctx, {"instance_uuid": server_uuid,
                                            "request_id": request_id, "finish_time": done})
            if deleted:
                timeutils.set_time_override(at(2000 + n))
                inst.destroy()
            timeutils.clear_time_override()
        made.append({"uuid": server_uuid, "name": name, "project": project,
                     "deleted": deleted, "actions": len(actions)})
    with open(os.path.join(DIR, ".filled"), "w") as f:
        json.dump(made, f)
    return made


def empty_neutron(environ, start_response):
    """Neutron as Nova's server views see it with no ports: every list is empty."""
    path = environ.get("PATH_INFO", "")
    key = path.rstrip("/").split("/")[-1].split(".")[0].replace("-", "_") or "resources"
    body = json.dumps({key: []}).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


def main():
    servers = setup()
    from paste import deploy

    paste = "config:" + os.path.join(DIR, "api-paste.ini")
    v21 = deploy.loadapp(paste, name="v21")
    versions = deploy.loadapp(paste, name="versions")

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        for prefix, target in (("/network", empty_neutron), ("/v2.1", v21)):
            if path == prefix or path.startswith(prefix + "/"):
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path[len(prefix):]
                return target(environ, start_response)
        return versions(environ, start_response)

    # nova.api.openstack monkey-patches with eventlet on import (as under nova-api or mod_wsgi),
    # so a stdlib threaded server would block; eventlet's WSGI server is what nova-api runs.
    import eventlet
    from eventlet import wsgi

    sock = eventlet.listen(("127.0.0.1", PORT))
    print(json.dumps({"nova": URL, "servers": servers}), flush=True)
    wsgi.server(sock, app, log_output=False, debug=False)


if __name__ == "__main__":
    main()
