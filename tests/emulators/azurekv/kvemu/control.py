"""The emulator's request pipeline, fault injection, request log and control API.

Contract:
- `dispatch_tls(method, path, query, headers, body, base)`: what the https port serves.
  - `POST /{tenant}/oauth2/v2.0/token`, `GET /{tenant}/v2.0/.well-known/openid-configuration`:
    Entra ID (identity.py).
  - `/secrets…`: Key Vault, in this order: the bearer token (missing, unknown, expired,
    other audience or tenant -> 401 `Unauthorized` with `WWW-Authenticate: Bearer
    authorization="https://login.microsoftonline.com/{tenant}", resource="https://vault.azure.net"`
    — also for a body-less PUT, so challenge-first clients work), api-version (7.4, 7.5
    and newer; else 400 BadParameter), the caller's access (403 Forbidden with innererror
    ForbiddenByRbac / AccessDenied for denied principals), injected faults, then the
    operation: GET /secrets, GET /secrets/{n}/versions, GET /secrets/{n}[/[{v}]],
    PUT /secrets/{n}, DELETE /secrets/{n}. Other routes: 400 BadParameter.
  Key Vault answers carry x-ms-request-id, x-ms-keyvault-region and
  x-ms-keyvault-service-version.
- `dispatch_plain(...)`: what the plain-http port serves: IMDS and the control API
  (`/_emulator/…`, header `X-Emulator-Admin: 1`, else 404). Key Vault and Entra ID are
  never served over plain http (404 with a message saying so).
- Races: `race` {"name", "value"} makes another writer set `value` right after the next
  successful set of that name (a concurrent writer between a client's write and its
  re-check).
- Faults: {"target": op ("GetSecret", "SetSecret", "GetSecrets", "GetSecretVersions",
  "DeleteSecret", "token", "imds") or "*", "status" (429), "code" ("Throttled"),
  "message", "retry_after" (seconds; null: no Retry-After header, as AzureSignTool#219
  recorded), "count" (1)}.
- The request log keeps the last 10,000 requests: method, path, op, status, error code,
  whether Authorization was sent, api-version, request body length and the names of the
  body's members plus contentType and tags (never a value or a token).
"""

import json
import re
import uuid
from urllib.parse import parse_qs, unquote

from .errors import AadError, KvError, bad_parameter
from .identity import VAULT_RESOURCE, Identity
from .secrets import Secrets

MAX_LOG = 10000
API_VERSION = re.compile(r"^(\d+)\.(\d+)(-preview(\.\d+)?)?$")
THROTTLED = ("Request was not processed because too many requests were received. "
             "Reason: VaultRequestTypeLimitReached")


def _json(status, payload, extra=None):
    headers = {"Content-Type": "application/json; charset=utf-8"}
    headers.update(extra or {})
    return status, headers, json.dumps(payload).encode()


def api_version_ok(v):
    m = API_VERSION.match(v or "")
    if m:
        return (int(m.group(1)), int(m.group(2))) >= (7, 4)
    # date-style versions (2025-07-01 and later) follow 7.6
    return re.match(r"^20(2[5-9]|[3-9]\d)-\d\d-\d\d(-preview)?$", v or "") is not None


class Emulator:
    def __init__(self, tenant, clock, token_lifetime=3599):
        self.tenant = tenant
        self.wall = clock
        self.default_lifetime = token_lifetime
        self.reset()

    def now(self):
        return self.wall() + self.offset

    def reset(self):
        self.offset = 0.0
        self.token_lifetime = self.default_lifetime
        self.secrets = Secrets(self.now)
        self.identity = Identity(self)
        self.denied = {}  # principal -> innererror code
        self.races = {}   # lower name -> the body another writer sets right after the next set
        self.faults = []
        self.log = []
        self.challenge_authority = "https://login.microsoftonline.com"

    # -- https port --------------------------------------------------------------------------
    def dispatch_tls(self, method, path, query, headers, body, base):
        self.effects = {}
        status, out_headers, out = self._dispatch_tls(method, path, query, headers, body, base)
        out_headers.update(self.effects)  # transport faults, carried out by the server
        return status, out_headers, out

    def _dispatch_tls(self, method, path, query, headers, body, base):
        hmap = {k.lower(): v for k, v in headers}
        q = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        parts = [unquote(p) for p in path.split("/")[1:]]
        if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"] and method == "POST":
            return self._token(parts[0], hmap, body, base + path)
        if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"] \
                and method == "GET":
            self._record(method, path, "openid", 200, None, hmap, q, b"")
            return _json(200, self.identity.openid_configuration(base, parts[0]))
        if parts and parts[0] == "secrets":
            return self._vault(method, path, parts, q, hmap, body, base)
        return self._kv_error(method, path, "unknown", hmap, q, body,
                              KvError(404, "NotFound", "The requested resource was not found."))

    def _token(self, tenant, hmap, body, endpoint_url):
        try:
            self._fault("token")
            out = self.identity.token(tenant, hmap, body, endpoint_url)
            self._record("POST", "/%s/oauth2/v2.0/token" % tenant, "token", 200, None, hmap, {}, b"")
            return _json(200, out, {"Cache-Control": "no-store, no-cache"})
        except AadError as e:
            self._record("POST", "/%s/oauth2/v2.0/token" % tenant, "token", e.status, e.error,
                         hmap, {}, b"")
            return e.status, {"Content-Type": "application/json; charset=utf-8"}, e.body()
        except KvError as e:  # injected fault
            self._record("POST", "/%s/oauth2/v2.0/token" % tenant, "token", e.status, e.code,
                         hmap, {}, b"")
            headers = {"Content-Type": "application/json; charset=utf-8"}
            headers.update(e.headers)
            return e.status, headers, json.dumps({"error": "temporarily_unavailable",
                                                  "error_description": e.message}).encode()

    def _challenge(self):
        return 'Bearer authorization="%s/%s", resource="%s"' % (
            self.challenge_authority, self.tenant, VAULT_RESOURCE)

    def _route(self, method, parts):
        n = len(parts)
        if n == 1 and method == "GET":
            return "GetSecrets", None, None
        if n == 3 and parts[2] == "versions" and method == "GET":
            return "GetSecretVersions", parts[1], None
        if n == 2 and method == "PUT":
            return "SetSecret", parts[1], None
        if n == 2 and method == "DELETE":
            return "DeleteSecret", parts[1], None
        if n in (2, 3) and method == "GET":
            return "GetSecret", parts[1], parts[2] if n == 3 else ""
        return None, None, None

    def _vault(self, method, path, parts, q, hmap, body, base):
        op, name, version = self._route(method, parts)
        try:
            why = self.identity.check_bearer(hmap.get("authorization"), self.tenant)
            if why is not None:
                raise KvError(401, "Unauthorized", why, headers={"WWW-Authenticate": self._challenge()})
            api = q.get("api-version")
            if api is None:
                raise bad_parameter("The request URI does not contain an api-version; "
                                    "api-version is required.")
            if not api_version_ok(api):
                raise bad_parameter("The specified version (%s) is not recognized. Consider "
                                    "using the latest supported version (7.5)." % api)
            principal = self.identity.principal(hmap["authorization"])
            if principal in self.denied:
                inner = self.denied[principal]
                raise KvError(403, "Forbidden",
                              "Caller is not authorized to perform action on resource. "
                              "Caller: appid=%s. Action: 'Microsoft.KeyVault/vaults/secrets/"
                              "getSecret/action'." % principal if inner == "ForbiddenByRbac" else
                              "The user, group or application 'appid=%s' does not have secrets "
                              "get permission on key vault." % principal, inner)
            if op is None:
                raise bad_parameter("Method %s is not allowed on %s." % (method, path))
            self._fault(op)
            if op == "GetSecrets":
                out = self.secrets.list(base, q, api)
            elif op == "GetSecretVersions":
                out = self.secrets.versions(base, name, q, api)
            elif op == "SetSecret":
                if "application/json" not in hmap.get("content-type", ""):
                    raise bad_parameter("The request content type must be application/json.")
                out = self.secrets.set(base, name, body)
                race = self.races.pop(name.lower(), None)
                if race is not None:  # another writer lands right after this one
                    self.secrets.set(base, name, json.dumps(race).encode())
            elif op == "DeleteSecret":
                out = self.secrets.delete(base, name)
            else:
                out = self.secrets.get(base, name, version)
            self._record(method, path, op, 200, None, hmap, q, body)
            return _json(200, out, self._kv_headers())
        except KvError as e:
            return self._kv_error(method, path, op, hmap, q, body, e)

    def _kv_headers(self):
        return {"x-ms-request-id": str(uuid.uuid4()), "x-ms-keyvault-region": "westeurope",
                "x-ms-keyvault-service-version": "1.9.1234.1"}

    def _kv_error(self, method, path, op, hmap, q, body, e):
        self._record(method, path, op, e.status, e.code, hmap, q, body)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        headers.update(self._kv_headers())
        headers.update(e.headers)
        return e.status, headers, e.body()

    def _fault(self, op):
        for f in self.faults:
            if f["count"] > 0 and f["target"] in ("*", op):
                f["count"] -= 1
                if f["delay_ms"] or f["truncate"]:
                    self.effects = {"_delay_ms": f["delay_ms"], "_truncate": f["truncate"]}
                    return
                headers = {}
                if f["retry_after"] is not None:
                    headers["Retry-After"] = str(f["retry_after"])
                raise KvError(f["status"], f["code"], f["message"], headers=headers)

    def _record(self, method, path, op, status, code, hmap, q, body):
        entry = {"method": method, "path": path, "op": op, "status": status, "error": code,
                 "authorization": "authorization" in hmap, "api_version": q.get("api-version"),
                 "body_length": len(body or b""), "query": sorted(q)}
        if body and op == "SetSecret":
            try:
                req = json.loads(body)
                entry["members"] = sorted(req) if isinstance(req, dict) else None
                if isinstance(req, dict):
                    entry["contentType"] = req.get("contentType")
                    entry["tags"] = req.get("tags")
            except ValueError:
                entry["members"] = None
        self.log.append(entry)
        del self.log[:-MAX_LOG]

    # -- plain http port ----------------------------------------------------------------------
    def dispatch_plain(self, method, path, query, headers, body):
        hmap = {k.lower(): v for k, v in headers}
        q = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if path.startswith("/_emulator/"):
            if hmap.get("x-emulator-admin") != "1":
                return _json(404, {"message": "not found"})
            return self.control(method, path[len("/_emulator/"):], body)
        if path.rstrip("/") == "/metadata/identity/oauth2/token" and method == "GET":
            try:
                self._fault("imds")
            except KvError as e:
                self._record(method, path, "imds", e.status, e.code, hmap, q, b"")
                headers = {"Content-Type": "application/json; charset=utf-8"}
                headers.update(e.headers)
                return e.status, headers, json.dumps({"error": "throttled",
                                                      "error_description": e.message}).encode()
            status, out = self.identity.imds(hmap, q)
            self._record(method, path, "imds", status, out.get("error"), hmap, q, b"")
            return _json(status, out)
        self._record(method, path, "plain-http", 404, "PlainHttp", hmap, q, body)
        return 404, {"Content-Type": "text/plain"}, (
            b"Key Vault and Entra ID are served over https only; this port serves IMDS "
            b"and the control API\n")

    # -- control API --------------------------------------------------------------------------
    def control(self, method, name, body):
        try:
            req = json.loads(body or b"{}") if method == "POST" else {}
            if not isinstance(req, dict):
                raise ValueError("the body must be a JSON object")
            return _json(200, self._control(method, name, req))
        except (ValueError, KeyError, TypeError, KvError) as e:
            return _json(400, {"message": "%s: %s" % (type(e).__name__, e)})

    def _control(self, method, name, req):
        if method == "GET" and name == "requests":
            return {"requests": self.log}
        if method == "GET" and name == "token-requests":
            return {"requests": self.identity.token_requests}
        if method == "GET" and name == "info":
            return self.info
        if method != "POST":
            raise ValueError("unknown control endpoint %s %s" % (method, name))
        if name == "reset":
            self.reset()
            return {"ok": True}
        if name == "apps":
            self.identity.register_app(req["client_id"], req.get("tenant", self.tenant),
                                       req.get("client_secret"), req.get("certificate_pem"),
                                       req.get("federated_token"))
            return {"ok": True}
        if name == "managed-identity":
            self.identity.managed = {"client_id": req["client_id"],
                                     "tenant": req.get("tenant", self.tenant)}
            return {"ok": True}
        if name == "token":  # a token for tests that need no token flow
            life = req.get("expires_in")
            token = self.identity.issue(req.get("tenant", self.tenant),
                                        req.get("audience", VAULT_RESOURCE),
                                        req.get("principal", "test"))
            if life is not None:
                self.identity.tokens[token]["expires"] = self.now() + float(life)
            return {"access_token": token}
        if name == "expire-tokens":
            self.identity.expire_all()
            return {"ok": True}
        if name == "token-lifetime":
            self.token_lifetime = float(req["seconds"])
            return {"ok": True}
        if name == "secrets":
            base = self.info["vault_url"]
            doc = {"value": req["value"]}
            for k in ("contentType", "tags"):
                if k in req:
                    doc[k] = req[k]
            return self.secrets.set(base, req["name"], json.dumps(doc).encode())
        if name == "peek":  # the current version as stored (tests only; never logged)
            s = self.secrets.store.get(req["name"].lower())
            if s is None:
                raise ValueError("no secret %s" % req["name"])
            v = s["versions"][-1]
            return {"value": v["value"], "contentType": v["contentType"], "tags": v["tags"],
                    "version": v["id"], "versions": len(s["versions"])}
        if name == "race":
            self.races[req["name"].lower()] = {"value": req["value"]}
            return {"ok": True}
        if name == "deny":
            self.denied[req["principal"]] = req.get("inner", "ForbiddenByRbac")
            return {"ok": True}
        if name == "faults":
            self.faults.append({"target": req.get("target", "*"),
                                "status": int(req.get("status", 429)),
                                "code": req.get("code", "Throttled"),
                                "message": req.get("message", THROTTLED),
                                "count": int(req.get("count", 1)),
                                "retry_after": req.get("retry_after"),
                                "delay_ms": int(req.get("delay_ms", 0)),
                                "truncate": bool(req.get("truncate", False))})
            return {"ok": True}
        if name == "nextlink-host":
            self.secrets.nextlink_host = req.get("host")
            return {"ok": True}
        if name == "challenge-authority":
            self.challenge_authority = req["authority"]
            return {"ok": True}
        if name == "clock":
            self.offset = float(req["offset"])
            return {"ok": True}
        raise ValueError("unknown control endpoint %s" % name)
