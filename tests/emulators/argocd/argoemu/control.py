"""The emulator's state, request pipeline and control API (/_emulator/...).

Contract:
- `Emulator.dispatch(method, path, query, headers, body)` -> (status, headers, body).
  /_emulator/ is the control API (needs `X-Emulator-Admin: 1`, else 404). Every other
  path is the Argo CD API, checked in this order:
    1. read-only: any method but GET is refused (405, grpc code 12) and logged with
       `refused: true` — the plugin must never send one;
    2. auth: `Authorization: Bearer <token>` or cookie `argocd.token`; none -> 401
       "no session information"; a token that is not accepted -> 401 "invalid session:
       token signature is invalid"; an expired one -> 401 "invalid session: token is
       expired". Tokens are compared in constant time against every accepted token;
    3. injected faults; 4. the route.
- Routes: GET /api/version; GET /api/v1/applications[?projects=&project=&name=] (sorted
  by name; only apps the token's projects cover; `projects` and the legacy `project`
  filter alike and may repeat; an empty list is `"items": null`);
  GET /api/v1/applications/{name}[?project=&appNamespace=&refresh=normal|hard] and
  GET /api/v1/applications/{name}/resource-tree (same query rules). An app that does
  not exist, or that the token's projects do not cover, is 403 "permission denied"
  unless `project` is given: then a missing app in a readable project is 404
  (NotFound) and an app of another project is 403. `refresh` other than normal/hard
  is 400; with a valid refresh reconciledAt moves to now.
- The request log keeps the last 10,000 requests: method, path, query, status, grpc
  code, how the client authenticated (bearer/cookie/none), refused — never a token.
"""

import hmac
import json
import time
import urllib.parse

from .apps import App, make_rng
from .errors import ArgoError, error_body, not_found, permission_denied, unauthenticated

MAX_LOG = 10000
APP_PREFIX = "/api/v1/applications/"


def _json(status, payload, extra=None):
    headers = {"Content-Type": "application/json"}
    headers.update(extra or {})
    return status, headers, json.dumps(payload).encode()


class Token:
    def __init__(self, value, projects=None, expired=False):
        self.value, self.projects, self.expired = value.encode(), projects, expired

    def may_read(self, project):
        return self.projects is None or project in self.projects


class Emulator:
    def __init__(self, token, clock, seed=None):
        self.default_token = token
        self.wall = clock
        self.seed = seed
        self.reset()

    def now(self):
        return self.wall() + self.offset

    def reset(self):
        self.offset = 0.0
        self.rng = make_rng(self.seed)
        self.tokens = [Token(self.default_token)]
        self.apps = {}
        self.faults = []
        self.log = []

    # -- pipeline -----------------------------------------------------------------------------
    def dispatch(self, method, path, query, headers, body=b""):
        hmap = {}
        for k, v in headers:
            hmap.setdefault(k.lower(), v)
        if path.startswith("/_emulator/"):
            if hmap.get("x-emulator-admin") != "1":
                return _json(404, {"message": "not found"})
            return self.control(method, path[len("/_emulator/"):], body)
        entry = {"method": method, "path": path, "query": query, "auth": "none",
                 "refused": False, "at": round(time.monotonic(), 3)}
        try:
            if method != "GET":
                entry["refused"] = True
                raise ArgoError(405, "method %s refused: the emulator serves a read-only "
                                "(GET only) client" % method[:16])
            token = self._authenticate(hmap, entry)
            self._fault(path)
            status, payload = self._route(path, urllib.parse.parse_qs(query), token)
            entry.update(status=status, code=0)
            return _json(status, payload)
        except ArgoError as err:
            entry.update(status=err.status, code=err.code)
            headers = {"Content-Type": "application/json"}
            headers.update(err.headers)
            return err.status, headers, error_body(err)
        finally:
            self.log.append(entry)
            del self.log[:-MAX_LOG]

    def _authenticate(self, hmap, entry):
        presented = None
        auth = hmap.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            presented, entry["auth"] = auth[7:].strip(), "bearer"
        else:
            for part in hmap.get("cookie", "").split(";"):
                name, _, value = part.strip().partition("=")
                if name == "argocd.token" and value:
                    presented, entry["auth"] = value, "cookie"
        if not presented:
            raise unauthenticated()
        found = None
        raw = presented.encode()
        for t in self.tokens:  # every token is compared: no early exit on a match
            if hmac.compare_digest(raw, t.value) and found is None:
                found = t
        if found is None:
            raise unauthenticated("invalid session: token signature is invalid")
        if found.expired:
            raise unauthenticated("invalid session: token is expired")
        return found

    def _fault(self, path):
        target = "resource-tree" if path.endswith("/resource-tree") else \
            "application" if path.startswith(APP_PREFIX) else \
            "list" if path == "/api/v1/applications" else "other"
        for f in self.faults:
            if f["count"] > 0 and f["target"] in ("*", target):
                f["count"] -= 1
                headers = {}
                if f["retry_after"] is not None:
                    headers["Retry-After"] = str(f["retry_after"])
                raise ArgoError(f["status"], f["message"], headers=headers)

    def _route(self, path, q, token):
        if path == "/api/version":
            return 200, {"Version": "v2.13.0+emulator"}
        if path == "/api/v1/applications":
            return 200, self._list(q, token)
        if path.startswith(APP_PREFIX):
            rest = path[len(APP_PREFIX):]
            name, _, sub = rest.partition("/")
            name = urllib.parse.unquote(name)
            if sub not in ("", "resource-tree"):
                raise ArgoError(404, "Not Found")
            app = self._visible_app(name, q, token)
            refresh = q.get("refresh", [None])[0]
            if refresh is not None:
                if refresh not in ("normal", "hard"):
                    raise ArgoError(400, 'unknown refresh type "%s"' % refresh[:32])
                app.reconciled_at = self.now()
            return 200, (app.tree_json() if sub else app.application_json())
        raise ArgoError(404, "Not Found")

    def _visible_app(self, name, q, token):
        project = q.get("project", [None])[0]
        app_ns = q.get("appNamespace", [None])[0]
        app = self.apps.get(name)
        if app_ns not in (None, "", "argocd"):
            raise permission_denied()
        if project is None:
            if app is None or not token.may_read(app.project):
                raise permission_denied()
        else:
            if not token.may_read(project):
                raise permission_denied()
            if app is None:
                raise not_found(name)
            if app.project != project:
                raise permission_denied()
        app.advance(self.now())
        return app

    def _list(self, q, token):
        projects = set(q.get("projects", []) + q.get("project", []))
        names = set(q.get("name", []))
        items = []
        for app in sorted(self.apps.values(), key=lambda a: a.name):
            if not token.may_read(app.project) or (projects and app.project not in projects) \
                    or (names and app.name not in names):
                continue
            app.advance(self.now())
            items.append(app.application_json())
        # grpc-gateway renders an empty repeated field as null, as Argo CD does
        return {"metadata": {"resourceVersion": str(len(self.log))}, "items": items or None}

    # -- control API ----------------------------------------------------------------------------
    def control(self, method, name, body):
        try:
            req = json.loads(body or b"{}") if method == "POST" else {}
            if not isinstance(req, dict):
                raise ValueError("the body must be a JSON object")
            return _json(200, self._control(method, name, req))
        except (ValueError, KeyError, TypeError) as e:
            return _json(400, {"message": "%s: %s" % (type(e).__name__, e)})

    def _start(self, req):
        if "start_at" in req:
            return float(req["start_at"])
        return self.now() + float(req.get("start_in", 0))

    def _control(self, method, name, req):
        if method == "GET" and name == "requests":
            return {"requests": self.log}
        if method == "GET" and name == "now":
            return {"now": self.now()}
        if method != "POST":
            raise ValueError("unknown control endpoint %s %s" % (method, name))
        if name == "reset":
            self.reset()
            return {"ok": True}
        if name == "apps":
            deployments = req.get("deployments", [{"name": "web", "replicas": 2}])
            if not deployments:
                raise ValueError("an app needs at least one deployment")
            app = App(req["name"], req.get("project", "default"), req.get("namespace", "default"),
                      deployments, self.now(), float(req.get("created_ago", 3600)), self.rng)
            self.apps[app.name] = app
            return {"ok": True, "sync_revision": app.sync_revision}
        if name == "rollout":
            app = self.apps[req["app"]]
            app.rollout(req.get("deployment"), self._start(req), float(req.get("pods_after", 1)),
                        float(req.get("ready_after", 2)), req.get("outcome", "healthy"),
                        req.get("revision"))
            return {"ok": True}
        if name == "fail-operation":
            app = self.apps[req["app"]]
            app.fail_operation(self._start(req), float(req.get("ready_after", 1)),
                               req.get("message", "one or more objects failed to apply"))
            return {"ok": True}
        if name == "tokens":
            value = req["token"]
            if not isinstance(value, str) or not value:
                raise ValueError("token must be a non-empty string")
            self.tokens = [t for t in self.tokens if not hmac.compare_digest(t.value,
                                                                             value.encode())]
            self.tokens.append(Token(value, req.get("projects"), bool(req.get("expired"))))
            return {"ok": True}
        if name == "faults":
            self.faults.append({"target": req.get("target", "*"),
                                "status": int(req.get("status", 503)),
                                "message": req.get("message", "service unavailable"),
                                "count": int(req.get("count", 1)),
                                "retry_after": req.get("retry_after")})
            return {"ok": True}
        if name == "clock":
            if "advance" in req:
                self.offset += float(req["advance"])
            else:
                self.offset = float(req["offset"])
            return {"ok": True, "now": self.now()}
        raise ValueError("unknown control endpoint %s" % name)
