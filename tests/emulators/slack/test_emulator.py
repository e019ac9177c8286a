"""Unit tests of the Slack emulator over real HTTP on loopback (python3 -m unittest).

Rate-limit buckets refill on the emulator's clock, which the control API moves, so
the tests never sleep.
"""

import http.client
import json
import pathlib
import sys
import threading
import unittest
import urllib.parse

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # emucommon
sys.path.insert(0, str(HERE))

from slackemu.server import make_server  # noqa: E402

TOKEN = "xoxb-test-0123456789"
HOOK = "T0TEST/B0TEST/hooksecret0123"
CHANNEL = "C0EMULATOR1"
JSON_UTF8 = "application/json; charset=utf-8"


def section(text):
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


class EmulatorCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = make_server("127.0.0.1", 0, TOKEN, HOOK)
        cls.emu = cls.server.emulator
        cls.port = cls.server.server_address[1]
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        self.emu.reset()

    def raw(self, method, path, headers=None, body=b""):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        out = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, out

    def api(self, method, args, token=TOKEN, ctype=JSON_UTF8):
        headers = {"Content-Type": ctype}
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        body = json.dumps(args).encode() if "json" in ctype else \
            urllib.parse.urlencode(args).encode()
        status, h, out = self.raw("POST", "/api/" + method, headers, body)
        return status, h, json.loads(out)

    def post(self, args, **kw):
        return self.api("chat.postMessage", args, **kw)

    def hook(self, payload, path=HOOK, ctype="application/json"):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        status, h, out = self.raw("POST", "/services/" + path, {"Content-Type": ctype}, body)
        return status, h, out.decode()

    def admin(self, name, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        status, _, out = self.raw("POST" if body is not None else "GET", "/_emulator/" + name,
                                  {"X-Emulator-Admin": "1"}, data)
        self.assertEqual(status, 200, out)
        return json.loads(out)

    def messages(self):
        return self.admin("messages")["messages"]


class WebApiAuth(EmulatorCase):
    def test_no_token_is_not_authed_and_a_wrong_one_invalid_auth_both_http_200(self):
        self.assertEqual(self.post({"channel": CHANNEL, "text": "x"}, token=None)[::2],
                         (200, {"ok": False, "error": "not_authed"}))
        self.assertEqual(self.post({"channel": CHANNEL, "text": "x"}, token="xoxb-nope")[::2],
                         (200, {"ok": False, "error": "invalid_auth"}))
        self.assertEqual(self.messages(), [])

    def test_form_bodies_may_carry_the_token(self):
        status, _, doc = self.post({"channel": CHANNEL, "text": "hi", "token": TOKEN}, token=None,
                                   ctype="application/x-www-form-urlencoded")
        self.assertEqual((status, doc["ok"]), (200, True), doc)
        log = self.admin("requests")["requests"]
        self.assertEqual(log[-1]["auth"], "form")
        self.assertNotIn(TOKEN, json.dumps(log))

    def test_auth_test_names_the_bot(self):
        _, _, doc = self.api("auth.test", {})
        self.assertEqual((doc["ok"], doc["bot_id"], doc["team_id"]), (True, "B0EMULBOT", "T0000EMUL"))

    def test_unknown_method_is_404_unknown_method(self):
        status, _, doc = self.api("chat.nope", {})
        self.assertEqual((status, doc), (404, {"ok": False, "error": "unknown_method"}))


class PostMessage(EmulatorCase):
    def test_success_returns_channel_ts_and_message_and_is_logged(self):
        status, h, doc = self.post({"channel": CHANNEL, "text": "hello", "blocks": [section("*hi*")]})
        self.assertEqual(status, 200)
        self.assertTrue(h["content-type"].startswith("application/json"))
        self.assertTrue(doc["ok"])
        self.assertEqual(doc["channel"], CHANNEL)
        self.assertRegex(doc["ts"], r"^\d+\.\d{6}$")
        self.assertEqual(doc["message"]["ts"], doc["ts"])
        self.assertNotIn("warning", doc)
        [m] = self.messages()
        self.assertEqual((m["via"], m["channel"], m["ts"], m["text"], m["thread_ts"]),
                         ("api", CHANNEL, doc["ts"], "hello", None))

    def test_missing_charset_adds_the_warning(self):
        _, _, doc = self.post({"channel": CHANNEL, "text": "x"}, ctype="application/json")
        self.assertEqual((doc["ok"], doc["warning"], doc["response_metadata"]["warnings"]),
                         (True, "missing_charset", ["missing_charset"]))

    def test_channel_errors(self):
        self.admin("channels", {"id": "C0OUTSIDE1", "member": False})
        self.admin("channels", {"id": "C0ARCHIVE1", "archived": True})
        for channel, code in (("C0MISSING1", "channel_not_found"), ("C0OUTSIDE1", "not_in_channel"),
                              ("C0ARCHIVE1", "is_archived"), (None, "channel_not_found")):
            args = {"text": "x"} if channel is None else {"channel": channel, "text": "x"}
            self.assertEqual(self.post(args)[::2], (200, {"ok": False, "error": code}), channel)

    def test_body_errors(self):
        status, _, out = self.raw("POST", "/api/chat.postMessage",
                                  {"Authorization": "Bearer " + TOKEN, "Content-Type": JSON_UTF8},
                                  b"{not json")
        self.assertEqual(json.loads(out)["error"], "invalid_json")
        self.assertEqual(self.post({"channel": CHANNEL})[2]["error"], "no_text")
        self.assertEqual(self.post({"channel": CHANNEL, "text": "x" * 40001})[2]["error"],
                         "msg_too_long")
        self.assertEqual(self.post({"channel": CHANNEL, "text": "x"}, ctype="text/plain")[2]["error"],
                         "invalid_post_type")

    def test_block_kit_limits_are_enforced_with_slack_error_shape(self):
        cases = [
            [section("x" * 3001)],
            [section("x")] * 51,
            [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}],
            [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
            [{"type": "bogus"}],
            [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "colour": "red"}],
            [{"type": "actions", "elements": [{"type": "button", "url": "ftp://x",
                                               "text": {"type": "plain_text", "text": "go"}}]}],
        ]
        for blocks in cases:
            _, _, doc = self.post({"channel": CHANNEL, "text": "x", "blocks": blocks})
            self.assertEqual((doc["ok"], doc["error"]), (False, "invalid_blocks"), blocks[:1])
            self.assertTrue(doc["errors"] and doc["response_metadata"]["messages"][0].startswith("[ERROR]"))
        ok = [section("x" * 3000), {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}}]
        self.assertTrue(self.post({"channel": CHANNEL, "text": "x", "blocks": ok})[2]["ok"])

    def test_threads_need_a_top_level_parent_in_the_channel(self):
        parent = self.post({"channel": CHANNEL, "text": "parent"})[2]["ts"]
        reply = self.post({"channel": CHANNEL, "text": "reply", "thread_ts": parent})[2]
        self.assertEqual((reply["ok"], reply["message"]["thread_ts"]), (True, parent))
        self.assertEqual(self.post({"channel": CHANNEL, "text": "r", "thread_ts": "1.000001"})[2]["error"],
                         "thread_not_found")
        self.assertEqual(self.post({"channel": CHANNEL, "text": "r", "thread_ts": "yesterday"})[2]["error"],
                         "invalid_thread_ts")
        self.assertEqual(self.post({"channel": CHANNEL, "text": "r", "thread_ts": parent,
                                    "reply_broadcast": "yes"})[2]["error"], "invalid_arguments")
        self.assertTrue(self.post({"channel": CHANNEL, "text": "b", "thread_ts": parent,
                                   "reply_broadcast": True})[2]["ok"])
        self.assertEqual([(m["thread_ts"], m["reply_broadcast"]) for m in self.messages()],
                         [(None, False), (parent, False), (parent, True)])


class RateLimitsAndFaults(EmulatorCase):
    def test_chat_post_message_is_limited_per_channel_with_retry_after(self):
        self.admin("rate-limits", {"target": "chat.postMessage", "per_second": 1, "burst": 2})
        self.admin("channels", {"id": "C0OTHERCH1"})
        for _ in range(2):
            self.assertTrue(self.post({"channel": CHANNEL, "text": "x"})[2]["ok"])
        status, h, doc = self.post({"channel": CHANNEL, "text": "x"})
        self.assertEqual((status, doc, h["retry-after"]), (429, {"ok": False, "error": "ratelimited"}, "1"))
        self.assertTrue(self.post({"channel": "C0OTHERCH1", "text": "x"})[2]["ok"], "per channel")
        self.admin("clock", {"advance": 1.0})
        self.assertTrue(self.post({"channel": CHANNEL, "text": "x"})[2]["ok"])
        self.assertEqual(len(self.messages()), 4)

    def test_injected_faults(self):
        self.admin("faults", {"target": "chat.postMessage", "status": 429, "retry_after": 7})
        self.admin("faults", {"target": "chat.postMessage", "error": "channel_not_found"})
        self.admin("faults", {"target": "chat.postMessage", "status": 503})
        status, h, doc = self.post({"channel": CHANNEL, "text": "x"})
        self.assertEqual((status, h["retry-after"], doc["error"]), (429, "7", "ratelimited"))
        self.assertEqual(self.post({"channel": CHANNEL, "text": "x"})[::2],
                         (200, {"ok": False, "error": "channel_not_found"}))
        self.assertEqual(self.post({"channel": CHANNEL, "text": "x"})[0], 503)
        self.assertTrue(self.post({"channel": CHANNEL, "text": "x"})[2]["ok"])


class Webhooks(EmulatorCase):
    def test_success_is_plain_text_ok_and_logged_without_the_secret(self):
        status, h, out = self.hook({"text": "hello", "blocks": [section("b")]})
        self.assertEqual((status, out), (200, "ok"))
        self.assertTrue(h["content-type"].startswith("text/"))
        [m] = self.messages()
        self.assertEqual((m["via"], m["channel"], m["text"], m["hook"]), ("webhook", CHANNEL, "hello", "B0TEST"))
        self.assertNotIn("hooksecret0123", json.dumps(self.admin("requests")))

    def test_plain_text_errors_with_their_statuses(self):
        self.assertEqual(self.hook({"text": "x"}, path="T0TEST/B0TEST/wrong")[::2], (404, "no_service"))
        self.assertEqual(self.hook({"text": "x"}, path="T0OTHER/B0TEST/hooksecret0123")[::2], (404, "no_team"))
        self.assertEqual(self.hook(b"{nope")[::2], (400, "invalid_payload"))
        self.assertEqual(self.hook({"text": "x"}, ctype="text/plain")[::2], (400, "invalid_payload"))
        self.assertEqual(self.hook({})[::2], (400, "no_text"))
        self.assertEqual(self.hook({"text": "x", "blocks": [{"type": "bogus"}]})[::2], (400, "invalid_blocks"))
        self.admin("channels", {"id": CHANNEL, "archived": True})
        self.assertEqual(self.hook({"text": "x"})[::2], (410, "channel_is_archived"))
        self.admin("channels", {"id": CHANNEL, "delete": True})
        self.assertEqual(self.hook({"text": "x"})[::2], (404, "channel_not_found"))
        self.assertEqual(self.messages(), [])

    def test_form_payload_is_accepted(self):
        body = urllib.parse.urlencode({"payload": json.dumps({"text": "form"})}).encode()
        self.assertEqual(self.hook(body, ctype="application/x-www-form-urlencoded")[::2], (200, "ok"))
        self.assertEqual(self.messages()[0]["text"], "form")

    def test_rate_limit_and_faults(self):
        self.admin("rate-limits", {"target": "webhook", "per_second": 1, "burst": 1})
        self.assertEqual(self.hook({"text": "x"})[0], 200)
        status, h, out = self.hook({"text": "x"})
        self.assertEqual((status, h["retry-after"], out), (429, "1", "rate_limited"))
        self.admin("clock", {"advance": 1})
        self.admin("faults", {"target": "webhook", "status": 500})
        self.assertEqual(self.hook({"text": "x"})[::2], (500, "rollup_error"))
        self.assertEqual(self.hook({"text": "x"})[0], 200)

    def test_control_api_needs_the_admin_header(self):
        self.assertEqual(self.raw("GET", "/_emulator/messages")[0], 404)


if __name__ == "__main__":
    unittest.main()
