"""Shared helpers for the Vault emulator: clock, Go-compatible formatting and decoding.

Contract:
- `Clock` is the emulator's only time source; tests move it with an offset.
- `go_json` serialises exactly like Go's `json.NewEncoder(w).Encode`: maps sorted by
  key, HTML characters escaped, trailing newline added by the caller (`Resp`).
- `weak_decode` converts request values the way Vault's framework/mapstructure does
  and raises `FieldError` with a Go-style message when it cannot.
- `ApiError` carries a Vault error answer (status + `errors` list); `Resp` is a fully
  rendered HTTP answer.
Nothing here knows about routes or state.
"""

import base64
import json
import re
import threading
import time
import uuid
from datetime import datetime, timezone


class Clock:
    """Wall clock plus a test-controlled offset (POST /_emulator/clock)."""

    def __init__(self):
        self._offset_ns = 0
        self._lock = threading.Lock()

    def now_ns(self):
        return time.time_ns() + self._offset_ns

    def now(self):
        return self.now_ns() / 1e9

    def advance(self, seconds):
        with self._lock:
            self._offset_ns += int(seconds * 1e9)
            return self._offset_ns / 1e9

    def reset(self):
        with self._lock:
            self._offset_ns = 0


CLOCK = Clock()


def rfc3339nano(ns):
    """Go's time.RFC3339Nano in UTC: fractional seconds without trailing zeros."""
    if ns is None:
        return ""
    secs, frac = divmod(int(ns), 1_000_000_000)
    text = datetime.fromtimestamp(secs, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        text += "." + ("%09d" % frac).rstrip("0")
    return text + "Z"


def go_duration(seconds):
    """Go's time.Duration.String() for a whole number of seconds ("1h0m0s", "90s" -> "1m30s")."""
    seconds = int(seconds)
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return "%s%dh%dm%ds" % (sign, hours, minutes, secs)
    if minutes:
        return "%s%dm%ds" % (sign, minutes, secs)
    return "%s%ds" % (sign, secs)


_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1, "m": 60,
                   "h": 3600, "d": 86400}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h|d)")


def parse_duration_seconds(value):
    """parseutil.ParseDurationSecond: int seconds, "3600", or Go duration text ("1h30m", "2d")."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ValueError("cannot parse %s as duration" % go_fmt_v(value))
    if isinstance(value, (int, float)):
        return int(value)
    if not isinstance(value, str):
        raise ValueError("cannot parse %s as duration" % go_fmt_v(value))
    text = value.strip()
    if text == "":
        return 0
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    pos, total = 0, 0.0
    while pos < len(body):
        match = _DURATION_PART.match(body, pos)
        if not match:
            raise ValueError('time: invalid duration "%s"' % text)
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if not body:
        raise ValueError('time: invalid duration "%s"' % text)
    return sign * int(total)


# --- JSON -------------------------------------------------------------------------------

class JsonFloat(float):
    """A JSON number with a fraction or exponent; keeps its literal like Go's json.Number."""

    def __new__(cls, literal):
        obj = float.__new__(cls, literal)
        obj.literal = literal
        return obj


def _reject_constant(name):
    raise ValueError("invalid character '%s' looking for beginning of value" % name[0])


_DECODER = json.JSONDecoder(parse_float=JsonFloat, parse_constant=_reject_constant)


class JsonInputError(Exception):
    pass


def parse_json_body(raw):
    """Decode a request body like Vault's jsonutil.DecodeJSONFromReader into a map.

    Returns None for an empty body (io.EOF). Trailing data after the first value is
    ignored, as Go's json.Decoder does. Raises JsonInputError when not a JSON object.
    """
    text = raw.decode("utf-8", errors="replace")
    stripped = text.lstrip(" \t\r\n")
    if stripped == "":
        return None
    try:
        value, _ = _DECODER.raw_decode(stripped)
    except ValueError as exc:
        raise JsonInputError(str(exc)) from None
    if value is None:
        return None
    if not isinstance(value, dict):
        raise JsonInputError("json: cannot unmarshal %s into Go value of type map[string]interface {}"
                             % go_kind(value))
    return value


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def go_json(value, sort_keys=True):
    """Serialise like Go's encoding/json (HTML-safe escaping, UTF-8, no spaces)."""
    text = json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False)
    if _LONE_SURROGATE.search(text):
        text = _LONE_SURROGATE.sub("\ufffd", text)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def go_kind(value):
    """The reflect.Kind name Go reports for a decoded JSON value (numbers are json.Number)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (str, int, float)):
        return "string"
    if isinstance(value, list):
        return "slice"
    if isinstance(value, dict):
        return "map"
    return "invalid"


def go_type(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "json.Number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return "<nil>"


def go_fmt_v(value):
    """Approximates Go's %v for decoded JSON values."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, JsonFloat):
        return value.literal
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + " ".join(go_fmt_v(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join("%s:%s" % (k, go_fmt_v(value[k])) for k in sorted(value)) + "]"
    return str(value)


def number_text(value):
    return value.literal if isinstance(value, JsonFloat) else str(value)


def multierror(messages):
    """hashicorp/go-multierror's default formatting."""
    if len(messages) == 1:
        return "1 error occurred:\n\t* %s\n\n" % messages[0]
    return "%d errors occurred:\n\t%s\n\n" % (
        len(messages), "\n\t".join("* " + m for m in messages))


# --- weak decoding (framework.FieldData + mapstructure.WeakDecode) ---------------------

class FieldError(Exception):
    """A value that cannot be converted to a field's type."""


_GO_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_GO_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def parse_go_bool(text):
    if text in _GO_TRUE:
        return True
    if text in _GO_FALSE:
        return False
    raise ValueError('strconv.ParseBool: parsing "%s": invalid syntax' % text)


def parse_go_int(text):
    """strconv.ParseInt(s, 0, 64): decimal, 0x.., 0o.., 0b.., leading 0 = octal."""
    body = text[1:] if text[:1] in "+-" else text
    try:
        if re.fullmatch(r"0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+", body):
            return int(text, 0)
        if re.fullmatch(r"0[0-7]+", body):
            return int(text[:len(text) - len(body)] + "0o" + body[1:], 0)
        if re.fullmatch(r"\d+", body):
            return int(text)
    except ValueError:
        pass
    raise ValueError('strconv.ParseInt: parsing "%s": invalid syntax' % text)


def weak_decode(value, kind):
    """Convert one request value to a framework field type; raises FieldError."""
    try:
        return _WEAK[kind](value)
    except ValueError as exc:
        raise FieldError(str(exc)) from None


def _to_int(value):
    if value is None:
        return 0
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, JsonFloat):
        raise ValueError("cannot parse '' as int: strconv.ParseInt: parsing \"%s\": invalid syntax"
                         % value.literal)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return parse_go_int(value.strip())
        except ValueError as exc:
            raise ValueError("cannot parse '' as int: %s" % exc) from None
    raise ValueError("'' expected type 'int', got unconvertible type '%s', value: '%s'"
                     % (go_type(value), go_fmt_v(value)))


def _to_bool(value):
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        value = number_text(value)
    if isinstance(value, str):
        if value == "":
            return False
        try:
            return parse_go_bool(value)
        except ValueError as exc:
            raise ValueError("cannot parse '' as bool: %s" % exc) from None
    raise ValueError("'' expected type 'bool', got unconvertible type '%s', value: '%s'"
                     % (go_type(value), go_fmt_v(value)))


def _to_string(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return number_text(value)
    if isinstance(value, str):
        return value
    raise ValueError("'' expected type 'string', got unconvertible type '%s', value: '%s'"
                     % (go_type(value), go_fmt_v(value)))


def _to_map(value):
    if value is None or isinstance(value, dict):
        return value
    raise ValueError("'' expected a map, got '%s'" % go_kind(value))


def _to_slice(value):
    if value is None or isinstance(value, list):
        return value
    return [value]


def _to_comma_int_slice(value):
    if value is None:
        return []
    items = value
    if isinstance(value, str):
        items = [part for part in value.split(",") if part.strip() != ""]
    elif not isinstance(value, list):
        items = [value]
    return [_to_int(item.strip() if isinstance(item, str) else item) for item in items]


def _to_duration(value):
    seconds = parse_duration_seconds(value)
    if seconds < 0:
        raise ValueError("cannot provide negative value '%s'" % go_fmt_v(value))
    return seconds


_WEAK = {
    "int": _to_int, "bool": _to_bool, "string": _to_string, "map": _to_map,
    "slice": _to_slice, "comma_int_slice": _to_comma_int_slice,
    "duration": _to_duration, "signed_duration": parse_duration_seconds,
}

_ZERO = {"int": 0, "bool": False, "string": "", "map": None, "slice": None,
         "comma_int_slice": [], "duration": 0, "signed_duration": 0}


class FieldData:
    """framework.FieldData: raw request values checked against a path's field schema."""

    def __init__(self, raw, schema):
        self.raw = raw or {}
        self.schema = schema

    def validate(self):
        for name, kind in self.schema.items():
            if name in self.raw:
                try:
                    weak_decode(self.raw[name], kind)
                except FieldError as exc:
                    raise FieldError('error converting input %s for field "%s": %s'
                                     % (go_fmt_v(self.raw[name]), name, exc)) from None

    def get_ok(self, name):
        if name not in self.raw:
            return _ZERO[self.schema[name]], False
        return weak_decode(self.raw[name], self.schema[name]), True

    def get(self, name):
        return self.get_ok(name)[0]


# --- Go's base64.StdEncoding decoder (for its exact error offsets) ----------------------

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_MAP = {c: i for i, c in enumerate(_B64)}


def go_b64decode(text):
    """base64.StdEncoding.DecodeString; raises ValueError("illegal base64 data at input byte N")."""
    src = text.encode("utf-8", errors="surrogatepass") if isinstance(text, str) else text
    si, n = 0, len(src)
    while si < n:
        j, pad_seen = 0, False
        while j < 4:
            if si == n:
                if j == 0:
                    break
                raise ValueError("illegal base64 data at input byte %d" % (si - j))
            ch = chr(src[si])
            si += 1
            if ch in _B64_MAP:
                j += 1
                continue
            if ch in "\r\n":
                continue
            if ch != "=" or j < 2:
                raise ValueError("illegal base64 data at input byte %d" % (si - 1))
            if j == 2:
                while si < n and chr(src[si]) in "\r\n":
                    si += 1
                if si == n:
                    raise ValueError("illegal base64 data at input byte %d" % n)
                if chr(src[si]) != "=":
                    raise ValueError("illegal base64 data at input byte %d" % (si - 1))
                si += 1
            while si < n and chr(src[si]) in "\r\n":
                si += 1
            if si < n:
                raise ValueError("illegal base64 data at input byte %d" % si)
            pad_seen = True
            break
        if pad_seen:
            break
    cleaned = bytes(b for b in src if b not in b"\r\n")
    return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))


def b64encode(raw):
    return base64.b64encode(raw).decode("ascii")


# --- responses ---------------------------------------------------------------------------

class Resp:
    """A rendered HTTP answer: status, body bytes (None for no body) and extra headers."""

    __slots__ = ("status", "body", "headers")

    def __init__(self, status, body=None, headers=None):
        self.status = status
        self.body = body
        self.headers = headers or {}


def json_resp(status, text, headers=None):
    hdrs = {"Content-Type": "application/json"}
    hdrs.update(headers or {})
    return Resp(status, (text + "\n").encode("utf-8"), hdrs)


def error_resp(status, messages, headers=None):
    return json_resp(status, go_json({"errors": list(messages)}), headers)


class ApiError(Exception):
    """A Vault error answer. `bare` marks errors Vault wraps in multierror text (1.x)."""

    def __init__(self, status, messages=(), bare=False, multi=None):
        super().__init__(status, messages)
        self.status = status
        self.messages = list(messages)
        self.bare = bare
        self.multi = multi  # the multierror parts, when they differ from `messages`


def new_uuid():
    return str(uuid.uuid4())


def envelope(request_id, data, mount_type, auth=None, warnings=None, status=200):
    """The standard Vault success envelope, field order as logical.HTTPResponse."""
    text = ('{"request_id":%s,"lease_id":"","renewable":false,"lease_duration":0,"data":%s,'
            '"wrap_info":null,"warnings":%s,"auth":%s,"mount_type":%s}') % (
        go_json(request_id), go_json(data), go_json(warnings or None),
        go_json(auth, sort_keys=False) if auth is not None else "null", go_json(mount_type))
    return json_resp(status, text)


class Route:
    """One matched engine path: handlers per operation, field schema, captures.

    `exists` (optional) is the path's existence check; when present a POST/PUT becomes
    "create" if it returns False and "update" otherwise, exactly like Vault's ACL.
    `unauth` marks login-style paths that need no token.
    """

    __slots__ = ("ops", "fields", "captures", "exists", "unauth")

    def __init__(self, ops, fields=None, captures=None, exists=None, unauth=False):
        self.ops = ops
        self.fields = fields or {}
        self.captures = captures or {}
        self.exists = exists
        self.unauth = unauth
