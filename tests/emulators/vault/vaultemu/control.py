"""Control API (/_emulator/...), fault injection and the request log.

Contract:
- Every control request needs `X-Emulator-Admin: 1`; without it the answer is 404
  {"errors":[]}, indistinguishable from an unknown Vault path.
- State-changing bodies are validated strictly; a bad body is 400 {"errors":[why]}.
- Faults are kept in order; the first live fault whose method and path_regex match a
  /v1/ request is used and its count decremented.
- The request log keeps the last 10,000 /v1/ requests: header names, whether a token was
  sent (never the token), the namespace header, the body and the answer's status.
- `apply_seed` loads a --seed file using the same validators as the control API.
"""

import collections
import json
import re
import threading

from . import acl
from .auth import new_role_entity
from .state import make_mount
from .util import CLOCK, ApiError, error_resp, go_json, json_resp, parse_json_body, rfc3339nano

MAX_LOG = 10000


def _ok(payload=None):
    return json_resp(200, go_json(payload if payload is not None else {"ok": True}))


def _need(body, name, kind, default=None, required=False):
    if name not in body or body[name] is None:
        if required:
            raise ApiError(400, ["%r is required" % name])
        return default
    value = body[name]
    ok = {"str": isinstance(value, str),
          "int": isinstance(value, int) and not isinstance(value, bool) and value >= 0,
          "bool": isinstance(value, bool),
          "list": isinstance(value, list) and all(isinstance(v, str) for v in value),
          "dict": isinstance(value, dict)}[kind]
    if not ok:
        raise ApiError(400, ["%r must be %s" % (name, {
            "str": "a string", "int": "a non-negative integer", "bool": "true or false",
            "list": "a list of strings", "dict": "an object"}[kind])])
    return value


def _namespace(state, body):
    path = state.normalize_ns(_need(body, "namespace", "str", ""))
    if path not in state.namespaces:
        raise ApiError(400, ["namespace %r does not exist; create it with POST /_emulator/namespaces"
                             % path])
    return state.namespaces[path]


def _strings(body, single, plural):
    values = list(_need(body, plural, "list", []))
    if single in body:
        values.append(_need(body, single, "str", required=True))
    return values


# -- state-changing operations (shared with the seed file) ---------------------------------

def add_token(state, body):
    ns = _namespace(state, body)
    policies = list(_need(body, "policies", "list", []))
    if not _need(body, "no_default_policy", "bool", False) and "root" not in policies:
        policies.append("default")
    token_id = _need(body, "token", "str")
    if token_id is not None and (token_id == "" or token_id in state.tokens):
        raise ApiError(400, ["token %r is empty or already exists" % token_id])
    token = state.issue_token(policies, ns.path, _need(body, "ttl_s", "int", 0),
                              _need(body, "renewable", "bool", True),
                              _need(body, "explicit_max_ttl_s", "int", 0), token_id,
                              _need(body, "display_name", "str", "token"),
                              _need(body, "meta", "dict"))
    return {"token": token.id, "accessor": token.accessor}


def add_policy(state, body):
    name = _need(body, "name", "str", required=True)
    if name == "root" or name == "":
        raise ApiError(400, ["policy name %r cannot be set" % name])
    try:
        state.policies[name] = acl.validate_policy(_need(body, "paths", "dict", required=True))
    except acl.PolicyError as exc:
        raise ApiError(400, [str(exc)]) from None
    return {"name": name}


def add_approle(state, body):
    ns = _namespace(state, body)
    role_id = _need(body, "role_id", "str", required=True)
    secret_ids = _strings(body, "secret_id", "secret_ids")
    bind = _need(body, "bind_secret_id", "bool", True)
    if bind and not secret_ids:
        raise ApiError(400, ["'secret_id' (or 'secret_ids') is required unless bind_secret_id is false"])
    ns.approles[role_id] = {
        "role_name": _need(body, "role_name", "str", role_id), "secret_ids": set(secret_ids),
        "bind_secret_id": bind, "policies": _need(body, "policies", "list", []),
        "token_ttl_s": _need(body, "token_ttl_s", "int", 0),
        "token_max_ttl_s": _need(body, "token_max_ttl_s", "int", 0),
        "token_explicit_max_ttl_s": _need(body, "token_explicit_max_ttl_s", "int", 0),
        "renewable": _need(body, "renewable", "bool", True), "entity_id": new_role_entity()}
    return {"role_id": role_id}


def add_kubernetes_role(state, body):
    ns = _namespace(state, body)
    name = _need(body, "role", "str", required=True)
    jwts = _strings(body, "jwt", "jwts")
    if not jwts:
        raise ApiError(400, ["'jwt' (or 'jwts') is required"])
    ns.k8s_roles[name] = {
        "jwts": set(jwts), "policies": _need(body, "policies", "list", []),
        "token_ttl_s": _need(body, "token_ttl_s", "int", 0),
        "token_max_ttl_s": _need(body, "token_max_ttl_s", "int", 0),
        "renewable": _need(body, "renewable", "bool", True),
        "service_account_name": _need(body, "service_account_name", "str", "default"),
        "service_account_namespace": _need(body, "service_account_namespace", "str", "default"),
        "service_account_uid": _need(body, "service_account_uid", "str",
                                     "00000000-0000-0000-0000-000000000000"),
        "entity_id": new_role_entity()}
    return {"role": name}


def add_namespace(state, body):
    try:
        ns = state.add_namespace(_need(body, "path", "str", required=True),
                                 _need(body, "default_mounts", "bool", True))
    except ValueError as exc:
        raise ApiError(400, [str(exc)]) from None
    return {"path": ns.path, "id": ns.id}


def add_mount(state, body):
    ns = _namespace(state, body)
    path = _need(body, "path", "str", required=True).strip("/") + "/"
    if path == "/" or path in ns.mounts or path.startswith(("sys/", "auth/")):
        raise ApiError(400, ["mount path %r is empty, reserved or already in use" % path])
    try:
        ns.mounts[path] = make_mount(path, _need(body, "type", "str", "kv-v2"))
    except ValueError as exc:
        raise ApiError(400, [str(exc)]) from None
    return {"path": path, "namespace": ns.path}


def _kv_engine(state, body, mount):
    ns = _namespace(state, body)
    found = ns.mounts.get(mount.strip("/") + "/")
    if found is None or found.type != "kv":
        raise ApiError(400, ["%r is not a KV v2 mount in namespace %r" % (mount, ns.path)])
    return found.engine


def _kv_item(engine, item):
    path = _need(item, "path", "str", required=True).strip("/")
    if path == "":
        raise ApiError(400, ["'path' must not be empty"])
    if "data" not in item:
        raise ApiError(400, ["'data' is required for %r" % path])
    return engine.put(path, item["data"], _need(item, "custom_metadata", "dict"))


def kv_put(state, mount, path, body):
    return {"version": _kv_item(_kv_engine(state, body, mount), dict(body, path=path))}


def kv_bulk(state, body):
    engine = _kv_engine(state, body, _need(body, "mount", "str", "secret"))
    items = body.get("items")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ApiError(400, ["'items' must be a list of objects"])
    for item in items:
        _kv_item(engine, item)
    return {"written": len(items)}


def apply_seed(state, seed):
    """Load a --seed document: namespaces, mounts, policies, tokens, roles and KV data."""
    for entry in seed.get("namespaces", []):
        entry = {"path": entry} if isinstance(entry, str) else entry
        add_namespace(state, entry)
        for mount, paths in entry.get("kv", {}).items():
            for path, item in paths.items():
                kv_put(state, mount, path, dict(item, namespace=entry["path"]))
    for entry in seed.get("mounts", []):
        add_mount(state, entry)
    for entry in seed.get("policies", []):
        add_policy(state, entry)
    for entry in seed.get("tokens", []):
        add_token(state, entry)
    for entry in seed.get("approle", []):
        add_approle(state, entry)
    for entry in seed.get("kubernetes", []):
        add_kubernetes_role(state, entry)
    for mount, paths in seed.get("kv", {}).items():
        for path, item in paths.items():
            kv_put(state, mount, path, item)


_STATE_POSTS = {"tokens": add_token, "policies": add_policy, "approle": add_approle,
                "kubernetes": add_kubernetes_role, "namespaces": add_namespace,
                "mounts": add_mount, "kv-bulk": kv_bulk}


class Emulator:
    """Owns the faults and the request log, and answers /_emulator/ requests."""

    def __init__(self, state):
        self.state = state
        self.faults = []
        self.fault_lock = threading.Lock()
        self.log = collections.deque(maxlen=MAX_LOG)
        self.log_lock = threading.Lock()
        self.seq = 0

    # -- faults --------------------------------------------------------------------------
    @staticmethod
    def _fault_spec(body):
        regex = _need(body, "path_regex", "str", required=True)
        try:
            compiled = re.compile(regex)
        except re.error as exc:
            raise ApiError(400, ["path_regex does not compile: %s" % exc]) from None
        status = _need(body, "status", "int")
        if status is not None and not 100 <= status <= 599:
            raise ApiError(400, ["'status' must be an HTTP status code"])
        spec = {"method": (_need(body, "method", "str") or "").upper() or None,
                "path_regex": regex, "regex": compiled, "status": status,
                "body": body.get("body"), "retry_after": body.get("retry_after"),
                "delay_ms": _need(body, "delay_ms", "int", 0),
                "count": _need(body, "count", "int", 1),
                "truncate": _need(body, "truncate", "bool", False),
                "drop": _need(body, "drop", "bool", False),
                "headers": _need(body, "headers", "dict", {})}
        if spec["count"] < 1:
            raise ApiError(400, ["'count' must be at least 1"])
        if not (status or spec["delay_ms"] or spec["truncate"] or spec["drop"]):
            raise ApiError(400, ["a fault needs at least one of status, delay_ms, truncate, drop"])
        if spec["retry_after"] is not None and not isinstance(spec["retry_after"], (str, int)):
            raise ApiError(400, ["'retry_after' must be a string or an integer"])
        return spec

    def take_fault(self, method, path):
        with self.fault_lock:
            for fault in self.faults:
                if fault["method"] not in (None, method) or not fault["regex"].search(path):
                    continue
                fault["count"] -= 1
                if fault["count"] == 0:
                    self.faults.remove(fault)
                return dict(fault)
        return None

    # -- request log ------------------------------------------------------------------------
    def record(self, method, path, query, headers, body):
        parsed = None
        if body:
            try:
                parsed = parse_json_body(body[:1 << 20])
            except Exception:  # not JSON: keep a prefix of the text
                parsed = body[:65536].decode("utf-8", errors="replace")
        entry = {"method": method, "path": path, "query": query,
                 "headers": list(headers.keys()),
                 "has_token": bool(headers.get("X-Vault-Token") or
                                   headers.get("Authorization", "").startswith("Bearer ")),
                 "namespace": headers.get("X-Vault-Namespace"), "host": headers.get("Host"),
                 "body": parsed,
                 "time": rfc3339nano(CLOCK.now_ns()), "status": None}
        with self.log_lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.log.append(entry)
        return entry

    # -- dispatch -----------------------------------------------------------------------------
    def handle(self, method, path, headers, body):
        if headers.get("X-Emulator-Admin") != "1":
            return error_resp(404, [])
        name = path[len("/_emulator/"):]
        try:
            payload = parse_json_body(body) if method in ("POST", "PUT") else None
        except Exception as exc:
            return error_resp(400, ["control body is not a JSON object: %s" % exc])
        payload = payload or {}
        try:
            with self.state.lock:
                return self._dispatch(method, name, payload)
        except ApiError as exc:
            return error_resp(exc.status, exc.messages)

    def _dispatch(self, method, name, body):
        state = self.state
        if method == "POST" and name in _STATE_POSTS:
            return _ok(_STATE_POSTS[name](state, body))
        if method == "POST" and name.startswith("kv/"):
            mount, _, path = name[len("kv/"):].partition("/")
            return _ok(kv_put(state, mount, path, body))
        if method == "POST" and name == "reset":
            state.reset()
            with self.fault_lock:
                self.faults.clear()
            with self.log_lock:
                self.log.clear()
            return _ok()
        if method == "POST" and name == "expire-token":
            token = state.tokens.get(_need(body, "token", "str", required=True))
            if token is None:
                raise ApiError(404, ["no such token"])
            token.expire_at = CLOCK.now() - 1
            return _ok()
        if name == "clock":
            if method == "POST":
                advance = body.get("advance_s", 0)
                if isinstance(advance, bool) or not isinstance(advance, (int, float)):
                    raise ApiError(400, ["'advance_s' must be a number of seconds"])
                CLOCK.advance(advance)
            return _ok({"now": rfc3339nano(CLOCK.now_ns()), "offset_s": CLOCK._offset_ns / 1e9})
        if name == "faults":
            with self.fault_lock:
                if method == "POST":
                    self.faults.append(self._fault_spec(body))
                    return _ok({"faults": len(self.faults)})
                if method == "DELETE":
                    self.faults.clear()
                return _ok([{k: v for k, v in f.items() if k != "regex"} for f in self.faults])
        if name == "requests":
            with self.log_lock:
                if method == "DELETE":
                    self.log.clear()
                    return _ok()
                return json_resp(200, json.dumps(list(self.log)))
        raise ApiError(404, ["unknown control endpoint %s /_emulator/%s" % (method, name)])
