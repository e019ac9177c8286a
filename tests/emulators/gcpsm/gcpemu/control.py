"""The emulator's request pipeline, routing and control API (/_emulator/...).

Contract:
- `Emulator.dispatch(method, path, query, headers, body, host)` ->
  (status, headers, body, extra) where extra may ask the front end to delay the answer
  (`delay_ms`) or to cut the body short and close (`truncate`).
- Routing: /_emulator/ control (needs `X-Emulator-Admin: 1`, else 404);
  /computeMetadata/v1/... the metadata server; `POST /token` the OAuth2 token endpoint;
  `POST /v1/token` STS and `POST /v1/projects/-/serviceAccounts/{e}:generateAccessToken`
  (workload identity federation);
  /v1/projects/{project}/secrets... the API. Path segments are percent-decoded once; the
  verb is split on the last ':' of the final segment (`:access`, `:addVersion`, ...).
- API pipeline, in this order: bearer token (401 UNAUTHENTICATED); route and method
  (404 / 405 as google.rpc.Status); project must be the configured id or number (403
  PERMISSION_DENIED); query parameters known for the operation (plus `$.xgafv`,
  `alt`/`$alt` = json or `json;enum-encoding=int` — then enums such as a version's state are
  numbers, as the official clients request — and `prettyPrint`), else 400 INVALID_ARGUMENT; deny rules (403 PERMISSION_DENIED);
  injected faults; a JSON object body where one is expected; the operation.
- Faults: {"target": op|"token"|"metadata"|"*", "status" (HTTP, default 429), "code"
  (default RESOURCE_EXHAUSTED), "message", "count" (default 1), "retry_after",
  "delay_ms", "truncate", "corrupt_crc"}. The first live match answers and its count drops
  by one; a fault with only delay_ms / truncate / corrupt_crc (a wrong dataCrc32c in an
  :access answer) changes a normal answer.
- The request log keeps the last 10,000 requests: method, operation, resource path,
  status, error status, how the caller authenticated and the non-value query parameters —
  never a payload, a key or a token.
"""

import base64
import json
import urllib.parse

from .auth import Auth
from .errors import GcpError, OAuthError, invalid
from .secrets import Store, page_size

MAX_LOG = 10000
COMMON_QUERY = {"$.xgafv", "alt", "$alt", "prettyPrint", "$prettyPrint"}
ALT_VALUES = ("json", "json;enum-encoding=int")
STATE_NUMBERS = {"STATE_UNSPECIFIED": 0, "ENABLED": 1, "DISABLED": 2, "DESTROYED": 3}
JSON_CT = "application/json; charset=UTF-8"

# (collection, verb, method) -> (operation, permission, allowed query keys, needs body)
ROUTES = {
    ("secrets", None, "GET"): ("list", "secretmanager.secrets.list",
                               {"pageSize", "pageToken", "filter"}, False),
    ("secrets", None, "POST"): ("create", "secretmanager.secrets.create", {"secretId"}, True),
    ("secret", None, "GET"): ("get", "secretmanager.secrets.get", set(), False),
    ("secret", None, "PATCH"): ("patch", "secretmanager.secrets.update", {"updateMask"}, True),
    ("secret", None, "DELETE"): ("delete", "secretmanager.secrets.delete", {"etag"}, False),
    ("secret", "addVersion", "POST"): ("addVersion", "secretmanager.versions.add", set(), True),
    ("versions", None, "GET"): ("listVersions", "secretmanager.versions.list",
                                {"pageSize", "pageToken", "filter"}, False),
    ("version", None, "GET"): ("getVersion", "secretmanager.versions.get", set(), False),
    ("version", "access", "GET"): ("access", "secretmanager.versions.access", set(), False),
    ("version", "enable", "POST"): ("enable", "secretmanager.versions.enable", set(), True),
    ("version", "disable", "POST"): ("disable", "secretmanager.versions.disable", set(), True),
    ("version", "destroy", "POST"): ("destroy", "secretmanager.versions.destroy", set(), True),
}


def _json(status, payload, extra=None):
    headers = {"Content-Type": JSON_CT}
    headers.update(extra or {})
    return status, headers, json.dumps(payload).encode(), {}


def _numeric_enums(doc):
    """Renders enum fields as numbers ($alt=json;enum-encoding=int, as the official clients ask)."""
    if isinstance(doc, list):
        return [_numeric_enums(d) for d in doc]
    if isinstance(doc, dict):
        return {k: STATE_NUMBERS.get(v, v) if k == "state" and isinstance(v, str)
                else _numeric_enums(v) for k, v in doc.items()}
    return doc


def _route(path):
    """-> (project, collection, secret id, version id, verb) or None."""
    segs = [urllib.parse.unquote(s) for s in path.split("/")]
    if len(segs) < 4 or segs[0] != "" or segs[1] != "v1" or segs[2] != "projects":
        return None
    rest = segs[3:]
    verb = None
    if ":" in rest[-1]:
        rest[-1], _, verb = rest[-1].rpartition(":")
    project = rest[0]
    if len(rest) == 2 and rest[1] == "secrets":
        return project, "secrets", None, None, verb
    if len(rest) == 3 and rest[1] == "secrets":
        return project, "secret", rest[2], None, verb
    if len(rest) == 4 and rest[1] == "secrets" and rest[3] == "versions":
        return project, "versions", rest[2], None, verb
    if len(rest) == 5 and rest[1] == "secrets" and rest[3] == "versions":
        return project, "version", rest[2], rest[4], verb
    return None


class Emulator:
    def __init__(self, project_id, project_number, names_use_number, token_lifetime,
                 metadata_email, clock):
        self.project_id, self.project_number = project_id, project_number
        self.names_use_number = names_use_number
        self.token_lifetime, self.metadata_email = token_lifetime, metadata_email
        self.wall = clock
        self.reset()

    def now(self):
        return self.wall() + self.offset

    def reset(self):
        self.offset = 0.0
        self.auth = Auth(self.now, self.token_lifetime, self.metadata_email)
        self.store = Store(self.project_id, self.project_number, self.names_use_number, self.now)
        self.faults, self.deny, self.log = [], [], []

    # -- pipeline ---------------------------------------------------------------------------------
    def dispatch(self, method, path, query, headers, body, host):
        hmap = {k.lower(): v for k, v in headers}
        if path.startswith("/_emulator/"):
            if hmap.get("x-emulator-admin") != "1":
                return _json(404, {"message": "not found"})
            return self.control(method, path[len("/_emulator/"):], body, host)
        if path.startswith("/computeMetadata/v1"):
            extra = {}
            if "/token" in path and hmap.get("metadata-flavor") == "Google":
                try:
                    extra = self._fault("metadata")
                except GcpError as err:
                    self._record(method, "metadata", path, err.http, err.status, None, {})
                    return err.http, {"Content-Type": JSON_CT, **err.headers}, err.body(), {}
            status, out, ctype = self.auth.metadata(method, path, hmap, self.project_id)
            self._record(method, "metadata", path, status, None, None, {})
            return status, {"Content-Type": ctype, "Metadata-Flavor": "Google",
                            "Server": "Metadata Server for VM"}, out, extra
        if path == "/token":
            return self._token(method, hmap, body, host)
        if path == "/v1/token" and method == "POST":
            return self._sts(hmap, body)
        if path.startswith("/v1/projects/-/serviceAccounts/") and \
                path.endswith(":generateAccessToken") and method == "POST":
            email = urllib.parse.unquote(path[len("/v1/projects/-/serviceAccounts/"):
                                              -len(":generateAccessToken")])
            try:
                out = self.auth.impersonate(email, hmap, body)
                self._record(method, "generateAccessToken", path, 200, None, "sts", {})
                return _json(200, out)
            except GcpError as err:
                self._record(method, "generateAccessToken", path, err.http, err.status, None, {})
                return err.http, {"Content-Type": JSON_CT, **err.headers}, err.body(), {}
        return self._api(method, path, query, hmap, body)

    def _token(self, method, hmap, body, host):
        try:
            if method != "POST":
                raise OAuthError(405, "invalid_request", "POST only")
            extra = self._fault("token")
            ctype = hmap.get("content-type", "").split(";")[0].strip().lower()
            out = self.auth.token_endpoint(host, ctype, body)
            self._record(method, "token", "/token", 200, None, None, {})
            return 200, {"Content-Type": JSON_CT, "Cache-Control": "no-store"}, \
                json.dumps(out).encode(), extra
        except OAuthError as err:
            self._record(method, "token", "/token", err.http, err.error, None, {})
            return err.http, {"Content-Type": JSON_CT}, err.body(), {}
        except GcpError as err:
            self._record(method, "token", "/token", err.http, err.status, None, {})
            return err.http, {"Content-Type": JSON_CT, **err.headers}, err.body(), {}

    def _sts(self, hmap, body):
        try:
            ctype = hmap.get("content-type", "").split(";")[0].strip().lower()
            out = self.auth.sts_token(ctype, body)
            self._record("POST", "sts", "/v1/token", 200, None, None, {})
            return 200, {"Content-Type": JSON_CT}, json.dumps(out).encode(), {}
        except OAuthError as err:
            self._record("POST", "sts", "/v1/token", err.http, err.error, None, {})
            return err.http, {"Content-Type": JSON_CT}, err.body(), {}

    def _api(self, method, path, query, hmap, body):
        op, who, logged = "?", None, {}
        try:
            try:
                q = urllib.parse.parse_qs(query, keep_blank_values=True, strict_parsing=False)
            except ValueError:
                raise invalid("malformed query string")
            logged = {k: v[0] for k, v in q.items() if k in ("pageSize", "pageToken", "filter",
                                                               "secretId", "updateMask")}
            email, who = self.auth.check_bearer(hmap)
            route = _route(path)
            if route is None:
                raise GcpError(404, "NOT_FOUND", "Requested entity was not found.")
            project, coll, sid, vid, verb = route
            spec = ROUTES.get((coll, verb, method))
            if spec is None:
                known = any(k[0] == coll and k[1] == verb for k in ROUTES)
                raise GcpError(405 if known else 404, "NOT_FOUND" if not known else "UNIMPLEMENTED",
                               "Method not found." if not known else "Method not allowed.")
            op, permission, allowed, needs_body = spec
            if project not in (self.project_id, self.project_number):
                raise GcpError(403, "PERMISSION_DENIED", "Permission '%s' denied for resource "
                               "'projects/%s' (or it may not exist)." % (permission, project),
                               reason="IAM_PERMISSION_DENIED")
            for k, v in q.items():
                if k not in allowed and k not in COMMON_QUERY:
                    raise invalid("Invalid JSON payload received. Unknown name \"%s\": Cannot "
                                  "bind query parameter. Field '%s' could not be found in request "
                                  "message." % (k, k))
                if len(v) != 1:
                    raise invalid("Repeated query parameter %r." % k)
            alt = q.get("$alt", q.get("alt", ["json"]))[0]
            if alt not in ALT_VALUES or q.get("$.xgafv", ["1"])[0] not in ("1", "2"):
                raise invalid("Only alt=json (optionally ;enum-encoding=int) and $.xgafv=1|2 "
                              "are supported.")
            for rule in self.deny:
                if rule["permission"] in ("*", permission) and rule["secret"] in ("*", sid):
                    raise GcpError(403, "PERMISSION_DENIED", "Permission '%s' denied for resource "
                                   "'%s' (or it may not exist)." % (permission, path[4:]),
                                   reason="IAM_PERMISSION_DENIED")
            extra = self._fault(op)
            req = {}
            if needs_body:
                try:
                    req = json.loads(body or b"{}")
                except ValueError:
                    raise invalid("Invalid JSON payload received.")
                if not isinstance(req, dict):
                    raise invalid("Invalid JSON payload received. Expected an object.")
            elif body:
                raise invalid("This method takes no request body.")
            out = self._operate(op, sid, vid, q, req)
            if extra.get("corrupt_crc") and "payload" in out:  # a payload damaged in transit
                out["payload"]["dataCrc32c"] = str((int(out["payload"]["dataCrc32c"]) + 1) % 2**32)
            if alt.endswith("enum-encoding=int"):
                out = _numeric_enums(out)
            self._record(method, op, path, 200, None, who, logged)
            status, headers, data, _ = _json(200, out)
            return status, headers, data, extra
        except GcpError as err:
            self._record(method, op, path, err.http, err.status, who, logged)
            return err.http, {"Content-Type": JSON_CT, **err.headers}, err.body(), {}

    def _operate(self, op, sid, vid, q, req):
        st = self.store
        arg = lambda k: q.get(k, [None])[0]  # noqa: E731
        if op == "list":
            return st.list_secrets(page_size(arg("pageSize")), arg("pageToken"), arg("filter"))
        if op == "create":
            return st.create(arg("secretId"), req)
        if op == "get":
            return st.secret_json(st.secret(sid))
        if op == "patch":
            return st.patch(sid, arg("updateMask"), req)
        if op == "delete":
            return st.delete(sid, arg("etag"))
        if op == "addVersion":
            return st.add_version(sid, req)
        if op == "listVersions":
            return st.list_versions(sid, page_size(arg("pageSize")), arg("pageToken"),
                                    arg("filter"))
        if op == "getVersion":
            s, v = st.version(sid, vid)
            return st.version_json(s, v)
        if op == "access":
            return st.access(sid, vid)
        return st.set_state(sid, vid, op, req)

    def _fault(self, op):
        for f in self.faults:
            if f["count"] > 0 and f["target"] in ("*", op):
                f["count"] -= 1
                if f["status"] is None:
                    return {"delay_ms": f["delay_ms"], "truncate": f["truncate"],
                            "corrupt_crc": f["corrupt_crc"]}
                headers = {}
                if f["retry_after"] is not None:
                    headers["Retry-After"] = str(f["retry_after"])
                raise GcpError(f["status"], f["code"], f["message"], headers)
        return {}

    def _record(self, method, op, path, status, err, who, query):
        entry = {"method": method, "op": op, "path": path, "status": status, "error": err,
                 "auth": who}
        entry.update(query)
        self.log.append(entry)
        del self.log[:-MAX_LOG]

    # -- control API -------------------------------------------------------------------------------
    def control(self, method, name, body, host):
        try:
            req = json.loads(body or b"{}") if method == "POST" else {}
            if not isinstance(req, dict):
                raise ValueError("the body must be a JSON object")
            return _json(200, self._control(method, name, req, host))
        except (ValueError, KeyError, TypeError, GcpError) as e:
            msg = e.message if isinstance(e, GcpError) else str(e)
            return _json(400, {"message": "%s: %s" % (type(e).__name__, msg)})

    def _data(self, req):
        if "data_b64" in req:
            return base64.b64decode(req["data_b64"])
        return req["data"].encode()

    def _control(self, method, name, req, host):
        if method == "GET" and name == "requests":
            return {"requests": self.log}
        if method == "GET" and name == "stats":
            return {"token_calls": self.auth.token_calls, "sts_calls": self.auth.sts_calls,
                    "metadata_calls": self.auth.metadata_calls,
                    "tokens": len(self.auth.tokens)}
        if method != "POST":
            raise ValueError("unknown control endpoint %s %s" % (method, name))
        if name == "reset":
            self.reset()
            return {"ok": True}
        if name == "service-accounts":
            self.auth.register(req["client_email"], req["public_key_pem"],
                               req.get("private_key_id", ""))
            return {"ok": True}
        if name == "service-account-keys":
            return self.auth.generate(req["client_email"], "http://%s/token" % host,
                                      self.project_id)
        if name == "workload-identity":
            self.auth.pools.setdefault(req["audience"], set()).add(req["subject_token"])
            return {"ok": True}
        if name == "tokens":
            self.auth.add_token(req["token"], req.get("email", "control@emulator"),
                                float(req.get("expires_in", 3600)))
            return {"ok": True}
        if name == "expire-tokens":
            self.auth.expire_all()
            return {"ok": True}
        if name == "clock":
            self.offset = float(req["offset"])
            return {"ok": True}
        if name == "faults":
            plain = any(k in req for k in ("delay_ms", "truncate", "corrupt_crc"))
            status = req.get("status", None if plain else 429)
            self.faults.append({"target": req.get("target", "*"),
                                "status": None if status is None else int(status),
                                "code": req.get("code", "RESOURCE_EXHAUSTED"),
                                "message": req.get("message", "Quota exceeded for quota metric "
                                                   "'Access requests' of service "
                                                   "'secretmanager.googleapis.com'."),
                                "count": int(req.get("count", 1)),
                                "retry_after": req.get("retry_after"),
                                "delay_ms": int(req.get("delay_ms", 0)),
                                "truncate": bool(req.get("truncate", False)),
                                "corrupt_crc": bool(req.get("corrupt_crc", False))})
            return {"ok": True}
        if name == "deny":
            self.deny.append({"permission": req.get("permission", "*"),
                              "secret": req.get("secret", "*")})
            return {"ok": True}
        if name == "secrets":
            out = self.store.create(req["secret_id"], {"replication": {"automatic": {}},
                                                       "labels": req.get("labels", {})})
            out["versions"] = []
            for v in req.get("versions", []):
                ver = self.store.add_version(req["secret_id"], None, self._data(v))
                if v.get("state", "ENABLED") != "ENABLED":
                    n = ver["name"].rsplit("/", 1)[1]
                    ver = self.store.set_state(req["secret_id"], n,
                                               {"DISABLED": "disable",
                                                "DESTROYED": "destroy"}[v["state"]], {})
                out["versions"].append(ver["name"])
            return out
        if name == "add-version":
            return self.store.add_version(req["secret_id"], None, self._data(req))
        if name == "version-state":
            verb = {"ENABLED": "enable", "DISABLED": "disable",
                    "DESTROYED": "destroy"}[req["state"]]
            return self.store.set_state(req["secret_id"], str(req["version"]), verb, {})
        if name == "labels":
            return self.store.patch(req["secret_id"], "labels", {"labels": req["labels"]})
        raise ValueError("unknown control endpoint %s" % name)
