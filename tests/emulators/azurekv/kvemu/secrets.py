"""Key Vault secrets: the store and the data-plane operations.

Contract:
- Names match ^[0-9a-zA-Z-]{1,127}$ and are case-insensitive (stored by lower-case key,
  shown as first written). Every set creates a new version (32 lower-case hex); there
  is no optimistic concurrency. Tags and contentType belong to a version: a set without
  them gives a version without them.
- SecretBundle: value, id (`{base}/secrets/{name}/{version}`), contentType (when set),
  tags (when set), attributes {enabled, created, updated, recoveryLevel,
  recoverableDays} with integer Unix seconds. SecretItem: the same without value (list:
  id without version; versions list: id with version).
- Lists page with `maxresults` 1..25 (default 25; outside -> 400 BadParameter) and an
  absolute nextLink `{base}/secrets[/{name}/versions]?api-version=…&$skiptoken=…&maxresults=…`
  (null on the last page). `base` is the scheme, host and port the request came to,
  unless the test overrides the host (`nextlink_host`) to check that clients follow
  nextLink only to their vault.
- Delete is soft: the secret leaves lists and reads (404 SecretNotFound); a set of
  the same name then gives 409 Conflict until it is purged or recovered.
"""

import base64
import json
import re
import secrets as rnd

from .errors import KvError, bad_parameter, not_found

NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
MAX_VALUE = 25 * 1024


def _attrs(v):
    return {"enabled": v["enabled"], "created": v["created"], "updated": v["updated"],
            "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90}


class Secrets:
    def __init__(self, clock):
        self.now = clock
        self.store = {}  # lower name -> {"name", "versions": [..], "deleted": bool}
        self.nextlink_host = None

    def _check_name(self, name):
        if not NAME.match(name or ""):
            raise bad_parameter("The request URI contains an invalid name: %s" % name)

    def _live(self, name):
        self._check_name(name)
        s = self.store.get(name.lower())
        if s is None or s["deleted"]:
            raise not_found(name)
        return s

    def _bundle(self, base, s, v, with_value=True, with_version=True):
        out = {"id": "%s/secrets/%s%s" % (base, s["name"], "/" + v["id"] if with_version else ""),
               "attributes": _attrs(v)}
        if with_value:
            out["value"] = v["value"]
        if v["contentType"] is not None:
            out["contentType"] = v["contentType"]
        if v["tags"]:
            out["tags"] = dict(v["tags"])
        return out

    # -- operations ------------------------------------------------------------------------
    def set(self, base, name, body):
        self._check_name(name)
        try:
            req = json.loads(body or b"")
        except ValueError:
            raise bad_parameter("The request body is not valid JSON.")
        if not isinstance(req, dict) or not isinstance(req.get("value"), str):
            raise bad_parameter("The parameter 'value' is required and must be a string.")
        if len(req["value"].encode()) > MAX_VALUE:
            raise bad_parameter("Secret value is too large; the maximum is 25 KB.")
        tags = req.get("tags") or {}
        if not isinstance(tags, dict) or len(tags) > 15 or not all(
                isinstance(k, str) and isinstance(v, str) and len(k) <= 512 and len(v) <= 256
                for k, v in tags.items()):
            raise bad_parameter("Tags must be at most 15 string pairs (keys up to 512, values up "
                                "to 256 characters).")
        ctype = req.get("contentType")
        if ctype is not None and not isinstance(ctype, str):
            raise bad_parameter("The parameter 'contentType' must be a string.")
        attributes = req.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise bad_parameter("The parameter 'attributes' must be an object.")
        key = name.lower()
        s = self.store.get(key)
        if s is not None and s["deleted"]:
            raise KvError(409, "Conflict", "Secret %s is currently in a deleted but recoverable "
                          "state, and its name cannot be reused; in this state, the secret can "
                          "only be recovered or purged." % name)
        if s is None:
            s = self.store[key] = {"name": name, "versions": [], "deleted": False}
        now = int(self.now())
        v = {"id": rnd.token_hex(16), "value": req["value"], "contentType": ctype,
             "tags": dict(tags), "enabled": bool(attributes.get("enabled", True)),
             "created": now, "updated": now}
        s["versions"].append(v)
        return self._bundle(base, s, v)

    def get(self, base, name, version):
        s = self._live(name)
        if version:
            match = [v for v in s["versions"] if v["id"] == version.lower()]
            if not match:
                raise not_found(name)
            v = match[0]
        else:
            v = s["versions"][-1]
        if not v["enabled"]:
            raise KvError(403, "Forbidden", "Operation get is not allowed on a disabled secret.",
                          "SecretDisabled")
        return self._bundle(base, s, v)

    def delete(self, base, name):
        s = self._live(name)
        s["deleted"] = True
        out = self._bundle(base, s, s["versions"][-1], with_value=False)
        now = int(self.now())
        out.update({"recoveryId": "%s/deletedsecrets/%s" % (base, s["name"]),
                    "deletedDate": now, "scheduledPurgeDate": now + 90 * 86400})
        return out

    def list(self, base, query, api_version):
        items = [self._bundle(base, s, s["versions"][-1], with_value=False, with_version=False)
                 for _, s in sorted(self.store.items()) if not s["deleted"]]
        return self._page(base, "/secrets", items, query, api_version)

    def versions(self, base, name, query, api_version):
        s = self._live(name)
        items = [self._bundle(base, s, v, with_value=False) for v in s["versions"]]
        return self._page(base, "/secrets/%s/versions" % s["name"], items, query, api_version)

    def _page(self, base, path, items, query, api_version):
        raw = query.get("maxresults")
        try:
            size = 25 if raw is None else int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= 25:
            raise bad_parameter("Invalid value for maxresults: %s. The value must be between 1 "
                                "and 25." % raw)
        start = 0
        token = query.get("$skiptoken")
        if token is not None:
            try:
                start = int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
            except (ValueError, KeyError, TypeError):
                raise bad_parameter("The skip token is not valid.")
        page = items[start:start + size]
        next_link = None
        if start + size < len(items):
            tok = base64.urlsafe_b64encode(json.dumps({"offset": start + size}).encode()).decode()
            host_base = base
            if self.nextlink_host:
                host_base = "https://" + self.nextlink_host
            next_link = "%s%s?api-version=%s&$skiptoken=%s&maxresults=%d" % (
                host_base, path, api_version, tok, size)
        return {"value": page, "nextLink": next_link}
