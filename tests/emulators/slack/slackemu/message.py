"""Message rules shared by the webhook and the Web API.

Contract:
- `parse_body(content_type, body)` -> (dict, None) or (None, reason): JSON bodies must
  be declared application/json (any parameters) and be UTF-8 JSON objects;
  application/x-www-form-urlencoded bodies become a dict of their fields ("payload"
  holds JSON for webhooks; "blocks" may be a JSON string). Anything else is refused.
- `message_error(msg)` -> None or (code, [details]): "invalid_blocks" (Block Kit rules
  in blocks.py), "no_text" (neither text nor blocks), "msg_too_long" (text over 40,000
  characters), "invalid_arguments" for a thread_ts that is not "digits.digits".
"""

import json
import re
import urllib.parse

from .blocks import block_errors

TS_RE = re.compile(r"^[0-9]{1,12}\.[0-9]{1,8}$")
TEXT_MAX = 40000


def media_type(content_type):
    return (content_type or "").split(";")[0].strip().lower()


def parse_body(content_type, body):
    kind = media_type(content_type)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, "invalid_charset"
    if kind == "application/json":
        try:
            doc = json.loads(text)
        except ValueError:
            return None, "invalid_json"
        if not isinstance(doc, dict):
            return None, "json_not_object"
        return doc, None
    if kind == "application/x-www-form-urlencoded":
        return {k: v[-1] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}, None
    return None, "invalid_post_type"


def message_error(msg):
    blocks = msg.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = msg["blocks"] = json.loads(blocks)
        except ValueError:
            return "invalid_blocks", ["blocks is not JSON"]
    if blocks is not None:
        errors = block_errors(blocks)
        if errors:
            return "invalid_blocks", errors
    text = msg.get("text")
    if text is not None and not isinstance(text, str):
        return "invalid_arguments", ["text must be a string"]
    if not text and not blocks and not msg.get("attachments"):
        return "no_text", []
    if text and len(text) > TEXT_MAX:
        return "msg_too_long", []
    ts = msg.get("thread_ts")
    if ts is not None and (not isinstance(ts, str) or not TS_RE.match(ts)):
        return "invalid_thread_ts", []
    broadcast = msg.get("reply_broadcast")
    if broadcast is not None and broadcast not in (True, False, "true", "false"):
        return "invalid_arguments", ["reply_broadcast must be a boolean"]
    return None


def logged_message(via, channel, ts, msg):
    return {"via": via, "channel": channel, "ts": ts, "thread_ts": msg.get("thread_ts"),
            "text": msg.get("text"), "blocks": msg.get("blocks"),
            "unfurl_links": msg.get("unfurl_links"), "unfurl_media": msg.get("unfurl_media"),
            "reply_broadcast": msg.get("reply_broadcast") in (True, "true"),
            "keys": sorted(msg)}
