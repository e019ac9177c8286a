"""State, request pipeline and control API (/_emulator/...) of the Slack emulator.

Contract:
- `Emulator.dispatch(method, path, query, headers, body)` -> (status, headers, body).
  /_emulator/ is the control API (needs `X-Emulator-Admin: 1`, else 404). Otherwise:
  - `POST /services/{team}/{bot}/{secret}`: an incoming webhook (webhook.py rules);
  - `POST /api/{method}`: the Web API (web_api.py rules); an unknown method is HTTP
    404 {"ok":false,"error":"unknown_method"}; anything else is 404 plain text.
- Every request goes to the request log (last 10,000): method, the route (a webhook as
  /services/T…/B…/[secret] — the hook's secret part is never logged), target, status,
  error, how the caller authenticated (bearer, form, hook, none) — never a token.
- Every posted message goes to the message log: via (api|webhook), channel, ts,
  thread_ts, text, blocks, unfurl flags, the raw JSON body keys.
- Control endpoints: POST reset | tokens {"token"} | hooks {"path","channel"[, "team"]}
  | channels {"id"[, "member", "archived", "name"]} | faults {"target", "status",
  "error", "retry_after", "count"} | rate-limits {"target", "per_second", "burst"} |
  clock {"advance"} ; GET requests | messages | now.
"""

import json
import time

from .answers import api_answer
from .limits import Faults, RateLimits
from .web_api import WebApi
from .webhook import Webhooks

MAX_LOG = 10000
DEFAULT_TOKEN = "xoxb-0000000001-emulator-token"
DEFAULT_CHANNEL = "C0EMULATOR1"
DEFAULT_HOOK = "T0000EMUL/B0000HOOK/emulatorhooksecret0001"


class Channel:
    def __init__(self, cid, name=None, member=True, archived=False):
        self.id, self.name = cid, name or cid.lower()
        self.member, self.archived = bool(member), bool(archived)


class Emulator:
    def __init__(self, token=DEFAULT_TOKEN, hook=DEFAULT_HOOK, clock=time.time):
        self.default_token, self.default_hook = token, hook
        self.wall = clock
        self.reset()

    def now(self):
        return self.wall() + self.offset

    def reset(self):
        self.offset = 0.0
        self.tokens = {self.default_token}
        self.channels = {DEFAULT_CHANNEL: Channel(DEFAULT_CHANNEL, "general")}
        self.hooks = {}
        self.webhooks = Webhooks(self)
        self.webhooks.add(self.default_hook, DEFAULT_CHANNEL)
        self.api = WebApi(self)
        self.limits = RateLimits()
        self.faults = Faults()
        self.log, self.messages = [], []
        self.last_ts = 0.0

    def next_ts(self):
        """A message ts: "seconds.microseconds", strictly increasing."""
        ts = max(round(self.now(), 6), round(self.last_ts + 0.000001, 6))
        self.last_ts = ts
        return "%.6f" % ts

    def record_message(self, entry):
        self.messages.append(entry)
        del self.messages[:-MAX_LOG]

    # -- pipeline --------------------------------------------------------------------------------
    def dispatch(self, method, path, query, headers, body=b""):
        hmap = {}
        for k, v in headers:
            hmap.setdefault(k.lower(), v)
        if path.startswith("/_emulator/"):
            if hmap.get("x-emulator-admin") != "1":
                return 404, {"Content-Type": "text/plain"}, b"not found"
            return self.control(method, path[len("/_emulator/"):], body)
        entry = {"method": method, "path": path, "auth": "none", "status": 404, "error": None,
                 "at": round(time.monotonic(), 3)}
        try:
            if path.startswith("/services/"):
                answer = self.webhooks.handle(method, path[len("/services/"):], hmap, body, entry)
            elif path.startswith("/api/"):
                answer = self.api.handle(method, path[len("/api/"):], hmap, body, entry)
            else:
                answer = 404, {"Content-Type": "text/plain"}, b"not found"
            entry["status"] = answer[0]
            return answer
        finally:
            self.log.append(entry)
            del self.log[:-MAX_LOG]

    # -- control API -----------------------------------------------------------------------------
    def control(self, method, name, body):
        try:
            req = json.loads(body or b"{}") if method == "POST" else {}
            if not isinstance(req, dict):
                raise ValueError("the body must be a JSON object")
            return api_answer(200, self._control(method, name, req))
        except (ValueError, KeyError, TypeError) as e:
            return api_answer(400, {"message": "%s: %s" % (type(e).__name__, e)})

    def _control(self, method, name, req):
        if method == "GET":
            if name == "requests":
                return {"requests": self.log}
            if name == "messages":
                return {"messages": self.messages}
            if name == "now":
                return {"now": self.now()}
            raise ValueError("unknown control endpoint GET %s" % name)
        if method != "POST":
            raise ValueError("unknown control endpoint %s %s" % (method, name))
        if name == "reset":
            self.reset()
        elif name == "tokens":
            if not isinstance(req["token"], str) or not req["token"]:
                raise ValueError("token must be a non-empty string")
            (self.tokens.discard if req.get("revoke") else self.tokens.add)(req["token"])
        elif name == "channels":
            ch = Channel(req["id"], req.get("name"), req.get("member", True),
                         req.get("archived", False))
            if req.get("delete"):
                self.channels.pop(ch.id, None)
            else:
                self.channels[ch.id] = ch
        elif name == "hooks":
            self.webhooks.add(req["path"], req.get("channel", DEFAULT_CHANNEL),
                              disabled=bool(req.get("disabled")))
        elif name == "faults":
            self.faults.add(req)
        elif name == "rate-limits":
            self.limits.configure(req["target"], float(req["per_second"]), int(req.get("burst", 1)))
        elif name == "clock":
            self.offset += float(req["advance"])
        else:
            raise ValueError("unknown control endpoint %s" % name)
        return {"ok": True}
