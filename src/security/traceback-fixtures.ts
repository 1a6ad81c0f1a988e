/**
 * Table of real-looking tracebacks for the sanitizer tests.
 *
 * The Python cases follow what Nova, oslo.* and the OpenStack clients print
 * (frame layout, exception names, log prefixes); the Node cases follow
 * util.inspect and V8 stack output. Secrets, hosts and ids are made up. Each
 * case lists what must survive (frames, line numbers, relative paths, key
 * names, hosts, exception classes) and what must not (every secret value,
 * absolute prefix and home directory), so a rule that over-masks fails as
 * loudly as one that leaks.
 *
 * @module
 */

/** One table-driven sanitizer case. */
export interface TracebackCase {
  /** Short unique name, used as the test title. */
  name: string
  /** Raw traceback as a service would report it. */
  input: string
  /** Substrings that must appear in the sanitized output. */
  mustContain: string[]
  /** Substrings that must not appear in the sanitized output. */
  mustNotContain: string[]
  /** Passed through as `SanitizeOptions.projectRoots`. */
  projectRoots?: string[]
}

const FERNET_A = 'gAAAAABmM0ZbX0cQ1e6x2Lq9Pz8TfW3kR5vY7uN1oH4jD6sA2cE8gI0bK3mO5qS7tV9wX1yZ3aB5dF7hJ9lN1pR3tV5xZ7'
const FERNET_B = 'gAAAAABmNTIx5rX8vQ3kYp0aLmZ9wH1cUe2sTf4gVh6jKl7oPq8nRi9sDt0uEv1wFx2yGz3A'
const FERNET_C = 'gAAAAABmNTJaZm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXhxdXV4cXV1eHF1dXgxMjM0NTY3ODkw'
const JWT_A =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJub3ZhLWNvbXB1dGUiLCJleHAiOjE3MTQ2NDgwMDB9.c2lnbmF0dXJlLWJ5dGVz'
const JWT_B =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'

/** The fixture table: Python (Nova and friends) first, then Node. */
export const TRACEBACK_CASES: readonly TracebackCase[] = [
  {
    name: 'nova libvirt spawn failure through eventlet tpool',
    input: `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 2615, in _build_resources
    yield resources
  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 2383, in _build_and_run_instance
    self.driver.spawn(context, instance, image_meta,
  File "/usr/lib/python3/dist-packages/nova/virt/libvirt/driver.py", line 4312, in spawn
    self._create_guest_with_network(
  File "/usr/lib/python3/dist-packages/nova/virt/libvirt/guest.py", line 165, in launch
    return self._domain.createWithFlags(flags)
  File "/usr/lib/python3/dist-packages/eventlet/tpool.py", line 193, in doit
    result = proxy_call(self._autowrap, f, *args, **kwargs)
  File "/usr/lib/python3/dist-packages/eventlet/tpool.py", line 132, in execute
    six.reraise(c, e, tb)
  File "/usr/lib/python3/dist-packages/libvirt.py", line 1409, in createWithFlags
    raise libvirtError('virDomainCreateWithFlags() failed')
libvirt.libvirtError: internal error: qemu unexpectedly closed the monitor: 2024-05-02T10:11:12.123456Z qemu-system-x86_64: -drive file=/var/lib/nova/instances/5f0c2f8e-8a1e-4c39-9b7b-6a3c8d1e2f40/disk,format=qcow2,if=none,id=drive-virtio-disk0: Could not open '/var/lib/nova/instances/5f0c2f8e-8a1e-4c39-9b7b-6a3c8d1e2f40/disk': Permission denied
`,
    mustContain: [
      'Traceback (most recent call last):',
      'File "nova/compute/manager.py", line 2615, in _build_resources',
      'File "nova/compute/manager.py", line 2383, in _build_and_run_instance',
      'File "nova/virt/libvirt/driver.py", line 4312, in spawn',
      'File "nova/virt/libvirt/guest.py", line 165, in launch',
      'File "eventlet/tpool.py", line 193, in doit',
      'File "libvirt.py", line 1409, in createWithFlags',
      "raise libvirtError('virDomainCreateWithFlags() failed')",
      'libvirt.libvirtError: internal error: qemu unexpectedly closed the monitor',
      'file=var/lib/nova/instances/5f0c2f8e-8a1e-4c39-9b7b-6a3c8d1e2f40/disk,format=qcow2',
      "Could not open 'var/lib/nova/instances/5f0c2f8e-8a1e-4c39-9b7b-6a3c8d1e2f40/disk': Permission denied",
    ],
    mustNotContain: ['/usr/lib/python3', 'dist-packages', '=/var/lib', "'/var/lib"],
  },
  {
    name: 'oslo.db DBConnectionError with a mysql+pymysql URL, chained, in a venv',
    input: `Traceback (most recent call last):
  File "/opt/stack/venv/lib/python3.11/site-packages/sqlalchemy/engine/base.py", line 145, in __init__
    self._dbapi_connection = engine.raw_connection()
  File "/opt/stack/venv/lib/python3.11/site-packages/pymysql/connections.py", line 649, in connect
    sock = socket.create_connection(
  File "/usr/lib/python3.11/socket.py", line 851, in create_connection
    raise exceptions[0]
ConnectionRefusedError: [Errno 111] Connection refused

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/opt/stack/venv/lib/python3.11/site-packages/oslo_db/sqlalchemy/engines.py", line 187, in _setup_logging
    engine = sqlalchemy.create_engine(url, **engine_args)
  File "/opt/stack/venv/lib/python3.11/site-packages/oslo_db/sqlalchemy/exc_filters.py", line 449, in _raise_for_remaining_DBAPIError
    raise exception.DBConnectionError(error)
oslo_db.exception.DBConnectionError: (pymysql.err.OperationalError) (2003, "Can't connect to MySQL server on 'db.internal' ([Errno 111] Connection refused)")
(Background on this error at: https://sqlalche.me/e/20/e3q8)
ERROR nova.db.main.api [-] Failed to connect to mysql+pymysql://nova:Sup3rS3cret!@db.internal:3306/nova?charset=utf8
`,
    mustContain: [
      'File "sqlalchemy/engine/base.py", line 145, in __init__',
      'File "pymysql/connections.py", line 649, in connect',
      'File "socket.py", line 851, in create_connection',
      'ConnectionRefusedError: [Errno 111] Connection refused',
      'During handling of the above exception, another exception occurred:',
      'File "oslo_db/sqlalchemy/exc_filters.py", line 449, in _raise_for_remaining_DBAPIError',
      'oslo_db.exception.DBConnectionError: (pymysql.err.OperationalError) (2003,',
      "Can't connect to MySQL server on 'db.internal'",
      '(Background on this error at: https://sqlalche.me/e/20/e3q8)',
      'mysql+pymysql://nova:***@db.internal:3306/nova?charset=utf8',
    ],
    mustNotContain: ['Sup3rS3cret', '/opt/stack', 'site-packages', '/usr/lib'],
  },
  {
    name: 'oslo.db access denied keeps MySQL "using password: YES"',
    input: `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/pymysql/connections.py", line 1049, in _request_authentication
    auth_packet = self._read_packet()
  File "/usr/lib/python3/dist-packages/pymysql/err.py", line 143, in raise_mysql_exception
    raise errorclass(errno, errval)
pymysql.err.OperationalError: (1045, "Access denied for user 'nova'@'10.0.0.5' (using password: YES)")
`,
    mustContain: [
      'File "pymysql/connections.py", line 1049, in _request_authentication',
      'File "pymysql/err.py", line 143, in raise_mysql_exception',
      `pymysql.err.OperationalError: (1045, "Access denied for user 'nova'@'10.0.0.5' (using password: YES)")`,
    ],
    mustNotContain: ['dist-packages'],
  },
  {
    name: 'keystoneauth debug REQ line with a raw X-Auth-Token and X-Service-Token',
    input: `2024-05-02 10:11:12.345 1234 DEBUG keystoneauth.session [req-3b1c7e9a-0d2f-4e5a-9b8c-7d6e5f4a3b2c - - - - -] REQ: curl -g -i -X GET http://controller:9696/v2.0/ports?device_id=5f0c2f8e-8a1e-4c39-9b7b-6a3c8d1e2f40 -H "Accept: application/json" -H "User-Agent: nova keystoneauth1/5.1.2 python-requests/2.31.0 CPython/3.11.4" -H "X-Auth-Token: ${FERNET_A}" -H "X-Service-Token: ${FERNET_B}" _http_log_request /usr/lib/python3/dist-packages/keystoneauth1/session.py:519
2024-05-02 10:11:12.401 1234 ERROR nova.network.neutron Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/keystoneauth1/session.py", line 986, in request
    raise exceptions.from_response(resp, method, url)
keystoneauth1.exceptions.http.Unauthorized: The request you have made requires authentication. (HTTP 401) (Request-ID: req-0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d)
`,
    mustContain: [
      '-H "X-Auth-Token: ***"',
      '-H "X-Service-Token: ***"',
      '-H "Accept: application/json"',
      '-H "User-Agent: nova keystoneauth1/5.1.2 python-requests/2.31.0 CPython/3.11.4"',
      'http://controller:9696/v2.0/ports?device_id=5f0c2f8e-8a1e-4c39-9b7b-6a3c8d1e2f40',
      '_http_log_request keystoneauth1/session.py:519',
      'File "keystoneauth1/session.py", line 986, in request',
      'keystoneauth1.exceptions.http.Unauthorized: The request you have made requires authentication. (HTTP 401)',
      '(Request-ID: req-0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d)',
    ],
    mustNotContain: [FERNET_A, FERNET_B, 'gAAAAAB', '/usr/lib'],
  },
  {
    name: 'requests HTTPError with an Authorization header dict and access_token in the URL',
    input: `DEBUG nova.image.download [-] Request headers: {'User-Agent': 'python-requests/2.31.0', 'Accept-Encoding': 'gzip, deflate', 'Accept': '*/*', 'Connection': 'keep-alive', 'Authorization': 'Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0'}
Traceback (most recent call last):
  File "/home/deploy/.venv/lib/python3.10/site-packages/requests/models.py", line 1021, in raise_for_status
    raise HTTPError(http_error_msg, response=self)
requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://registry.example.com/v2/token?service=registry&scope=repository:nova:pull&access_token=9f8e7d6c5b4a39281706f5e4d3c2b1a0
`,
    mustContain: [
      "'Authorization': '***'",
      "'Accept': '*/*'",
      "'Connection': 'keep-alive'",
      'File "requests/models.py", line 1021, in raise_for_status',
      'requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url:',
      'https://registry.example.com/v2/token?service=registry&scope=repository:nova:pull&access_token=***',
    ],
    mustNotContain: ['9f8e7d6c5b4a39281706f5e4d3c2b1a0', '/home/deploy', 'deploy/', '.venv'],
  },
  {
    name: 'novaclient Unauthorized with client options dict',
    input: `Traceback (most recent call last):
  File "/usr/local/bin/nova-audit-helper", line 8, in <module>
    sys.exit(main())
  File "/usr/local/lib/python3.8/dist-packages/novaclient/client.py", line 72, in request
    resp, body = super(SessionClient, self).request(url, method, **kwargs)
  File "/usr/local/lib/python3.8/dist-packages/keystoneauth1/session.py", line 986, in request
    raise exceptions.from_response(resp, method, url)
novaclient.exceptions.Unauthorized: The request you have made requires authentication. (HTTP 401) (Request-ID: req-a1b2c3d4-e5f6-7890-abcd-ef1234567890)
Client options: {'auth_url': 'http://keystone.example.org:5000/v3', 'username': 'admin', 'password': 'Adm1nPa$$', 'project_name': 'admin', 'user_domain_name': 'Default'}
`,
    mustContain: [
      'File "usr/local/bin/nova-audit-helper", line 8, in <module>',
      'File "novaclient/client.py", line 72, in request',
      'novaclient.exceptions.Unauthorized: The request you have made requires authentication.',
      "'auth_url': 'http://keystone.example.org:5000/v3'",
      "'username': 'admin'",
      "'password': '***'",
      "'user_domain_name': 'Default'",
    ],
    mustNotContain: ['Adm1nPa$$', 'Adm1n', '"/usr/local'],
  },
  {
    name: 'cinderclient attach failure with a hashed token header and a password in the message',
    input: `DEBUG cinderclient.v3.client [req-7c6b5a49-3827-4615-9a0b-1c2d3e4f5a6b] REQ: curl -g -i -X POST http://cinder.internal:8776/v3/6e2a4b8c/volumes/91c3d5e7/action -H "Accept: application/json" -H "OpenStack-API-Version: volume 3.44" -H "X-Auth-Token: {SHA256}4bd1e0c2b8a7f6e5d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918070605" -d '{"os-attach": {"instance_uuid": "5f0c2f8e-8a1e-4c39-9b7b-6a3c8d1e2f40", "mountpoint": "/dev/vdb"}}'
Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/nova/volume/cinder.py", line 397, in wrapper
    res = method(self, ctx, *args, **kwargs)
  File "/usr/lib/python3/dist-packages/cinderclient/client.py", line 214, in request
    raise exceptions.from_response(resp, body)
cinderclient.exceptions.ClientException: Unable to update attachment.(Bad or unexpected response from the storage volume backend API: Driver initialize connection failed (error: Login failed for user svc_cinder, password=Cind3rP4ss).) (HTTP 500) (Request-ID: req-1122aabb-3344-ccdd-5566-eeff77889900)
`,
    mustContain: [
      '-H "X-Auth-Token: {SHA256}***"',
      '-H "OpenStack-API-Version: volume 3.44"',
      'http://cinder.internal:8776/v3/6e2a4b8c/volumes/91c3d5e7/action',
      '"mountpoint": "dev/vdb"',
      'File "nova/volume/cinder.py", line 397, in wrapper',
      'File "cinderclient/client.py", line 214, in request',
      'cinderclient.exceptions.ClientException: Unable to update attachment.',
      'Login failed for user svc_cinder, password=***).',
    ],
    mustNotContain: ['Cind3rP4ss', '4bd1e0c2b8a7', 'dist-packages'],
  },
  {
    name: 'oslo.messaging rabbit transport_url with several hosts and an amqp URL',
    input: `ERROR oslo.messaging._drivers.impl_rabbit [-] Connection failed: [Errno 113] EHOSTUNREACH (retrying in 2.0 seconds): OSError: [Errno 113] EHOSTUNREACH
Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/kombu/connection.py", line 448, in _reraise_as_library_errors
    yield
  File "/usr/lib/python3/dist-packages/amqp/transport.py", line 184, in _connect
    self.sock.connect(sa)
OSError: [Errno 113] EHOSTUNREACH
kombu.exceptions.OperationalError: [Errno 113] EHOSTUNREACH
DEBUG oslo_service.service [-] DEFAULT.transport_url = rabbit://openstack:R4bb1tPw@10.0.0.11:5672,openstack:R4bb1tPw@10.0.0.12:5672/ log_opt_values
DEBUG kombu [-] broker amqp://guest:guest@rabbit.internal:5672//
`,
    mustContain: [
      'File "kombu/connection.py", line 448, in _reraise_as_library_errors',
      'File "amqp/transport.py", line 184, in _connect',
      'kombu.exceptions.OperationalError: [Errno 113] EHOSTUNREACH',
      'DEFAULT.transport_url = rabbit://openstack:***@10.0.0.11:5672,openstack:***@10.0.0.12:5672/',
      'amqp://guest:***@rabbit.internal:5672//',
    ],
    mustNotContain: ['R4bb1tPw', 'guest:guest', 'dist-packages'],
  },
  {
    name: 'glance image download with the token in a header and in the query',
    input: `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/nova/image/glance.py", line 375, in download
    image_chunks = self._client.call(
  File "/usr/lib/python3/dist-packages/glanceclient/common/http.py", line 340, in get
    return self._request('GET', url, **kwargs)
glanceclient.exc.HTTPNotFound: HTTP 404 Not Found: No image found with ID 3c1b2a90-8f7e-4d6c-b5a4-392817060504
DEBUG glanceclient.common.http [-] curl -g -i -X GET -H 'X-Auth-Token: ${FERNET_B}' -H 'Content-Type: application/octet-stream' https://glance.example.com:9292/v2/images/3c1b2a90-8f7e-4d6c-b5a4-392817060504/file?auth_token=${FERNET_B}
`,
    mustContain: [
      'File "nova/image/glance.py", line 375, in download',
      'File "glanceclient/common/http.py", line 340, in get',
      'glanceclient.exc.HTTPNotFound: HTTP 404 Not Found: No image found with ID 3c1b2a90-8f7e-4d6c-b5a4-392817060504',
      "-H 'X-Auth-Token: ***'",
      "-H 'Content-Type: application/octet-stream'",
      'https://glance.example.com:9292/v2/images/3c1b2a90-8f7e-4d6c-b5a4-392817060504/file?auth_token=***',
    ],
    mustNotContain: [FERNET_B, 'gAAAAAB'],
  },
  {
    name: 'neutron port binding failure in a kolla venv',
    input: `ERROR nova.compute.manager [instance: 5f0c2f8e-8a1e-4c39-9b7b-6a3c8d1e2f40] Instance failed to spawn: nova.exception.PortBindingFailed: Binding failed for port 6b1d2c3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e, please check neutron logs for more information.
Traceback (most recent call last):
  File "/var/lib/kolla/venv/lib/python3.10/site-packages/nova/compute/manager.py", line 2739, in _build_resources
    yield resources
  File "/var/lib/kolla/venv/lib/python3.10/site-packages/nova/network/neutron.py", line 1387, in _update_port_binding_for_instance
    raise exception.PortBindingFailed(port_id=port['id'])
nova.exception.PortBindingFailed: Binding failed for port 6b1d2c3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e, please check neutron logs for more information.
DEBUG nova.network.neutron [-] client NeutronClient(endpoint=http://neutron-server:9696, token=5a4d3c2b1a09f8e7d6c5b4a392817065, region=RegionOne)
`,
    mustContain: [
      'File "nova/compute/manager.py", line 2739, in _build_resources',
      'File "nova/network/neutron.py", line 1387, in _update_port_binding_for_instance',
      "raise exception.PortBindingFailed(port_id=port['id'])",
      'nova.exception.PortBindingFailed: Binding failed for port 6b1d2c3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e',
      'NeutronClient(endpoint=http://neutron-server:9696, token=***, region=RegionOne)',
    ],
    mustNotContain: ['5a4d3c2b1a09f8e7d6c5b4a392817065', '/var/lib/kolla', 'site-packages'],
  },
  {
    name: 'SSH key injection with a PEM private key in the message',
    input: `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/nova/virt/disk/api.py", line 512, in _inject_key_into_fs
    _inject_file_into_fs(fs, keyfile, key_data, append=True)
  File "/usr/lib/python3/dist-packages/nova/virt/disk/api.py", line 440, in _inject_file_into_fs
    fs.append_file(path, contents)
nova.exception.NovaException: Error injecting data into image 70a599e0-31e7-49b7-b260-868f441e862b (Failed to write key: -----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2Ngi6A6Jb7SGzqzHIUz6mNbTAMFY
tIyXhP1h2wGn0+JmUZ7vIN0NTdhMk7SM6IAWyvTrzRGmjqyAKOh6h8JQnzb2Tfc6
Proc-Type: 4,ENCRYPTED
-----END RSA PRIVATE KEY-----)
`,
    mustContain: [
      'File "nova/virt/disk/api.py", line 512, in _inject_key_into_fs',
      '_inject_file_into_fs(fs, keyfile, key_data, append=True)',
      'nova.exception.NovaException: Error injecting data into image 70a599e0-31e7-49b7-b260-868f441e862b',
      '(Failed to write key: -----BEGIN RSA PRIVATE KEY-----\n***\n-----END RSA PRIVATE KEY-----)',
    ],
    mustNotContain: ['MIIEpAIBAAKCAQEA', 'tIyXhP1h2wGn0', 'ENCRYPTED'],
  },
  {
    name: 'paramiko error with an OpenSSH key in repr (escaped newlines)',
    input: `Traceback (most recent call last):
  File "/srv/nova/.tox/py311/lib/python3.11/site-packages/paramiko/pkey.py", line 436, in _read_private_key
    raise SSHException("not a valid " + tag + " private key file")
paramiko.ssh_exception.SSHException: not a valid RSA private key file
Locals: key_data='-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\\nQyNTUxOQAAACDz\\n-----END OPENSSH PRIVATE KEY-----\\n', password=None, tag='RSA'
`,
    mustContain: [
      'File "paramiko/pkey.py", line 436, in _read_private_key',
      'paramiko.ssh_exception.SSHException: not a valid RSA private key file',
      "key_data='-----BEGIN OPENSSH PRIVATE KEY-----\\n***\\n-----END OPENSSH PRIVATE KEY-----\\n'",
      'password=None',
      "tag='RSA'",
    ],
    mustNotContain: ['b3BlbnNzaC1rZXktdjE', 'QyNTUxOQAAACDz', '/srv/nova'],
  },
  {
    name: 'truncated PEM block without an END line',
    input: `ERROR nova.virt.libvirt.driver [instance: 5f0c2f8e-8a1e-4c39-9b7b-6a3c8d1e2f40] Failed to inject key, contents follow
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY/PuoAoGCCqGSM49
AwEHoUQDQgAEPR3tU2Fta9ktY+6P9G9mV5yWLwF1U5ht7WFtRqoZl8B`,
    mustContain: ['Failed to inject key, contents follow', '-----BEGIN EC PRIVATE KEY-----\n***'],
    mustNotContain: ['MHcCAQEEIIrYSSNQ', 'AwEHoUQDQgAE', 'PuoAoGCCqGSM49'],
  },
  {
    name: 'boto ClientError with AWS keys, a SigV4 header and a security token',
    input: `Traceback (most recent call last):
  File "/home/ubuntu/backup-agent/venv/lib/python3.9/site-packages/botocore/client.py", line 960, in _make_api_call
    raise error_class(parsed_response, operation_name)
botocore.exceptions.ClientError: An error occurred (SignatureDoesNotMatch) when calling the PutObject operation: The request signature we calculated does not match the signature you provided. Check your key and signing method.
DEBUG botocore.endpoint Sending http request: <AWSPreparedRequest stream_output=False, method=PUT, url=https://backups.s3.eu-west-1.amazonaws.com/nova/snap.qcow2, headers={'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240502/eu-west-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024', 'X-Amz-Date': b'20240502T101112Z', 'X-Amz-Security-Token': b'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ'}>
Credentials: aws_access_key_id = ASIAY34FZKBOKMUTVV7A, aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
`,
    mustContain: [
      'File "botocore/client.py", line 960, in _make_api_call',
      'botocore.exceptions.ClientError: An error occurred (SignatureDoesNotMatch) when calling the PutObject operation',
      'url=https://backups.s3.eu-west-1.amazonaws.com/nova/snap.qcow2',
      "'Authorization': b'***'",
      "'X-Amz-Date': b'20240502T101112Z'",
      "'X-Amz-Security-Token': b'***'",
      'aws_access_key_id = ***',
      'aws_secret_access_key = ***',
    ],
    mustNotContain: [
      'AKIAIOSFODNN7EXAMPLE',
      'ASIAY34FZKBOKMUTVV7A',
      'wJalrXUtnFEMI',
      'fe5f80f77d5fa3beca038a248ff027d0445342fe',
      'IQoJb3JpZ2luX2',
      '/home/ubuntu',
      'ubuntu/',
    ],
  },
  {
    name: 'chained exceptions with a devstack project root',
    projectRoots: ['/opt/stack/nova'],
    input: `Traceback (most recent call last):
  File "/usr/lib/python3.11/concurrent/futures/thread.py", line 58, in run
    result = self.fn(*self.args, **self.kwargs)
  File "/opt/stack/nova/nova/compute/manager.py", line 10421, in _sync_power_states
    db_power_state = db_instance['vm_state']
KeyError: 'vm_state'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/opt/stack/nova/nova/compute/manager.py", line 10430, in _sync
    raise exception.InstanceNotFound(instance_id=uuid) from exc
nova.exception.InstanceNotFound: Instance 5f0c2f8e-8a1e-4c39-9b7b-6a3c8d1e2f40 could not be found.
`,
    mustContain: [
      'File "concurrent/futures/thread.py", line 58, in run',
      'File "nova/compute/manager.py", line 10421, in _sync_power_states',
      "KeyError: 'vm_state'",
      'The above exception was the direct cause of the following exception:',
      'File "nova/compute/manager.py", line 10430, in _sync',
      'nova.exception.InstanceNotFound: Instance 5f0c2f8e-8a1e-4c39-9b7b-6a3c8d1e2f40 could not be found.',
    ],
    mustNotContain: ['/opt/stack', 'opt/stack', '/usr/lib'],
  },
  {
    name: 'eventlet greenthread and looping call frames',
    input: `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/eventlet/hubs/hub.py", line 476, in fire_timers
    timer()
  File "/usr/lib/python3/dist-packages/eventlet/hubs/timer.py", line 59, in __call__
    cb(*args, **kw)
  File "/usr/lib/python3/dist-packages/eventlet/greenthread.py", line 221, in main
    result = function(*args, **kwargs)
  File "/usr/lib/python3/dist-packages/oslo_service/loopingcall.py", line 150, in _run_loop
    result = func(*self.args, **self.kw)
  File "/usr/lib/python3/dist-packages/nova/servicegroup/drivers/db.py", line 92, in _report_state
    service.service_ref.save()
oslo_messaging.exceptions.MessagingTimeout: Timed out waiting for a reply to message ID 8c5e2f0b0d6a4c1e9f3b7a2d1c0e9f8a
`,
    mustContain: [
      'File "eventlet/hubs/hub.py", line 476, in fire_timers',
      'File "eventlet/hubs/timer.py", line 59, in __call__',
      'File "eventlet/greenthread.py", line 221, in main',
      'File "oslo_service/loopingcall.py", line 150, in _run_loop',
      'File "nova/servicegroup/drivers/db.py", line 92, in _report_state',
      'oslo_messaging.exceptions.MessagingTimeout: Timed out waiting for a reply to message ID 8c5e2f0b0d6a4c1e9f3b7a2d1c0e9f8a',
    ],
    mustNotContain: ['/usr/lib', 'dist-packages'],
  },
  {
    name: 'python 3.11 standard-library frames with caret lines',
    input: `Traceback (most recent call last):
  File "/usr/lib/python3.11/runpy.py", line 198, in _run_module_as_main
    return _run_code(code, main_globals, None,
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/local/lib/python3.11/json/decoder.py", line 355, in raw_decode
    raise JSONDecodeError("Expecting value", s, err.value) from None
json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)
`,
    mustContain: [
      'File "runpy.py", line 198, in _run_module_as_main',
      '           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
      'File "json/decoder.py", line 355, in raw_decode',
      'json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)',
    ],
    mustNotContain: ['/usr/lib', 'usr/local', 'python3.11/'],
  },
  {
    name: 'oslo.config option dump with secret options not flagged secret',
    input: `DEBUG oslo_service.service [-] keystone_authtoken.password     = Keyst0nePw! log_opt_values /usr/lib/python3/dist-packages/oslo_config/cfg.py:2609
DEBUG oslo_service.service [-] placement.password = Pl4cement log_opt_values /usr/lib/python3/dist-packages/oslo_config/cfg.py:2609
DEBUG oslo_service.service [-] neutron.metadata_proxy_shared_secret = M3taSecret log_opt_values /usr/lib/python3/dist-packages/oslo_config/cfg.py:2609
DEBUG oslo_service.service [-] vnc.novncproxy_base_url = http://203.0.113.10:6080/vnc_auto.html log_opt_values /usr/lib/python3/dist-packages/oslo_config/cfg.py:2609
DEBUG oslo_service.service [-] DEFAULT.state_path = /var/lib/nova log_opt_values /usr/lib/python3/dist-packages/oslo_config/cfg.py:2609
`,
    mustContain: [
      'keystone_authtoken.password     = *** log_opt_values oslo_config/cfg.py:2609',
      'placement.password = *** log_opt_values',
      'neutron.metadata_proxy_shared_secret = *** log_opt_values',
      'vnc.novncproxy_base_url = http://203.0.113.10:6080/vnc_auto.html',
      'DEFAULT.state_path = var/lib/nova log_opt_values',
    ],
    mustNotContain: ['Keyst0nePw', 'Pl4cement', 'M3taSecret', '/usr/lib', ' /var/lib'],
  },
  {
    name: 'developer home directory, user site-packages and an api_key in a config dict',
    input: `Traceback (most recent call last):
  File "/home/alice/projects/actiontrail-agent/agent.py", line 88, in <module>
    main()
  File "/home/alice/projects/actiontrail-agent/agent.py", line 71, in main
    client = Client(api_key=os.environ["API_KEY"], secret=cfg["secret"])
  File "/home/alice/.local/lib/python3.12/site-packages/httpx/_client.py", line 1041, in send
    raise exc
httpx.ConnectError: [Errno -2] Name or service not known
Config loaded from /home/alice/.config/agent/config.yaml: {'endpoint': 'https://audit.example.net', 'api_key': 'ak_live_51Hx9QkL2mN3pR4sT5u', 'timeout': 30}
`,
    mustContain: [
      'File "projects/actiontrail-agent/agent.py", line 88, in <module>',
      'File "projects/actiontrail-agent/agent.py", line 71, in main',
      'File "httpx/_client.py", line 1041, in send',
      'httpx.ConnectError: [Errno -2] Name or service not known',
      'Config loaded from .config/agent/config.yaml:',
      "'endpoint': 'https://audit.example.net'",
      "'api_key': '***'",
      "'timeout': 30",
    ],
    mustNotContain: ['alice', 'ak_live_51Hx9QkL2mN3pR4sT5u', '/home/'],
  },
  {
    name: 'python on Windows: site-packages, src marker, stdlib and a home directory',
    input: `Traceback (most recent call last):
  File "C:\\Users\\bob.smith\\work\\nova-cli\\src\\nova_cli\\main.py", line 27, in run
    conn = openstack.connect(cloud="prod")
  File "C:\\Users\\bob.smith\\AppData\\Local\\Programs\\Python\\Python311\\Lib\\site-packages\\openstack\\connection.py", line 412, in __init__
    self.config = cloud_region.from_session(session)
  File "C:\\Program Files\\Python311\\Lib\\asyncio\\base_events.py", line 653, in run_until_complete
    return future.result()
openstack.exceptions.ConfigException: Cloud prod was not found. Check C:\\Users\\bob.smith\\.config\\openstack\\clouds.yaml
`,
    mustContain: [
      'File "src\\nova_cli\\main.py", line 27, in run',
      'File "openstack\\connection.py", line 412, in __init__',
      'File "Lib\\asyncio\\base_events.py", line 653, in run_until_complete',
      'openstack.exceptions.ConfigException: Cloud prod was not found. Check .config\\openstack\\clouds.yaml',
    ],
    mustNotContain: ['bob.smith', 'C:\\', 'Program Files', 'AppData'],
  },
  {
    name: 'keystonemiddleware InvalidToken with X-Subject-Token and Proxy-Authorization',
    input: `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/keystonemiddleware/auth_token/__init__.py", line 742, in _do_fetch_token
    data = self.fetch_token(token, **kwargs)
  File "/usr/lib/python3/dist-packages/keystonemiddleware/auth_token/__init__.py", line 770, in fetch_token
    raise ksm_exceptions.InvalidToken(msg)
keystonemiddleware.auth_token._exceptions.InvalidToken: Token authorization failed
Response headers: X-Subject-Token: ${FERNET_C}
Request headers: Proxy-Authorization: Basic YWRtaW46c2VjcmV0
`,
    mustContain: [
      'File "keystonemiddleware/auth_token/__init__.py", line 742, in _do_fetch_token',
      'data = self.fetch_token(token, **kwargs)',
      'raise ksm_exceptions.InvalidToken(msg)',
      'keystonemiddleware.auth_token._exceptions.InvalidToken: Token authorization failed',
      'Response headers: X-Subject-Token: ***',
      'Request headers: Proxy-Authorization: ***',
    ],
    mustNotContain: [FERNET_C, 'gAAAAAB', 'YWRtaW46c2VjcmV0', 'Basic'],
  },
  {
    name: 'nova rebuild request body with adminPass',
    input: `ERROR nova.api.openstack.wsgi [req-5d4c3b2a-1908-4f7e-8d6c-5b4a39281706 admin admin] Unexpected exception in API method: TypeError: 'NoneType' object is not subscriptable
Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/nova/api/openstack/compute/servers.py", line 1123, in _action_rebuild
    password = self._get_server_admin_password(rebuild_dict)
  File "/usr/lib/python3/dist-packages/nova/api/openstack/compute/servers.py", line 1290, in _get_server_admin_password
    password = server['adminPass']
TypeError: 'NoneType' object is not subscriptable
Request body: {"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "adminPass": "R3build!Pass", "name": "web-01", "metadata": {"owner": "team-a"}}}
`,
    mustContain: [
      'File "nova/api/openstack/compute/servers.py", line 1123, in _action_rebuild',
      'File "nova/api/openstack/compute/servers.py", line 1290, in _get_server_admin_password',
      "TypeError: 'NoneType' object is not subscriptable",
      '"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b"',
      '"adminPass": "***"',
      '"name": "web-01"',
      '"metadata": {"owner": "team-a"}',
    ],
    mustNotContain: ['R3build!Pass', 'R3build'],
  },
  {
    name: 'ceph rados permission error with a client secret',
    input: `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/nova/virt/libvirt/storage/rbd_utils.py", line 147, in __init__
    self.client, self.ioctx = self._connect_to_rados(pool)
  File "rados.pyx", line 1141, in rados.Rados.connect
rados.PermissionDeniedError: [errno 13] RADOS permission denied (error connecting to the cluster)
conf: {'mon_host': '10.0.0.21,10.0.0.22', 'keyring': '/etc/ceph/ceph.client.nova.keyring', 'client_secret': 'c1ientS3cr3t', 'rados_connect_timeout': 5}
`,
    mustContain: [
      'File "nova/virt/libvirt/storage/rbd_utils.py", line 147, in __init__',
      'File "rados.pyx", line 1141, in rados.Rados.connect',
      'rados.PermissionDeniedError: [errno 13] RADOS permission denied (error connecting to the cluster)',
      "'mon_host': '10.0.0.21,10.0.0.22'",
      "'keyring': 'etc/ceph/ceph.client.nova.keyring'",
      "'client_secret': '***'",
      "'rados_connect_timeout': 5",
    ],
    mustNotContain: ['c1ientS3cr3t', "'/etc/ceph"],
  },
  {
    name: 'flask app under a project root with its venv inside the project',
    projectRoots: ['/home/app/svc/'],
    input: `Traceback (most recent call last):
  File "/home/app/svc/.venv/lib/python3.12/site-packages/flask/app.py", line 1473, in wsgi_app
    response = self.full_dispatch_request()
  File "/home/app/svc/actiontrail_ui/views.py", line 45, in show
    raise RuntimeError(f"session_id={request.cookies.get('session')} rejected")
RuntimeError: session_id=8f14e45fceea167a5a36dedd4bea2543 rejected
`,
    mustContain: [
      'File "flask/app.py", line 1473, in wsgi_app',
      'File "actiontrail_ui/views.py", line 45, in show',
      'RuntimeError: session_id=*** rejected',
    ],
    mustNotContain: ['8f14e45fceea167a5a36dedd4bea2543', '/home/app', '.venv', 'svc/'],
  },
  {
    name: 'fernet token in prose, no label',
    input: `WARNING keystonemiddleware.auth_token [-] Authorization failed for token ${FERNET_C}
Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/keystonemiddleware/auth_token/__init__.py", line 387, in process_request
    resp = super(AuthProtocol, self).process_request(request)
keystonemiddleware.auth_token._exceptions.InvalidToken: Token authorization failed
`,
    mustContain: [
      'Authorization failed for token ***',
      'File "keystonemiddleware/auth_token/__init__.py", line 387, in process_request',
      'keystonemiddleware.auth_token._exceptions.InvalidToken: Token authorization failed',
    ],
    mustNotContain: [FERNET_C, 'gAAAAAB'],
  },
  {
    name: 'live migration over qemu+ssh with a key file under /root',
    input: `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/nova/virt/libvirt/driver.py", line 10234, in _live_migration_operation
    guest.migrate(self._live_migration_uri(dest),
  File "/usr/lib/python3/dist-packages/libvirt.py", line 2119, in migrateToURI3
    raise libvirtError('virDomainMigrateToURI3() failed')
libvirt.libvirtError: operation failed: Failed to connect to remote libvirt URI qemu+ssh://root@compute-02.example.com/system?keyfile=/root/.ssh/id_rsa&no_verify=1: Cannot recv data: Host key verification failed.: Connection reset by peer
`,
    mustContain: [
      'File "nova/virt/libvirt/driver.py", line 10234, in _live_migration_operation',
      'File "libvirt.py", line 2119, in migrateToURI3',
      'libvirt.libvirtError: operation failed: Failed to connect to remote libvirt URI',
      'qemu+ssh://root@compute-02.example.com/system?keyfile=.ssh/id_rsa&no_verify=1',
      'Host key verification failed.: Connection reset by peer',
    ],
    mustNotContain: ['/root/', '=/root'],
  },
  {
    name: 'keystone token and auth bodies: dicts judged key by key',
    input: `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/keystoneauth1/identity/v3/base.py", line 193, in get_auth_ref
    raise exceptions.AuthorizationFailure(msg)
keystoneauth1.exceptions.auth.AuthorizationFailure: Authentication cannot be scoped to multiple targets.
Token body: {"token": {"methods": ["password"], "user": {"id": "423f19a4ac1e4f48bbb4180756e6eb6c", "name": "nova", "password_expires_at": null}, "expires_at": "2024-05-02T11:11:12.000000Z"}}
Auth payload: {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "nova", "domain": {"name": "Default"}, "password": "N0vaServicePw"}}}}}
`,
    mustContain: [
      'File "keystoneauth1/identity/v3/base.py", line 193, in get_auth_ref',
      'keystoneauth1.exceptions.auth.AuthorizationFailure: Authentication cannot be scoped to multiple targets.',
      '"methods": ["password"]',
      '"id": "423f19a4ac1e4f48bbb4180756e6eb6c"',
      '"password_expires_at": null',
      '"expires_at": "2024-05-02T11:11:12.000000Z"',
      '"domain": {"name": "Default"}',
      '"password": "***"',
    ],
    mustNotContain: ['N0vaServicePw'],
  },
  {
    name: 'environment dump with secrets under various key styles',
    input: `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/nova/cmd/manage.py", line 3291, in main
    ret = fn(*fn_args, **fn_kwargs)
nova.exception.InvalidInput: Invalid input received: environment rejected
environ({'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin', 'HOME': '/root', 'OS_AUTH_TOKEN': 'c0ffee1234', 'DB_PASSWORD': 'dbpw-77', 'PGPASSWORD': 'pgpw-88', 'GITHUB_TOKEN': 'gh-tok-99', 'SECRET_KEY_BASE': 'skb-1010', 'PWD': '/opt/app', 'LANG': 'C.UTF-8'})
`,
    mustContain: [
      'File "nova/cmd/manage.py", line 3291, in main',
      'nova.exception.InvalidInput: Invalid input received: environment rejected',
      "'PATH': 'usr/local/sbin:usr/local/bin:usr/sbin:usr/bin'",
      "'HOME': '~'",
      "'OS_AUTH_TOKEN': '***'",
      "'DB_PASSWORD': '***'",
      "'PGPASSWORD': '***'",
      "'GITHUB_TOKEN': '***'",
      "'SECRET_KEY_BASE': '***'",
      "'PWD': '***'",
      "'LANG': 'C.UTF-8'",
    ],
    mustNotContain: ['c0ffee1234', 'dbpw-77', 'pgpw-88', 'gh-tok-99', 'skb-1010', "'/root'"],
  },
  {
    name: 'ordinary words that merely contain secret-ish names stay untouched (python)',
    input: `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/nova/compute/utils.py", line 88, in token_expired
    if password_length < 12 and not passed_policy:
  File "/usr/lib/python3/dist-packages/nova/compute/utils.py", line 92, in get_password_policy
    password_length = 12
nova.exception.PasswordPolicyViolation: passport bypass detected; tokens_used=3, bypass=1, token_type=bearer
`,
    mustContain: [
      'File "nova/compute/utils.py", line 88, in token_expired',
      'if password_length < 12 and not passed_policy:',
      'File "nova/compute/utils.py", line 92, in get_password_policy',
      'password_length = 12',
      'nova.exception.PasswordPolicyViolation: passport bypass detected; tokens_used=3, bypass=1, token_type=bearer',
    ],
    mustNotContain: ['***'],
  },
  {
    name: 'repr of a raw HTTP exchange: Cookie, form password and Set-Cookie',
    input: `DEBUG urllib3.connectionpool [-] https://horizon.example.com:443 "POST /auth/login/ HTTP/1.1" 302 0
send: b'POST /auth/login/ HTTP/1.1\\r\\nHost: horizon.example.com\\r\\nCookie: csrftoken=Zx9yW8; sessionid=abc123sess\\r\\nContent-Type: application/x-www-form-urlencoded\\r\\n\\r\\npassword=H0rizonPw&username=admin&region=default'
reply: 'HTTP/1.1 302 Found\\r\\n'
header: Set-Cookie: sessionid=q1w2e3r4t5y6; expires=Thu, 16 May 2024 10:11:12 GMT; HttpOnly; Path=/; SameSite=Lax
Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/openstack_dashboard/api/keystone.py", line 181, in get_session
    raise exceptions.NotAuthenticated()
horizon.exceptions.NotAuthenticated
`,
    mustContain: [
      'https://horizon.example.com:443',
      'Host: horizon.example.com\\r\\nCookie: ***\\r\\nContent-Type: application/x-www-form-urlencoded',
      'password=***&username=admin&region=default',
      'header: Set-Cookie: ***',
      'File "openstack_dashboard/api/keystone.py", line 181, in get_session',
      'horizon.exceptions.NotAuthenticated',
    ],
    mustNotContain: ['Zx9yW8', 'abc123sess', 'H0rizonPw', 'q1w2e3r4t5y6'],
  },
  {
    name: 'slack and github tokens in a CI notifier failure',
    input: `Traceback (most recent call last):
  File "/builds/infra/notify/venv/lib/python3.10/site-packages/slack_sdk/web/base_client.py", line 218, in api_call
    return self._sync_send(api_url=api_url, req_args=req_args)
slack_sdk.errors.SlackApiError: The request to the Slack API failed. (url: https://slack.com/api/chat.postMessage)
The server responded with: {'ok': False, 'error': 'invalid_auth'} using xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx
git push failed: remote: Invalid username or password. fatal: Authentication failed for 'https://x-access-token:ghs_16C7e42F292c6912E7710c838347Ae178B4a@github.com/org/repo.git/'
fallback credentials ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R were rejected
`,
    mustContain: [
      'File "slack_sdk/web/base_client.py", line 218, in api_call',
      'slack_sdk.errors.SlackApiError: The request to the Slack API failed. (url: https://slack.com/api/chat.postMessage)',
      "{'ok': False, 'error': 'invalid_auth'} using ***",
      "Authentication failed for 'https://x-access-token:***@github.com/org/repo.git/'",
      'fallback credentials *** were rejected',
    ],
    mustNotContain: ['xoxb-', 'ghs_16C7', 'ghp_1a2B', '/builds/'],
  },
  {
    name: 'control characters, NUL, bidi overrides and a zero-width split key (python, CRLF)',
    input:
      'Traceback (most recent call last):\r\n' +
      '  File "/usr/lib/python3/dist-packages/nova/api/openstack/wsgi.py", line 658, in wrapped\r\n' +
      '    return f(*args, **kwargs)\r\n' +
      "webob.exc.HTTPBadRequest: Invalid server name: 'vm\u0000\u202eexe.txt\u202c\u2066' pass\u200bword=evil123\u0007\r\n" +
      'progress 10%\rprogress 100%\u001b[K\r\n',
    mustContain: [
      'Traceback (most recent call last):\n',
      'File "nova/api/openstack/wsgi.py", line 658, in wrapped\n',
      "webob.exc.HTTPBadRequest: Invalid server name: 'vmexe.txt' password=***\n",
      'progress 10%\nprogress 100%\n',
    ],
    mustNotContain: ['\u0000', '\u202e', '\u202c', '\u2066', '\u200b', '\u0007', '\r', '\u001b', '[K', 'evil123'],
  },

  // Node -----------------------------------------------------------------
  {
    name: 'node TypeError in ESM with file:// frames',
    input: `TypeError: Cannot read properties of undefined (reading 'id')
    at serializeEvent (file:///srv/actiontrail/dist/recorder/serialize.js:42:31)
    at Array.map (<anonymous>)
    at recordAction (file:///srv/actiontrail/dist/recorder/record.js:118:22)
    at async Promise.all (index 0)
    at async file:///srv/actiontrail/dist/api/routes/actions.js:57:5
`,
    mustContain: [
      "TypeError: Cannot read properties of undefined (reading 'id')",
      'at serializeEvent (dist/recorder/serialize.js:42:31)',
      'at Array.map (<anonymous>)',
      'at recordAction (dist/recorder/record.js:118:22)',
      'at async Promise.all (index 0)',
      'at async dist/api/routes/actions.js:57:5',
    ],
    mustNotContain: ['file://', '/srv/', 'srv/actiontrail'],
  },
  {
    name: 'node pg ECONNREFUSED with node_modules frames and a connection string',
    input: `Error: connect ECONNREFUSED 127.0.0.1:5432
    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)
    at /home/app/svc/node_modules/pg-pool/index.js:45:11
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)
    at async PgStore.connect (/home/app/svc/src/store/pg.ts:31:5) {
  errno: -111,
  code: 'ECONNREFUSED',
  syscall: 'connect',
  address: '127.0.0.1',
  port: 5432
}
connectionString: 'postgres://actiontrail:pgS3cret@127.0.0.1:5432/actiontrail?sslmode=disable'
`,
    mustContain: [
      'Error: connect ECONNREFUSED 127.0.0.1:5432',
      'at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)',
      'at node_modules/pg-pool/index.js:45:11',
      'at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      'at async PgStore.connect (src/store/pg.ts:31:5) {',
      "code: 'ECONNREFUSED'",
      "address: '127.0.0.1'",
      "connectionString: 'postgres://actiontrail:***@127.0.0.1:5432/actiontrail?sslmode=disable'",
    ],
    mustNotContain: ['pgS3cret', '/home/app', 'app/svc'],
  },
  {
    name: 'node pg password authentication failure with the client config',
    input: `error: password authentication failed for user "nova_ro"
    at Parser.parseErrorMessage (/usr/src/app/node_modules/pg-protocol/dist/parser.js:283:98)
    at Parser.handlePacket (/usr/src/app/node_modules/pg-protocol/dist/parser.js:122:29)
    at Socket.<anonymous> (/usr/src/app/node_modules/pg-protocol/dist/index.js:11:42)
    at async Migrator.run (/usr/src/app/dist/store/migrate.js:19:7) {
  length: 104,
  severity: 'FATAL',
  code: '28P01',
  file: 'auth.c',
  routine: 'auth_failed',
  client: { user: 'nova_ro', password: 'r0-Pa55w0rd', host: 'pg.internal', database: 'nova' }
}
`,
    mustContain: [
      'error: password authentication failed for user "nova_ro"',
      'at Parser.parseErrorMessage (node_modules/pg-protocol/dist/parser.js:283:98)',
      'at Socket.<anonymous> (node_modules/pg-protocol/dist/index.js:11:42)',
      'at async Migrator.run (dist/store/migrate.js:19:7)',
      "code: '28P01'",
      "client: { user: 'nova_ro', password: '***', host: 'pg.internal', database: 'nova' }",
    ],
    mustNotContain: ['r0-Pa55w0rd', '/usr/src/app', 'src/app'],
  },
  {
    name: 'axios error dump with an Authorization header and basic auth',
    input: `AxiosError: Request failed with status code 401
    at settle (/srv/app/node_modules/axios/dist/node/axios.cjs:1966:12)
    at IncomingMessage.handleStreamEnd (/srv/app/node_modules/axios/dist/node/axios.cjs:3065:11)
    at Axios.request (/srv/app/node_modules/axios/dist/node/axios.cjs:3876:41)
    at async NovaClient.listActions (/srv/app/dist/clients/nova.js:88:17) {
  code: 'ERR_BAD_REQUEST',
  config: {
    headers: Object [AxiosHeaders] {
      Accept: 'application/json, text/plain, */*',
      'Content-Type': 'application/json',
      Authorization: 'Bearer ${JWT_A}',
      'X-OpenStack-Request-ID': 'req-1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718',
      'User-Agent': 'axios/1.6.8'
    },
    url: 'https://nova.example.com:8774/v2.1/servers/5f0c2f8e/os-instance-actions',
    method: 'get',
    auth: { username: 'svc-audit', password: 'Aud1tPw' }
  },
  response: { status: 401, statusText: 'Unauthorized' }
}
`,
    mustContain: [
      'AxiosError: Request failed with status code 401',
      'at settle (node_modules/axios/dist/node/axios.cjs:1966:12)',
      'at async NovaClient.listActions (dist/clients/nova.js:88:17) {',
      "Accept: 'application/json, text/plain, */*'",
      "Authorization: '***'",
      "'X-OpenStack-Request-ID': 'req-1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718'",
      "'User-Agent': 'axios/1.6.8'",
      "url: 'https://nova.example.com:8774/v2.1/servers/5f0c2f8e/os-instance-actions'",
      "auth: { username: 'svc-audit', password: '***' }",
      "response: { status: 401, statusText: 'Unauthorized' }",
    ],
    mustNotContain: [JWT_A, 'eyJhbGciOiJSUzI1NiIs', 'Aud1tPw', '/srv/app'],
  },
  {
    name: 'node JsonWebTokenError with the JWT in the message',
    input: `JsonWebTokenError: jwt malformed: received ${JWT_B} from header
    at Object.module.exports [as verify] (/opt/actiontrail/node_modules/jsonwebtoken/verify.js:70:17)
    at verifyToken (/opt/actiontrail/src/auth/jwt.ts:22:10)
    at Object.onRequest (/opt/actiontrail/src/api/plugins/auth.ts:31:5)
`,
    mustContain: [
      'JsonWebTokenError: jwt malformed: received *** from header',
      'at Object.module.exports [as verify] (node_modules/jsonwebtoken/verify.js:70:17)',
      'at verifyToken (src/auth/jwt.ts:22:10)',
      'at Object.onRequest (src/api/plugins/auth.ts:31:5)',
    ],
    mustNotContain: [JWT_B, 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c', 'eyJzdWIiOiIx', '/opt/actiontrail'],
  },
  {
    name: 'node TokenExpiredError: ordinary names stay, frames relativized',
    input: `TokenExpiredError: jwt expired
    at /srv/app/node_modules/jsonwebtoken/verify.js:190:21
    at getSecret (/srv/app/node_modules/jsonwebtoken/verify.js:97:14)
    at module.exports [as verify] (/srv/app/node_modules/jsonwebtoken/verify.js:101:10)
    at checkToken (/srv/app/src/auth/token.ts:12:3) {
  expiredAt: 2024-05-02T10:00:00.000Z
}
`,
    mustContain: [
      'TokenExpiredError: jwt expired',
      'at node_modules/jsonwebtoken/verify.js:190:21',
      'at getSecret (node_modules/jsonwebtoken/verify.js:97:14)',
      'at checkToken (src/auth/token.ts:12:3) {',
      'expiredAt: 2024-05-02T10:00:00.000Z',
    ],
    mustNotContain: ['***', '/srv/app'],
  },
  {
    name: 'node fetch failure with a token in the URL query and an undici frame',
    input: `TypeError: fetch failed
    at node:internal/deps/undici/undici:12618:11
    at async pollActions (/home/runner/work/actiontrail/actiontrail/src/poller.ts:40:19) {
  [cause]: Error: getaddrinfo ENOTFOUND api.internal
      at GetAddrInfoReqWrap.onlookup [as oncomplete] (node:dns:107:26) {
    errno: -3008,
    code: 'ENOTFOUND',
    syscall: 'getaddrinfo',
    hostname: 'api.internal'
  }
}
request url: https://api.internal/v1/events?token=abc123def456&x=1&api_key=k-998877
`,
    mustContain: [
      'TypeError: fetch failed',
      'at node:internal/deps/undici/undici:12618:11',
      'at async pollActions (src/poller.ts:40:19) {',
      '[cause]: Error: getaddrinfo ENOTFOUND api.internal',
      '(node:dns:107:26)',
      "hostname: 'api.internal'",
      'https://api.internal/v1/events?token=***&x=1&api_key=***',
    ],
    mustNotContain: ['abc123def456', 'k-998877', '/home/runner', 'runner/'],
  },
  {
    name: 'node on Windows with a spaced user folder and a file:///C:/ URL',
    input: `Error: ENOENT: no such file or directory, open 'C:\\Users\\Bob Smith\\actiontrail\\data\\events.db'
    at Object.openSync (node:fs:573:18)
    at Database.open (C:\\Users\\Bob Smith\\actiontrail\\node_modules\\better-sqlite3\\lib\\database.js:65:11)
    at openStore (C:\\Users\\Bob Smith\\actiontrail\\src\\store\\sqlite\\open.ts:14:10)
    at file:///C:/Users/Bob%20Smith/actiontrail/src/cli/main.ts:9:1 {
  errno: -4058,
  code: 'ENOENT',
  syscall: 'open',
  path: 'C:\\Users\\Bob Smith\\actiontrail\\data\\events.db'
}
`,
    mustContain: [
      "Error: ENOENT: no such file or directory, open 'actiontrail\\data\\events.db'",
      'at Object.openSync (node:fs:573:18)',
      'at Database.open (node_modules\\better-sqlite3\\lib\\database.js:65:11)',
      'at openStore (src\\store\\sqlite\\open.ts:14:10)',
      'at src/cli/main.ts:9:1 {',
      "path: 'actiontrail\\data\\events.db'",
    ],
    mustNotContain: ['Bob', 'Smith', 'C:\\', 'C:/', 'file://'],
  },
  {
    name: 'node ANSI-coloured output with an OSC hyperlink',
    input:
      '\u001b[31mError\u001b[39m: \u001b[1mpassword\u001b[22m=hunter2 rejected by \u001b[36mkeystone\u001b[39m\n' +
      '    \u001b[90mat authenticate (/home/ci/build/src/auth/keystone.ts:51:9)\u001b[39m\n' +
      '    \u001b[90mat process.processTicksAndRejections (node:internal/process/task_queues:95:5)\u001b[39m\n' +
      'see \u001b]8;;https://docs.example.com/errors/E401\u0007the docs\u001b]8;;\u0007\n',
    mustContain: [
      'Error: password=*** rejected by keystone\n',
      '    at authenticate (src/auth/keystone.ts:51:9)\n',
      '(node:internal/process/task_queues:95:5)',
      'see the docs\n',
    ],
    mustNotContain: ['\u001b', '[31m', '[39m', '[90m', 'hunter2', '/home/ci', 'docs.example.com'],
  },
  {
    name: 'child_process failure with CLI password flag and an env dict',
    input: `Error: Command failed: openstack --os-auth-url https://keystone.example.com:5000/v3 --os-username admin --os-password 'Cl1Pa55' --os-project-name admin server list
    at ChildProcess.exithandler (node:child_process:422:12)
    at ChildProcess.emit (node:events:517:28)
    at maybeClose (node:internal/child_process:1098:16) {
  code: 1,
  killed: false,
  signal: null,
  cmd: "openstack --os-auth-url https://keystone.example.com:5000/v3 --os-username admin --os-token Tok3nV4lue --os-project-name admin server list",
  env: { OS_PASSWORD: 'Cl1Pa55', OS_USERNAME: 'admin', HOME: '/home/deployer' }
}
`,
    mustContain: [
      '--os-auth-url https://keystone.example.com:5000/v3 --os-username admin',
      "--os-password '***' --os-project-name admin server list",
      '--os-token *** --os-project-name admin',
      'at ChildProcess.exithandler (node:child_process:422:12)',
      'signal: null',
      "OS_PASSWORD: '***'",
      "OS_USERNAME: 'admin'",
      "HOME: '~'",
    ],
    mustNotContain: ['Cl1Pa55', 'Tok3nV4lue', 'deployer'],
  },
  {
    name: 'pino JSON log line with request headers and a stack string',
    input: `{"level":50,"time":1714648000000,"pid":4242,"hostname":"api-7d9f","reqId":"req-1","req":{"method":"POST","url":"/v1/instances/5f0c/actions?access_token=tok_9a8b7c6d5e","headers":{"host":"actiontrail.local:8080","authorization":"Bearer 4f9c2e1a7b3d","cookie":"sid=s%3Aabc.def; theme=dark","x-api-key":"kq-11-22-33"}},"err":{"type":"Error","message":"db locked","stack":"Error: db locked\\n    at Store.insert (/app/dist/store/sqlite.js:88:11)\\n    at /app/node_modules/fastify/lib/handleRequest.js:43:5"}}
`,
    mustContain: [
      '"hostname":"api-7d9f"',
      'access_token=***"',
      '"host":"actiontrail.local:8080"',
      '"authorization":"***"',
      '"cookie":"***"',
      '"x-api-key":"***"',
      '"message":"db locked"',
      '(dist/store/sqlite.js:88:11)',
      'at node_modules/fastify/lib/handleRequest.js:43:5"',
    ],
    mustNotContain: ['tok_9a8b7c6d5e', '4f9c2e1a7b3d', 's%3Aabc.def', 'kq-11-22-33', '/app/'],
  },
  {
    name: 'node set-cookie array from util.inspect spanning lines',
    input: `Error: login redirect loop
    at followRedirect (/srv/portal/dist/http/redirect.js:14:11) {
  headers: {
    location: '/login',
    'set-cookie': [
      'session=7d3f9a1b2c4e; Path=/; HttpOnly',
      'refresh=99aa88bb77cc; Path=/auth; HttpOnly'
    ],
    'content-length': '0'
  }
}
`,
    mustContain: [
      'at followRedirect (dist/http/redirect.js:14:11) {',
      "location: 'login'",
      "'set-cookie': [\n      '***',\n      '***'\n    ],",
      "'content-length': '0'",
    ],
    mustNotContain: ['7d3f9a1b2c4e', '99aa88bb77cc', '/srv/portal'],
  },
  {
    name: 'python redis and https URLs with credentials, user only and empty user',
    input: `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/redis/connection.py", line 707, in connect
    raise ConnectionError(self._error_message(e))
redis.exceptions.ConnectionError: Error 111 connecting to redis://:r3d1sPw@cache.internal:6379/0. Connection refused.
also tried https://mirror:m1rr0rTok@pypi.example.com/simple/ and ssh://git@git.example.com/nova.git
`,
    mustContain: [
      'File "redis/connection.py", line 707, in connect',
      'redis.exceptions.ConnectionError: Error 111 connecting to redis://:***@cache.internal:6379/0. Connection refused.',
      'https://mirror:***@pypi.example.com/simple/',
      'ssh://git@git.example.com/nova.git',
    ],
    mustNotContain: ['r3d1sPw', 'm1rr0rTok'],
  },
]
