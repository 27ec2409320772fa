"""moto's server, in-process, with a small control endpoint for test fixtures.

Usage: python3 scripts/moto-server.py PORT CONTROL_PORT

It serves the AWS APIs on 127.0.0.1:PORT as `moto_server` does, with two gaps of moto 5.2.1
bridged (only here, in the fixture; the production code uses what AWS documents):
  - AdminGetUser (and the other Admin* calls) take a local user's sub as Username, as real Cognito
    does (API reference, AdminGetUser: "this value must be the sub of a local user or the username
    of a user from a third-party IdP"); moto only looks up usernames and aliases.
  - A test can make Cognito throttle (TooManyRequestsException), which moto never does.
On 127.0.0.1:CONTROL_PORT it takes POSTed JSON commands for the state that no AWS API can create:
  {"op": "set-user-status", "userPoolId": "...", "username": "...", "status": "EXTERNAL_PROVIDER"}
    (Cognito gives EXTERNAL_PROVIDER only to users made by a federated sign-in, which moto does not
    emulate);
  {"op": "throttle", "operation": "AdminGetUser" | "ListUsers" | "DescribeUserPool", "count": N}
    (the next N calls of the operation answer TooManyRequestsException).
It answers 204, or 400 with the error.
"""

import json
import re
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool, cognitoidp_backends, flatten_attrs
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import JsonRESTError
from moto.server import ThreadedMotoServer

THROTTLES = {}
THROTTLE_LOCK = threading.Lock()


class TooManyRequests(JsonRESTError):
    def __init__(self):
        super().__init__("TooManyRequestsException", "Rate exceeded")


def throttled(operation, method):
    def call(self, *args, **kwargs):
        with THROTTLE_LOCK:
            if THROTTLES.get(operation, 0) > 0:
                THROTTLES[operation] -= 1
                raise TooManyRequests()
        return method(self, *args, **kwargs)

    return call


CognitoIdpBackend.admin_get_user = throttled("AdminGetUser", CognitoIdpBackend.admin_get_user)
CognitoIdpBackend.list_users = throttled("ListUsers", CognitoIdpBackend.list_users)
# The other calls of the backend look their pool up with describe_user_pool: DescribeUserPool is
# throttled where the API call is answered, not there.
CognitoIdpResponse.describe_user_pool = throttled("DescribeUserPool", CognitoIdpResponse.describe_user_pool)

_get_user_by_name = CognitoIdpUserPool._get_user


SUB = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _get_user_by_name_or_sub(self, username):
    user = _get_user_by_name(self, username)
    if user or not isinstance(username, str) or not SUB.match(username):
        return user
    # A copy: other threads add users while this one looks (moto serves requests concurrently).
    for candidate in list(self.users.values()):
        if flatten_attrs(candidate.attributes).get("sub") == username:
            return candidate
    return None


CognitoIdpUserPool._get_user = _get_user_by_name_or_sub


def set_user_status(command):
    region = command["userPoolId"].split("_", 1)[0]
    pool = cognitoidp_backends[DEFAULT_ACCOUNT_ID][region].user_pools[command["userPoolId"]]
    pool.users[command["username"]].status = command["status"]


def throttle(command):
    with THROTTLE_LOCK:
        THROTTLES[command["operation"]] = int(command["count"])


OPS = {"set-user-status": set_user_status, "throttle": throttle}


class Control(BaseHTTPRequestHandler):
    def do_POST(self):
        try:
            command = json.loads(self.rfile.read(int(self.headers["content-length"])))
            OPS[command["op"]](command)
            self.send_response(204)
            self.end_headers()
        except Exception as error:
            body = repr(error).encode()
            self.send_response(400)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
    server.start()
    control = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Control)
    threading.Thread(target=control.serve_forever, daemon=True).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    control.shutdown()
    server.stop()


if __name__ == "__main__":
    main()
