"""Runs examples/python/verify_user_sync.py on the cases tests/examples/python-verifier.test.ts sends.

Reads {"cases": [...]} as JSON on stdin; each case has `headers` (name and value pairs, in the
order sent, a name possibly repeated), `body` (base64 of the raw bytes), `secrets`, and optionally
`now` (epoch milliseconds, as src/verify.ts takes it) and `toleranceSeconds`. Writes one verdict
per case and per way a Python server hands headers over: a list of pairs (ASGI, WSGI), a dict (a
repeated header as a list), and an email.message.Message (http.server's self.headers).
"""

import base64
import email.message
import json
import pathlib
import sys

# No __pycache__ beside the example: the package ships that folder.
sys.dont_write_bytecode = True
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "examples" / "python"))

from verify_user_sync import verify_user_sync_request  # noqa: E402


def as_dict(pairs):
    headers = {}
    for name, value in pairs:
        if name in headers:
            previous = headers[name]
            headers[name] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            headers[name] = value
    return headers


def as_message(pairs):
    message = email.message.Message()
    for name, value in pairs:
        message[name] = value  # appends: a repeated header stays two headers, as http.server keeps it
    return message


def verdict(headers, case):
    options = {}
    if "now" in case:
        options["now"] = case["now"] / 1000
    if "toleranceSeconds" in case:
        options["tolerance_seconds"] = case["toleranceSeconds"]
    try:
        result = verify_user_sync_request(
            headers, base64.b64decode(case["body"]), case["secrets"], **options
        )
    except ValueError:
        return {"thrown": "bad-option"}
    if result.ok:
        return {"ok": True, "id": result.id, "timestamp": result.timestamp}
    return {"ok": False, "reason": result.reason, "message": result.message}


def main():
    cases = json.load(sys.stdin)["cases"]
    verdicts = []
    for case in cases:
        pairs = [tuple(pair) for pair in case["headers"]]
        verdicts.append(
            {
                "pairs": verdict(pairs, case),
                "dict": verdict(as_dict(pairs), case),
                "message": verdict(as_message(pairs), case),
            }
        )
    json.dump(verdicts, sys.stdout)


main()
