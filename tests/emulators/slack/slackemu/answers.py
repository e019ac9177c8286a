"""JSON answers of the Web API (shared by web_api.py and the control API).

Contract: `api_answer(status, payload, warnings, headers)` renders the payload as
`application/json; charset=utf-8`; with warnings it adds "warning" (comma-separated)
and response_metadata.warnings, as Slack does for e.g. missing_charset.
"""

import json


def api_answer(status, payload, warnings=(), headers=None):
    if warnings:
        payload["warning"] = ",".join(warnings)
        meta = payload.setdefault("response_metadata", {})
        meta["warnings"] = list(warnings)
    out = {"Content-Type": "application/json; charset=utf-8"}
    out.update(headers or {})
    return status, out, json.dumps(payload).encode()
