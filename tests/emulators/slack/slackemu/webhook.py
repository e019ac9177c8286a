"""Incoming webhooks: POST /services/{team}/{bot}/{secret}.

Contract (reference/provider-apis.md §6.1):
- The URL is the credential: no Authorization header is needed or read. The secret part
  is compared in constant time; an unknown or disabled hook is 404 "no_service" (a hook
  of an unknown team is 404 "no_team"). Only POST (else 405 "invalid_method").
- The body is JSON (application/json) or a form with `payload=<JSON>`; anything else,
  or JSON that is not an object, is 400 "invalid_payload". Message rules in message.py:
  400 "invalid_blocks" / "no_text"; 400 "msg_too_long".
- The hook's channel: deleted -> 404 "channel_not_found"; archived -> 410
  "channel_is_archived". Faults and the rate limit (about 1 per second per hook; 429
  with Retry-After, body "rate_limited") come before the message is accepted.
- Success is HTTP 200 with the plain-text body "ok". Every answer is text/html, as
  Slack sends it.
"""

import hmac
import json

from .message import logged_message, message_error, parse_body


def _text(status, body, extra=None):
    headers = {"Content-Type": "text/html"}
    headers.update(extra or {})
    return status, headers, body.encode()


class Hook:
    def __init__(self, team, bot, secret, channel, disabled=False):
        self.team, self.bot, self.secret = team, bot, secret.encode()
        self.channel, self.disabled = channel, disabled


class Webhooks:
    def __init__(self, emu):
        self.emu = emu
        self.hooks = []

    def add(self, path, channel, disabled=False):
        parts = path.strip("/").split("/")
        if parts[0] == "services":
            parts = parts[1:]
        if len(parts) != 3 or not all(parts):
            raise ValueError("a hook path is T…/B…/secret")
        self.hooks = [h for h in self.hooks if (h.team, h.bot) != (parts[0], parts[1])]
        self.hooks.append(Hook(parts[0], parts[1], parts[2], channel, disabled))

    def _find(self, parts):
        team, bot, secret = parts
        found, team_known = None, False
        for h in self.hooks:  # every hook is compared: no early exit on a match
            team_known |= h.team == team
            if h.team == team and h.bot == bot and hmac.compare_digest(h.secret, secret.encode()):
                found = found or h
        return found, team_known

    def handle(self, method, rest, hmap, body, entry):
        parts = rest.split("/")
        entry["path"] = "/services/%s/%s/[secret]" % (parts[0][:16], parts[1][:16] if len(parts) > 1 else "")
        entry["target"] = "webhook"
        if len(parts) != 3:
            return self._fail(entry, 404, "no_service")
        hook, team_known = self._find(parts)
        if hook is None or hook.disabled:
            return self._fail(entry, 404, "no_service" if team_known or hook else "no_team")
        entry["auth"] = "hook"
        if method != "POST":
            return self._fail(entry, 405, "invalid_method")
        fault = self.emu.faults.take("webhook")
        if fault:
            extra = {"Retry-After": str(fault["retry_after"])} if fault["retry_after"] is not None else {}
            default = "rate_limited" if fault["status"] == 429 else "rollup_error"
            return self._fail(entry, fault["status"], fault["error"] or default, extra)
        wait = self.emu.limits.take("webhook", hook.bot, self.emu.now())
        if wait:
            return self._fail(entry, 429, "rate_limited", {"Retry-After": str(wait)})
        msg, why = parse_body(hmap.get("content-type"), body)
        if msg is not None and "payload" in msg and "text" not in msg and "blocks" not in msg:
            try:
                msg = json.loads(msg["payload"])
            except ValueError:
                msg = None
            if not isinstance(msg, dict):
                msg = None
        if msg is None:
            return self._fail(entry, 400, "invalid_payload")
        problem = message_error(msg)
        if problem:
            return self._fail(entry, 400, problem[0])
        channel = self.emu.channels.get(hook.channel)
        if channel is None:
            return self._fail(entry, 404, "channel_not_found")
        if channel.archived:
            return self._fail(entry, 410, "channel_is_archived")
        ts = self.emu.next_ts()
        logged = logged_message("webhook", channel.id, ts, msg)
        logged["hook"] = hook.bot
        self.emu.record_message(logged)
        return _text(200, "ok")

    @staticmethod
    def _fail(entry, status, code, extra=None):
        entry["error"] = code
        return _text(status, code, extra)
