"""Verifies a request signed by cognito-user-sync, for a User Service written in Python.

The Python twin of `cognito-user-sync/verify` (src/verify.ts): the same Standard Webhooks `v1`
scheme, the same checks in the same order, the same refusal reasons and messages. Standard
library only (Python 3.8 or later): copy this one file into your service.

    from verify_user_sync import verify_user_sync_request

    result = verify_user_sync_request(headers, raw_body, [current_secret, previous_secret])
    if not result.ok:
        return 401, {"error": "unauthorized", "reason": result.reason}

`raw_body` is the bytes as received, never a re-serialised parse of them. See README.md beside
this file for Flask, Django and http.server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import time
from dataclasses import dataclass
from typing import Any, Iterable, List, Optional, Sequence, Tuple, Union

__all__ = ["DEFAULT_TOLERANCE_SECONDS", "VerifyResult", "verify_user_sync_request"]

DEFAULT_TOLERANCE_SECONDS = 300

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
WEBHOOK_ID_HEADER = "webhook-id"
WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp"
WEBHOOK_SIGNATURE_HEADER = "webhook-signature"
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64
MAX_WEBHOOK_ID_LENGTH = 256
# More signatures than rotation ever needs is someone probing, not a sender.
MAX_SIGNATURES = 32

# JavaScript's white space (String.prototype.trim, \s): the TypeScript verifier trims and splits
# with it, so the two read a header the same way. Python's own (str.strip, \s) differs by a few
# characters (U+FEFF, U+001C to U+001F).
_JS_SPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_SPACES = re.compile("[" + _JS_SPACE + "]+")
_TRIM = re.compile("^[" + _JS_SPACE + "]+|[" + _JS_SPACE + "]+$")
# Padded standard base64 only: b64decode would skip anything else, and a mistyped secret must
# fail here rather than as a string of 401s.
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
# Visible ASCII without ".": the spec asks that an id never hold the separator of the signed content.
_WEBHOOK_ID = re.compile(r"[\x21-\x2d\x2f-\x7e]+")
# Digits without a leading zero, so the number signed is the text received. [0-9], not \d: \d
# takes any script's digits.
_TIMESTAMP = re.compile(r"(?:0|[1-9][0-9]{0,14})")
_VERSION = re.compile(r"v[0-9]+[a-z]*")
# Canonical base64 of the 32 bytes of an HMAC-SHA256.
_V1_SIGNATURE = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")


@dataclass(frozen=True)
class VerifyResult:
    """The verdict. `ok` True: `id` and `timestamp` are set. False: `reason` and `message` are.

    `reason` is one of "bad-secret", "missing-headers", "malformed-id", "malformed-timestamp",
    "malformed-signature", "timestamp-too-old", "timestamp-in-future", "no-matching-signature";
    `message` says why, fit for a 401 answer or a log (it holds no secret and no body).
    """

    ok: bool
    id: Optional[str] = None
    timestamp: Optional[int] = None
    reason: Optional[str] = None
    message: Optional[str] = None


class _BadSecret(Exception):
    pass


def _fail(reason: str, message: str) -> VerifyResult:
    return VerifyResult(ok=False, reason=reason, message=message)


def _trim(text: str) -> str:
    return _TRIM.sub("", text)


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)


def _pairs(headers: Any) -> Iterable[Tuple[Any, Any]]:
    # Every (name, value) pair, a repeated header as often as it came: http.server's
    # email.message.Message and Werkzeug's Headers give each one from items(), an ASGI scope's
    # list of byte pairs is a list of pairs already.
    if hasattr(headers, "items"):
        return headers.items()
    return headers


def _header(headers: Any, name: str) -> Optional[str]:
    """A header's value however it was given; several values are joined as HTTP joins them."""
    values: List[str] = []
    for key, value in _pairs(headers):
        if _text(key).lower() != name or value is None:
            continue
        if isinstance(value, (list, tuple)):
            values.extend(_text(item) for item in value)
        else:
            values.append(_text(value))
    return ", ".join(values) if values else None


def _invalid(why: str) -> _BadSecret:
    return _BadSecret("The signing secret is not valid: " + why)


def _refuse_constant(name: str) -> Any:
    # JSON has no NaN or Infinity; json.loads would take them, as JSON.parse does not.
    raise ValueError(name)


def _parse_key(value: str, position: int) -> bytes:
    which = "key %d" % position
    if not value.startswith(SECRET_PREFIX):
        raise _invalid("%s does not start with %s" % (which, SECRET_PREFIX))
    encoded = value[len(SECRET_PREFIX) :]
    if encoded == "" or not _BASE64.fullmatch(encoded):
        raise _invalid("%s is not base64 after the prefix" % which)
    key = base64.b64decode(encoded)
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise _invalid(
            "%s is %d bytes, not %d to %d" % (which, len(key), MIN_KEY_BYTES, MAX_KEY_BYTES)
        )
    return key


def _keys_of_json(text: str) -> List[Any]:
    try:
        parsed = json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        # The parser's own message quotes the input, that is the secret: it is not kept.
        raise _invalid("it starts with { but is not JSON") from None
    if not isinstance(parsed, dict):
        raise _invalid("it is JSON but not an object")
    if any(key not in ("current", "previous") for key in parsed):
        # A misspelt "previous" would drop the old key in the middle of a rotation without a word.
        raise _invalid('its JSON may only have the keys "current" and "previous"')
    current = parsed.get("current")
    previous = parsed.get("previous", [])
    if not isinstance(current, str):
        raise _invalid('its JSON needs "current", a whsec_ string')
    previous_keys = [] if previous is None else previous if isinstance(previous, list) else [previous]
    if not all(isinstance(key, str) for key in previous_keys):
        raise _invalid('its "previous" must be a whsec_ string or a list of them')
    return [current] + previous_keys


def _parse_secret(value: str) -> List[bytes]:
    """The keys of one secret: `whsec_…`, several space-separated, or {"current", "previous"}."""
    text = _trim(value)
    if text == "":
        raise _invalid("it is empty")
    values = _keys_of_json(text) if text.startswith("{") else _SPACES.split(text)
    keys: List[bytes] = []
    for index, key in enumerate(values):
        parsed = _parse_key(_trim(key), index + 1)
        if parsed not in keys:
            keys.append(parsed)
    return keys


def _keys(secrets: Union[str, Sequence[str]]) -> Union[List[bytes], str]:
    listed = [secrets] if isinstance(secrets, str) else list(secrets)
    if not listed:
        return "no signing secret was given"
    try:
        return [key for secret in listed for key in _parse_secret(secret)]
    except _BadSecret as error:
        return str(error)


def _v1_signatures(header: str) -> Union[List[bytes], str]:
    """The `v1` signatures of the header, decoded, passing over what it cannot read.

    As the official libraries do: a garbled entry, or one of another version, beside a good one
    does not hide it. When nothing usable is left and something was garbled, a string says what.
    """
    signatures: List[bytes] = []
    entries = 0
    fault: Optional[str] = None
    # A sender separates entries with spaces; a hop that merges a repeated header adds a comma
    # (", " or ","). So after a `version,signature` pair a comma starts the next entry, and empty
    # fields are only separators.
    for part in _SPACES.split(header):
        fields = part.split(",")
        at = 0
        while at < len(fields):
            version = fields[at]
            value = fields[at + 1] if at + 1 < len(fields) else ""
            at += 1
            if version == "":
                continue
            # A value that reads as a version is the next entry: its own pair lost its value.
            if not _VERSION.fullmatch(version) or value == "" or _VERSION.fullmatch(value):
                if fault is None:
                    fault = 'webhook-signature must be space-separated "version,signature" pairs'
                continue
            at += 1  # past the value
            entries += 1
            if entries > MAX_SIGNATURES:
                return "webhook-signature holds more than %d signatures" % MAX_SIGNATURES
            # Other versions (v1a: ed25519) are the sender's to add; they are skipped.
            if version != SIGNATURE_VERSION:
                continue
            if _V1_SIGNATURE.fullmatch(value):
                signatures.append(base64.b64decode(value))
            elif fault is None:
                fault = "a v1 signature must be the base64 of 32 bytes"
    if not signatures and fault is not None:
        return fault
    return signatures


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def verify_user_sync_request(
    headers: Any,
    body: Union[bytes, bytearray, memoryview, str],
    secrets: Union[str, Sequence[str]],
    *,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: Optional[float] = None,
) -> VerifyResult:
    """Verifies a request signed by cognito-user-sync (Standard Webhooks, `v1`).

    In this order: the secrets, the three headers present, each well-formed, the timestamp within
    the tolerance, then the signature against every key, in constant time. Never raises for a bad
    request: each refusal has its own `reason` and `message`. Raises ValueError for a bad option
    (`tolerance_seconds`, `now`): the receiver's bug, not the sender's.

    headers: a mapping or a list of (name, value) pairs, names in any case, values str or bytes
        (http.server's self.headers, Flask's request.headers, Django's request.headers, a dict,
        an ASGI scope's "headers"); a repeated header may come as several pairs or as a list.
    body: the raw body as received; a str is taken as UTF-8.
    secrets: the signing secret(s) you accept: each a `whsec_…` key, several space-separated,
        or the JSON {"current": "whsec_…", "previous": "whsec_…"} kept in Secrets Manager.
    tolerance_seconds: how far `webhook-timestamp` may be from now, either way (5 minutes).
    now: the time to check against, in seconds since the epoch like time.time(); now by default.
    """
    if not _finite_number(tolerance_seconds) or tolerance_seconds < 0:
        raise ValueError("tolerance_seconds must be a non-negative number")
    if now is None:
        now = time.time()
    # NaN would make both comparisons with the timestamp false, and pass any timestamp.
    if not _finite_number(now):
        raise ValueError("now must be a finite number of seconds since the epoch")
    keys = _keys(secrets)
    if isinstance(keys, str):
        return _fail("bad-secret", keys)

    found = [
        (name, _trim(value) if value is not None else "")
        for name, value in (
            (name, _header(headers, name))
            for name in (WEBHOOK_ID_HEADER, WEBHOOK_TIMESTAMP_HEADER, WEBHOOK_SIGNATURE_HEADER)
        )
    ]
    missing = [name for name, value in found if value == ""]
    if missing:
        return _fail("missing-headers", "missing " + ", ".join(missing))
    webhook_id, timestamp_header, signature_header = (value for _, value in found)

    if len(webhook_id) > MAX_WEBHOOK_ID_LENGTH or not _WEBHOOK_ID.fullmatch(webhook_id):
        return _fail(
            "malformed-id", 'webhook-id must be at most 256 visible ASCII characters without "."'
        )
    if not _TIMESTAMP.fullmatch(timestamp_header):
        return _fail("malformed-timestamp", "webhook-timestamp must be a whole number of seconds")
    signatures = _v1_signatures(signature_header)
    if isinstance(signatures, str):
        return _fail("malformed-signature", signatures)

    timestamp = int(timestamp_header)
    current = math.floor(now)
    if current - timestamp > tolerance_seconds:
        return _fail(
            "timestamp-too-old", "webhook-timestamp is more than %s s old" % _number(tolerance_seconds)
        )
    if timestamp - current > tolerance_seconds:
        return _fail(
            "timestamp-in-future",
            "webhook-timestamp is more than %s s ahead" % _number(tolerance_seconds),
        )

    if not signatures:
        return _fail("no-matching-signature", "webhook-signature holds no v1 signature")
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    signed = ("%s.%d." % (webhook_id, timestamp)).encode("utf-8") + raw
    matched = False
    for key in keys:
        expected = hmac.new(key, signed, hashlib.sha256).digest()
        for signature in signatures:
            # Every pair is compared, match or not, so the time taken says nothing about the keys.
            if hmac.compare_digest(expected, signature):
                matched = True
    if not matched:
        return _fail(
            "no-matching-signature", "no signature matches the body under any accepted key"
        )
    return VerifyResult(ok=True, id=webhook_id, timestamp=timestamp)


def _number(value: float) -> str:
    # As JavaScript prints a number in a message: 300, not 300.0.
    return str(int(value)) if float(value).is_integer() else repr(value)
