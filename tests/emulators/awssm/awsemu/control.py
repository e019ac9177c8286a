"""The emulator's state, request pipeline and control API (/_emulator/...).

Contract:
- `Emulator.dispatch(method, path, query, headers, body)` -> (status, headers, body).
  Routing: /_emulator/ control (needs `X-Emulator-Admin: 1`, else 404), the
  configured container credentials path (GET, `Authorization` must equal the configured
  token, else 403), /latest/ IMDSv2, a form-encoded `POST /` STS, anything else the
  JSON 1.1 pipeline.
- JSON 1.1 pipeline, in this order: `POST` only; Content-Type must be
  application/x-amz-json-1.1 and X-Amz-Target `secretsmanager.<Op>` or
  `TrentService.<Op>` of a known operation (404 UnknownOperationException otherwise);
  SigV4 verified for the target's signing service (sigv4.py); injected faults; a body
  that is not a JSON object -> SerializationException; then the operation.
- Faults: {"target": "GetSecretValue"|"TrentService.Encrypt"|"*", "type",
  "status", "message", "count", "retry_after"}; default ThrottlingException / 400 /
  "Rate exceeded". The first live match answers and its count drops by one.
- The request log keeps the last 10,000 requests: target, status, error type, signed
  header names, whether a session token was sent and the non-value request members
  (ClientRequestToken, VersionId, VersionStage, MaxResults, NextToken, Filters) —
  never a secret value, a key or a token.
"""

import base64
import json
import time
import uuid

from . import sigv4
from .errors import AwsError, json_error_body, xml_error_body
from .kms import Kms
from .secrets import SecretsManager
from .sts_imds import Imds, Sts, iso

JSON_TYPE = "application/x-amz-json-1.1"
SM_OPS = ("CreateSecret", "GetSecretValue", "PutSecretValue", "DescribeSecret", "ListSecrets",
          "TagResource", "UntagResource", "DeleteSecret", "ListSecretVersionIds",
          "UpdateSecretVersionStage")
KMS_OPS = ("Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey", "CreateKey")
LOGGED_MEMBERS = ("ClientRequestToken", "VersionId", "VersionStage", "MaxResults", "NextToken",
                  "Filters", "SecretId", "KeyId")
MAX_LOG = 10000


def _json(status, payload, extra=None):
    headers = {"Content-Type": JSON_TYPE, "x-amzn-RequestId": str(uuid.uuid4())}
    headers.update(extra or {})
    return status, headers, json.dumps(payload).encode()


def _error(err):
    headers = {"Content-Type": JSON_TYPE, "x-amzn-RequestId": str(uuid.uuid4()),
               "x-amzn-ErrorType": err.type}
    headers.update(err.headers)
    return err.status, headers, json_error_body(err)


class Emulator:
    def __init__(self, region, account, access_key, secret_key, sts_duration, clock):
        self.region, self.account = region, account
        self.base = (access_key, secret_key)
        self.sts_duration = sts_duration
        self.wall = clock
        self.reset()

    def now(self):
        return self.wall() + self.offset

    def reset(self):
        self.offset = 0.0
        self.credentials = {self.base[0]: {"secret": self.base[1], "token": None,
                                           "expires": None}}
        self.sm = SecretsManager(self.region, self.account, self.now)
        self.kms = Kms(self.region, self.account)
        self.sts = Sts(self)
        self.imds = Imds(self)
        self.faults = []
        self.log = []
        self.container = None

    # -- pipeline -----------------------------------------------------------------------------
    def dispatch(self, method, path, query, headers, body):
        hmap = {k.lower(): v for k, v in headers}
        if path.startswith("/_emulator/"):
            if hmap.get("x-emulator-admin") != "1":
                return _json(404, {"message": "not found"})
            return self.control(method, path[len("/_emulator/"):], body)
        if self.container and path == self.container["path"] and method == "GET":
            return self._container(hmap)
        if path.startswith("/latest/"):
            status, ctype, out = self.imds.handle(method, path, hmap)
            self._record("IMDS " + path, status, None, hmap, {})
            return status, {"Content-Type": ctype}, out
        ctype = hmap.get("content-type", "").split(";")[0].strip().lower()
        if method == "POST" and ctype == "application/x-www-form-urlencoded":
            return self._sts(method, path, query, headers, hmap, body)
        return self._json11(method, path, query, headers, hmap, body)

    def _container(self, hmap):
        # ECS/EKS container credentials endpoint: the Authorization header must match
        self._record("CONTAINER", 200, None, hmap, {})
        if hmap.get("authorization") != self.container["token"]:
            return 403, {"Content-Type": "application/json"}, b'{"message":"forbidden"}'
        akid, cred = self.sts.issue(self.sts_duration)
        doc = {"AccessKeyId": akid, "SecretAccessKey": cred["secret"], "Token": cred["token"],
               "Expiration": iso(cred["expires"]), "RoleArn": "arn:aws:iam::%s:role/task"
               % self.account}
        return 200, {"Content-Type": "application/json"}, json.dumps(doc).encode()

    def _record(self, target, status, err_type, hmap, req):
        auth = hmap.get("authorization", "")
        signed = auth.split("SignedHeaders=")[1].split(",")[0] if "SignedHeaders=" in auth else ""
        entry = {"target": target, "status": status, "error": err_type, "signed_headers": signed,
                 "session_token": "x-amz-security-token" in hmap,
                 "at": round(time.monotonic(), 3)}
        entry.update({k: req[k] for k in LOGGED_MEMBERS if isinstance(req, dict) and k in req})
        self.log.append(entry)
        del self.log[:-MAX_LOG]

    def _sts(self, method, path, query, headers, hmap, body):
        req_id = str(uuid.uuid4())
        try:
            ident = None
            if "authorization" in hmap:
                ident = sigv4.verify(method, path, query, headers, body, self.credentials,
                                     self.region, "sts", self.now())
            out = self.sts.handle(body, ident)
            self._record("STS", 200, None, hmap, {})
            return 200, {"Content-Type": "text/xml", "x-amzn-RequestId": req_id}, out
        except AwsError as err:
            self._record("STS", err.status, err.type, hmap, {})
            return err.status, {"Content-Type": "text/xml"}, xml_error_body(err, req_id)

    def _json11(self, method, path, query, headers, hmap, body):
        target = hmap.get("x-amz-target", "")
        req = {}
        try:
            ctype = hmap.get("content-type", "").split(";")[0].strip().lower()
            service, _, op = target.partition(".")
            known = (service == "secretsmanager" and op in SM_OPS) or \
                    (service == "TrentService" and op in KMS_OPS)
            if method != "POST" or ctype != JSON_TYPE or not known:
                raise AwsError(404, "UnknownOperationException", None)
            signing = "secretsmanager" if service == "secretsmanager" else "kms"
            sigv4.verify(method, path, query, headers, body, self.credentials, self.region,
                         signing, self.now())
            self._fault(op, target)
            try:
                req = json.loads(body or b"{}")
            except ValueError:
                raise AwsError(400, "SerializationException", None)
            if not isinstance(req, dict):
                raise AwsError(400, "SerializationException", None)
            impl = self.sm if service == "secretsmanager" else self.kms
            out = getattr(impl, op)(req)
            self._record(target, 200, None, hmap, req)
            return _json(200, out)
        except AwsError as err:
            self._record(target, err.status, err.type, hmap, req)
            return _error(err)

    def _fault(self, op, target):
        for f in self.faults:
            if f["count"] > 0 and f["target"] in ("*", op, target):
                f["count"] -= 1
                headers = {}
                if f["retry_after"] is not None:
                    headers["Retry-After"] = str(f["retry_after"])
                raise AwsError(f["status"], f["type"], f["message"], headers)

    # -- control API ----------------------------------------------------------------------------
    def control(self, method, name, body):
        try:
            req = json.loads(body or b"{}") if method == "POST" else {}
            if not isinstance(req, dict):
                raise ValueError("the body must be a JSON object")
            return _json(200, self._control(method, name, req))
        except (ValueError, KeyError, TypeError, AwsError) as e:
            return _json(400, {"message": "%s: %s" % (type(e).__name__, e)})

    def _control(self, method, name, req):
        if method == "GET" and name == "requests":
            return {"requests": self.log}
        if method == "GET" and name == "stats":
            return {"sts_calls": self.sts.calls, "imds_token_puts": self.imds.token_puts,
                    "credentials": len(self.credentials)}
        if method != "POST":
            raise ValueError("unknown control endpoint %s %s" % (method, name))
        if name == "reset":
            self.reset()
            return {"ok": True}
        if name == "credentials":
            expires = req.get("expires_in")
            self.credentials[req["access_key_id"]] = {
                "secret": req["secret_access_key"], "token": req.get("session_token"),
                "expires": None if expires is None else self.now() + float(expires)}
            return {"ok": True}
        if name == "secrets":
            create = {"Name": req["name"], "Description": req.get("description"),
                      "Tags": [{"Key": k, "Value": v} for k, v in req.get("tags", {}).items()]}
            if "string" in req:
                create["SecretString"] = req["string"]
            if "binary_b64" in req:
                create["SecretBinary"] = req["binary_b64"]
            if create["Description"] is None:
                del create["Description"]
            return self.sm.CreateSecret(create)
        if name == "faults":
            self.faults.append({"target": req.get("target", "*"),
                                "type": req.get("type", "ThrottlingException"),
                                "status": int(req.get("status", 400)),
                                "message": req.get("message", "Rate exceeded"),
                                "count": int(req.get("count", 1)),
                                "retry_after": req.get("retry_after")})
            return {"ok": True}
        if name == "clock":
            self.offset = float(req["offset"])
            return {"ok": True}
        if name == "kms-keys":
            return {"arn": self.kms.add_key(req.get("key_id"), req.get("alias"),
                                            req.get("enabled", True))}
        if name == "roles":
            role = self.sts.roles.setdefault(req["role_arn"], {"web_tokens": set()})
            if req.get("web_identity_token"):
                role["web_tokens"].add(req["web_identity_token"])
            return {"ok": True}
        if name == "container":
            self.container = {"path": req["path"], "token": req.get("token")}
            return {"ok": True}
        if name == "imds":
            self.imds.role = req.get("role")
            return {"ok": True}
        if name == "peek":
            # the current version as a test asserts on it (never in the request log)
            sec = self.sm.secrets[req["secret_id"]]
            cur = sec.holder("AWSCURRENT")
            out = {"version_id": cur.id, "tags": {t["Key"]: t["Value"] for t in sec.tags},
                   "versions": len(sec.versions)}
            if cur.string is not None:
                out["string"] = cur.string
            else:
                out["binary_b64"] = base64.b64encode(cur.binary).decode()
            return out
        if name == "put-value":
            # a concurrent writer, without SigV4 (tests): same semantics as PutSecretValue
            put = {"SecretId": req["secret_id"]}
            if "string" in req:
                put["SecretString"] = req["string"]
            else:
                put["SecretBinary"] = base64.b64encode(req["binary"].encode()).decode()
            return self.sm.PutSecretValue(put)
        raise ValueError("unknown control endpoint %s" % name)
