"""moto's server, in-process, with a small control endpoint for test fixtures.

Usage: python3 scripts/moto-server.py PORT CONTROL_PORT

It serves the AWS APIs on 127.0.0.1:PORT exactly as `moto_server` does. On 127.0.0.1:CONTROL_PORT
it takes POSTed JSON commands for the state that no AWS API can create and that a test needs:
  {"op": "set-user-status", "userPoolId": "...", "username": "...", "status": "EXTERNAL_PROVIDER"}
(Cognito gives EXTERNAL_PROVIDER only to users made by a federated sign-in, which moto does not
emulate). It answers 204, or 400 with the error.
"""

import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from moto.cognitoidp.models import cognitoidp_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer


def set_user_status(command):
    region = command["userPoolId"].split("_", 1)[0]
    pool = cognitoidp_backends[DEFAULT_ACCOUNT_ID][region].user_pools[command["userPoolId"]]
    pool.users[command["username"]].status = command["status"]


OPS = {"set-user-status": set_user_status}


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
