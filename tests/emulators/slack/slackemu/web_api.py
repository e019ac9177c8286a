"""The Web API: POST /api/chat.postMessage and /api/auth.test.

Contract (reference/provider-apis.md §6.2):
- API-level errors are HTTP 200 {"ok": false, "error": code}; only rate limiting is
  HTTP 429 {"ok": false, "error": "ratelimited"} with Retry-After (seconds). An unknown
  method is HTTP 404 {"ok": false, "error": "unknown_method"}.
- Only POST (else "invalid_post_type"). Content types: application/json (a token only
  in `Authorization: Bearer`; without `charset` the answer carries
  "warning": "missing_charset" and response_metadata.warnings) or
  application/x-www-form-urlencoded (the token in the header or a `token` field).
  Anything else: "invalid_post_type"; bad JSON "invalid_json"; not an object
  "json_not_object".
- Auth first: no token "not_authed"; a token not accepted (constant-time compare against
  every accepted token) "invalid_auth". Then faults, then the rate limit (per method:
  chat.postMessage per channel, auth.test per token).
- chat.postMessage: channel missing or unknown "channel_not_found"; the bot not a member
  "not_in_channel"; archived "is_archived"; message rules of message.py
  (invalid_blocks with "errors" and response_metadata.messages, no_text, msg_too_long,
  invalid_thread_ts); a thread_ts must name a top-level message of that channel, else
  "thread_not_found". Success: {"ok":true,"channel","ts","message":{...}}.
"""

import hmac

from .answers import api_answer
from .message import logged_message, message_error, media_type, parse_body

BOT = {"user_id": "U0EMULBOT", "bot_id": "B0EMULBOT", "team_id": "T0000EMUL"}


class ApiError(Exception):
    def __init__(self, code, status=200, extra=None, headers=None):
        super().__init__(code)
        self.code, self.status = code, status
        self.extra, self.headers = dict(extra or {}), dict(headers or {})


class WebApi:
    def __init__(self, emu):
        self.emu = emu

    def handle(self, method, name, hmap, body, entry):
        entry["target"] = name
        warnings = []
        try:
            if name not in ("chat.postMessage", "auth.test"):
                raise ApiError("unknown_method", status=404)
            if method != "POST":
                raise ApiError("invalid_post_type")
            ctype = hmap.get("content-type", "")
            args = {}
            if body or media_type(ctype) == "application/json":
                args, why = parse_body(ctype, body)
                if args is None:
                    raise ApiError(why)
            if media_type(ctype) == "application/json" and "charset" not in ctype.lower():
                warnings.append("missing_charset")
            token = self._authenticate(hmap, args, media_type(ctype), entry)
            self._fault(name)
            key = args.get("channel") if name == "chat.postMessage" else token
            wait = self.emu.limits.take(name, str(key), self.emu.now())
            if wait:
                raise ApiError("ratelimited", status=429, headers={"Retry-After": str(wait)})
            payload = self._post_message(args) if name == "chat.postMessage" else self._auth_test()
            return api_answer(200, dict({"ok": True}, **payload), warnings)
        except ApiError as e:
            entry["error"] = e.code
            return api_answer(e.status, dict({"ok": False, "error": e.code}, **e.extra), warnings,
                              e.headers)

    def _authenticate(self, hmap, args, kind, entry):
        auth = hmap.get("authorization", "")
        presented = None
        if auth[:7].lower() == "bearer ":
            presented, entry["auth"] = auth[7:].strip(), "bearer"
        elif kind == "application/x-www-form-urlencoded" and args.get("token"):
            presented, entry["auth"] = args["token"], "form"
        if not presented:
            raise ApiError("not_authed")
        found = False
        for t in sorted(self.emu.tokens):  # every token is compared: no early exit
            found |= hmac.compare_digest(t.encode(), presented.encode())
        if not found:
            raise ApiError("invalid_auth")
        return presented

    def _fault(self, name):
        f = self.emu.faults.take(name)
        if f is None:
            return
        headers = {"Retry-After": str(f["retry_after"])} if f["retry_after"] is not None else {}
        if f["status"] == 429:
            raise ApiError(f["error"] or "ratelimited", status=429, headers=headers)
        raise ApiError(f["error"] or ("internal_error" if f["status"] >= 500 else "fatal_error"),
                       status=f["status"], headers=headers)

    def _post_message(self, args):
        channel = self.emu.channels.get(args.get("channel") or "")
        if channel is None:
            raise ApiError("channel_not_found")
        if channel.archived:
            raise ApiError("is_archived")
        if not channel.member:
            raise ApiError("not_in_channel")
        problem = message_error(args)
        if problem:
            code, details = problem
            extra = {"errors": details,
                     "response_metadata": {"messages": ["[ERROR] " + d for d in details]}} \
                if code == "invalid_blocks" else {}
            raise ApiError(code, extra=extra)
        thread_ts = args.get("thread_ts")
        if thread_ts and not any(m["channel"] == channel.id and m["ts"] == thread_ts and
                                 not m["thread_ts"] for m in self.emu.messages):
            raise ApiError("thread_not_found")
        ts = self.emu.next_ts()
        self.emu.record_message(logged_message("api", channel.id, ts, args))
        message = {"type": "message", "text": args.get("text", ""), "user": BOT["user_id"],
                   "bot_id": BOT["bot_id"], "team": BOT["team_id"], "ts": ts}
        if args.get("blocks") is not None:
            message["blocks"] = args["blocks"]
        if thread_ts:
            message["thread_ts"] = thread_ts
        return {"channel": channel.id, "ts": ts, "message": message}

    @staticmethod
    def _auth_test():
        return {"url": "https://emulator.slack.com/", "team": "Emulator", "user": "sbridge",
                "team_id": BOT["team_id"], "user_id": BOT["user_id"], "bot_id": BOT["bot_id"],
                "is_enterprise_install": False}
