"""Secret Manager resources: secrets, versions, their states and the list pagination.

Contract (proto3 JSON mapping, camelCase, defaults omitted):
- Secret {name, replication, createTime, labels?, etag, versionAliases?, annotations?};
  names use the project *number* (or the id when configured), versions count up from 1.
- SecretVersion {name, createTime, state ENABLED|DISABLED|DESTROYED, replicationStatus,
  etag, clientSpecifiedPayloadChecksum, destroyTime?}.
- Label keys 1-63 `[\\p{Ll}\\p{Lo}][\\p{Ll}\\p{Lo}\\p{N}_-]{0,62}`, values 0-63
  `[\\p{Ll}\\p{Lo}\\p{N}_-]`, at most 64; secret ids 1-255 `[A-Za-z0-9_-]`.
- addVersion: `payload.data` base64 (standard or URL-safe alphabet), at most 65536 bytes;
  `payload.dataCrc32c` (int64 as a string or a number) must equal CRC32C(data), else
  400 INVALID_ARGUMENT. The checksum is stored even when the client sent none.
- access of `latest` resolves to the newest version whatever its state: DISABLED or
  DESTROYED -> 400 FAILED_PRECONDITION "Secret Version [...] is in <STATE> state.".
- Lists are newest first (create order); page tokens are opaque, bound to the parent and
  filter they were issued for; pageSize 0 -> 100, > 25000 capped, < 0 refused.
"""

import base64
import binascii
import datetime
import hashlib
import json
import re

from .crc32c import crc32c
from .errors import GcpError, invalid, not_found, precondition
from .filters import compile_filter

SECRET_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
LABEL_KEY = re.compile(r"^[a-z\u00aa-\uffff][a-z0-9_\-\u00aa-\uffff]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_\-\u00aa-\uffff]{0,63}$")
MAX_DATA = 65536
DEFAULT_PAGE = 100
MAX_PAGE = 25000


def rfc3339(t):
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%06dZ" % d.microsecond


def check_labels(labels):
    if not isinstance(labels, dict):
        raise invalid("Invalid JSON payload received. 'labels' must be a map.")
    if len(labels) > 64:
        raise invalid("Secret.labels: at most 64 labels are allowed.")
    for k, v in labels.items():
        if not isinstance(v, str) or not LABEL_KEY.match(k) or not LABEL_VALUE.match(v):
            raise invalid("Secret.labels: invalid label %r: keys must start with a lowercase "
                          "letter and hold at most 63 lowercase letters, digits, '_' or '-'; "
                          "values likewise (may be empty)." % k)
    return dict(labels)


def decode_b64(text):
    if not isinstance(text, str):
        raise invalid("Invalid value at 'payload.data' (TYPE_BYTES), base64 expected")
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise invalid("Invalid value at 'payload.data' (TYPE_BYTES), Base64 decoding failed "
                      "for \"%s...\"" % text[:8])


def page_token(parent, filt, offset):
    raw = json.dumps({"p": hashlib.sha256((parent + "\n" + (filt or "")).encode()).hexdigest()[:16],
                      "o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page_offset(token, parent, filt):
    if not token:
        return 0
    try:
        doc = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        want = hashlib.sha256((parent + "\n" + (filt or "")).encode()).hexdigest()[:16]
        if doc["p"] != want or not isinstance(doc["o"], int) or doc["o"] < 0:
            raise ValueError
        return doc["o"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise invalid("The provided page token is invalid.")


def page_size(text):
    if text is None or text == "":
        return DEFAULT_PAGE
    try:
        n = int(text)
    except ValueError:
        raise invalid("Invalid value at 'page_size' (TYPE_INT32), \"%s\"" % text)
    if n < 0:
        raise invalid("page_size must not be negative.")
    return DEFAULT_PAGE if n == 0 else min(n, MAX_PAGE)


class Store:
    def __init__(self, project_id, project_number, names_use_number, clock):
        self.project_id, self.project_number = project_id, project_number
        self.prefix = "projects/%s" % (project_number if names_use_number else project_id)
        self.now = clock
        self.secrets = {}  # secret id -> dict
        self.seq = 0

    def _etag(self):
        self.seq += 1
        return '"%x%05d"' % (int(self.now() * 1000), self.seq)

    # -- lookups -------------------------------------------------------------------------------------
    def secret(self, sid):
        s = self.secrets.get(sid)
        if s is None:
            raise not_found("Secret [%s/secrets/%s] not found." % (self.prefix, sid))
        return s

    def version(self, sid, vid):
        s = self.secrets.get(sid)
        if vid == "latest":
            if s is None or not s["versions"]:
                raise not_found("Secret [%s/secrets/%s] not found or has no versions."
                                % (self.prefix, sid))
            return s, s["versions"][-1]
        if not re.match(r"^[1-9][0-9]{0,17}$", vid):
            alias = s and s["aliases"].get(vid)
            if alias is None:
                raise invalid("Invalid version id %r: a positive number or 'latest'." % vid)
            vid = str(alias)
        if s is None or int(vid) > len(s["versions"]):
            raise not_found("Secret Version [%s/secrets/%s/versions/%s] not found."
                            % (self.prefix, sid, vid))
        return s, s["versions"][int(vid) - 1]

    # -- JSON views -------------------------------------------------------------------------------------
    def secret_json(self, s):
        out = {"name": "%s/secrets/%s" % (self.prefix, s["id"]), "replication": s["replication"],
               "createTime": rfc3339(s["created"]), "etag": s["etag"]}
        if s["labels"]:
            out["labels"] = s["labels"]
        if s["aliases"]:
            out["versionAliases"] = {k: str(v) for k, v in s["aliases"].items()}
        if s["annotations"]:
            out["annotations"] = s["annotations"]
        return out

    def version_json(self, s, v):
        out = {"name": "%s/secrets/%s/versions/%d" % (self.prefix, s["id"], v["n"]),
               "createTime": rfc3339(v["created"]), "state": v["state"],
               "replicationStatus": {"automatic": {}}, "etag": v["etag"],
               "clientSpecifiedPayloadChecksum": v["client_crc"]}
        if v["state"] == "DESTROYED":
            out["destroyTime"] = rfc3339(v["destroyed"])
        return out

    # -- operations --------------------------------------------------------------------------------------
    def create(self, sid, body):
        if sid is None or not SECRET_ID.match(sid):
            raise invalid("secret_id must be 1-255 characters of [A-Za-z0-9_-].")
        allowed = {"replication", "labels", "annotations", "ttl", "expireTime", "topics",
                   "versionAliases", "rotation", "tags", "etag", "name"}
        for k in body:
            if k not in allowed:
                raise invalid("Invalid JSON payload received. Unknown name \"%s\" at 'secret': "
                              "Cannot find field." % k)
        repl = body.get("replication")
        if not isinstance(repl, dict) or not (repl.get("automatic") is not None or
                                              repl.get("userManaged")):
            raise invalid("Secret.replication must be set (automatic or userManaged).")
        if sid in self.secrets:
            raise GcpError(409, "ALREADY_EXISTS", "Secret [%s/secrets/%s] already exists."
                           % (self.prefix, sid))
        s = {"id": sid, "replication": repl, "labels": check_labels(body.get("labels", {})),
             "annotations": dict(body.get("annotations", {})), "aliases": {},
             "created": self.now(), "etag": self._etag(), "versions": [], "seq": self.seq}
        self.secrets[sid] = s
        return self.secret_json(s)

    def add_version(self, sid, body, data=None):
        s = self.secret(sid)
        if data is None:
            for k in body:
                if k != "payload":
                    raise invalid("Invalid JSON payload received. Unknown name \"%s\": Cannot "
                                  "find field." % k)
            payload = body.get("payload")
            if not isinstance(payload, dict) or "data" not in payload:
                raise invalid("AddSecretVersionRequest.payload.data is required.")
            for k in payload:
                if k not in ("data", "dataCrc32c"):
                    raise invalid("Invalid JSON payload received. Unknown name \"%s\" at "
                                  "'payload': Cannot find field." % k)
            data = decode_b64(payload["data"])
            sent = payload.get("dataCrc32c")
        else:
            sent = None
        if len(data) > MAX_DATA:
            raise invalid("SecretPayload.data must be at most 65536 bytes.")
        crc = crc32c(data)
        if sent is not None:
            try:
                if isinstance(sent, bool) or not isinstance(sent, (str, int)):
                    raise ValueError
                want = int(sent)
            except ValueError:
                raise invalid("Invalid value at 'payload.data_crc32c' (TYPE_INT64), %r" % sent)
            if want != crc:
                raise invalid("Checksum mismatch: payload.data_crc32c does not match the CRC32C "
                              "of payload.data.")
        v = {"n": len(s["versions"]) + 1, "created": self.now(), "state": "ENABLED",
             "data": data, "crc": crc, "client_crc": sent is not None, "etag": self._etag(),
             "destroyed": None}
        s["versions"].append(v)
        return self.version_json(s, v)

    def access(self, sid, vid):
        s, v = self.version(sid, vid)
        if v["state"] != "ENABLED":
            raise precondition("Secret Version [%s/secrets/%s/versions/%d] is in %s state."
                               % (self.prefix, sid, v["n"], v["state"]))
        return {"name": "%s/secrets/%s/versions/%d" % (self.prefix, sid, v["n"]),
                "payload": {"data": base64.b64encode(v["data"]).decode(),
                            "dataCrc32c": str(v["crc"])}}

    def set_state(self, sid, vid, verb, body):
        s, v = self.version(sid, vid)
        etag = (body or {}).get("etag")
        if etag and etag != v["etag"]:
            raise GcpError(409, "ABORTED", "The etag provided in the request does not match "
                           "the etag of the secret version.")
        if v["state"] == "DESTROYED" and verb != "destroy":
            raise precondition("Secret Version [%s/secrets/%s/versions/%d] is in DESTROYED state."
                               % (self.prefix, sid, v["n"]))
        if verb == "destroy":
            v["data"], v["destroyed"] = b"", self.now()
        v["state"] = {"enable": "ENABLED", "disable": "DISABLED", "destroy": "DESTROYED"}[verb]
        v["etag"] = self._etag()
        return self.version_json(s, v)

    def patch(self, sid, mask, body):
        s = self.secret(sid)
        if not mask:
            raise invalid("update_mask is required.")
        for field in mask.split(","):
            if field not in ("labels", "annotations"):
                raise invalid("update_mask: field %r cannot be updated here." % field)
        if body.get("etag") and body["etag"] != s["etag"]:
            raise GcpError(409, "ABORTED", "The etag provided in the request does not match "
                           "the etag of the secret.")
        if "labels" in mask.split(","):
            s["labels"] = check_labels(body.get("labels", {}))
        if "annotations" in mask.split(","):
            s["annotations"] = dict(body.get("annotations", {}))
        s["etag"] = self._etag()
        return self.secret_json(s)

    def delete(self, sid, etag):
        s = self.secret(sid)
        if etag and etag != s["etag"]:
            raise GcpError(409, "ABORTED", "The etag provided in the request does not match "
                           "the etag of the secret.")
        del self.secrets[sid]
        return {}

    def list_secrets(self, size, token, filt):
        pred = compile_filter(filt, ("name", "labels", "create_time"))
        rows = sorted(self.secrets.values(), key=lambda s: (s["created"], s["seq"]), reverse=True)
        rows = [s for s in rows if pred({"name": "%s/secrets/%s" % (self.prefix, s["id"]),
                                         "labels": s["labels"],
                                         "create_time": rfc3339(s["created"])})]
        return self._page(rows, self.prefix, size, token, filt, "secrets", self.secret_json)

    def list_versions(self, sid, size, token, filt):
        s = self.secret(sid)
        pred = compile_filter(filt, ("name", "state", "create_time"))
        rows = [v for v in reversed(s["versions"])
                if pred({"name": "%s/secrets/%s/versions/%d" % (self.prefix, sid, v["n"]),
                         "labels": {}, "state": v["state"], "create_time": rfc3339(v["created"])})]
        return self._page(rows, "%s/secrets/%s" % (self.prefix, sid), size, token, filt,
                          "versions", lambda v: self.version_json(s, v))

    def _page(self, rows, parent, size, token, filt, key, render):
        start = page_offset(token, parent, filt)
        chunk = rows[start:start + size]
        out = {}
        if chunk:
            out[key] = [render(r) for r in chunk]
        if start + size < len(rows):
            out["nextPageToken"] = page_token(parent, filt, start + size)
        if rows:
            out["totalSize"] = len(rows)
        return out
