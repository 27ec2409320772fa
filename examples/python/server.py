"""A plain http.server receiver: verifies every request cognito-user-sync sends before reading it.

    USER_SERVICE_SIGNING_SECRET=whsec_... python3 server.py [--port 8080] [--host 127.0.0.1]

The secret is what the sender's Secrets Manager secret holds: `whsec_...`, or during a rotation
{"current": "whsec_...", "previous": "whsec_..."}. A verified POST is answered 201 with the user
it carries, any other verified request 204: put your service where `handle` is.
"""

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from verify_user_sync import verify_user_sync_request


def handle(method, path, user):
    """Your User Service goes here; `user` is the verified body, parsed (None when empty)."""
    return (201, user) if method == "POST" else (204, None)


class Receiver(BaseHTTPRequestHandler):
    secrets = ""

    def _receive(self):
        # The raw bytes, as sent: verify them, then parse them (a re-serialised parse would differ).
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        result = verify_user_sync_request(self.headers, body, self.secrets)
        if not result.ok:
            # result.message says more, for your logs; it holds no secret and no body.
            self.log_message("refused: %s", result.message)
            return self._answer(401, {"error": "unauthorized", "reason": result.reason})
        # result.id is msg_<idempotency-key>: the same on every retry of one write.
        status, answer = handle(self.command, self.path, json.loads(body) if body else None)
        self._answer(status, answer)

    do_POST = do_PATCH = do_DELETE = do_GET = _receive

    def _answer(self, status, payload):
        data = b"" if payload is None else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    Receiver.secrets = os.environ.get("USER_SERVICE_SIGNING_SECRET", "")
    if not Receiver.secrets:
        sys.exit("Set USER_SERVICE_SIGNING_SECRET to the signing secret (whsec_...).")
    server = ThreadingHTTPServer((args.host, args.port), Receiver)
    host, port = server.server_address[:2]
    print("listening on http://%s:%d" % (host, port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
