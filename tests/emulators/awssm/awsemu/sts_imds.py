"""STS (query protocol, XML answers) and the EC2 instance metadata service (IMDSv2).

Contract:
- STS: `POST /` with `Content-Type: application/x-www-form-urlencoded`, body
  `Action=...&Version=2011-06-15&...`.
  - AssumeRoleWithWebIdentity is unsigned: RoleArn, RoleSessionName and
    WebIdentityToken; the token must be one the test registered for that role
    (else 400 InvalidIdentityToken), the role must exist (else 403 AccessDenied).
  - AssumeRole must be SigV4-signed for service `sts` (checked by the caller) and
    names a RoleArn that exists (else 403 AccessDenied).
  Both issue fresh temporary credentials (registered with the emulator, so they sign
  Secrets Manager/KMS requests) valid for DurationSeconds (default the emulator's
  --sts-duration) and answer the XML AWS does (Credentials/AccessKeyId,
  SecretAccessKey, SessionToken, Expiration in ISO 8601 UTC).
- IMDSv2: `PUT /latest/api/token` with X-aws-ec2-metadata-token-ttl-seconds (1-21600,
  else 400) returns a session token; every GET under /latest/ needs it in
  X-aws-ec2-metadata-token (missing or unknown -> 401). A PUT carrying
  X-Forwarded-For is refused (403), as IMDS does. `GET /latest/meta-data/iam/
  security-credentials/` lists the role; `.../<role>` returns the JSON document
  (Code, Type, AccessKeyId, SecretAccessKey, Token, Expiration, LastUpdated).
"""

import json
import secrets as rnd
import time
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from .errors import AwsError

NS = "https://sts.amazonaws.com/doc/2011-06-15/"


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Sts:
    def __init__(self, emu):
        self.emu = emu  # credentials, clock, settings
        self.roles = {}  # role arn -> {"web_tokens": set()}
        self.calls = []

    def issue(self, duration):
        akid = "ASIA" + rnd.token_hex(8).upper()
        cred = {"secret": rnd.token_urlsafe(30), "token": "FQoG" + rnd.token_urlsafe(48),
                "expires": self.emu.now() + duration}
        self.emu.credentials[akid] = cred
        return akid, cred

    def handle(self, body, signed_identity):
        form = {k: v[0] for k, v in parse_qs(body.decode(errors="replace")).items()}
        action = form.get("Action")
        self.calls.append(action)
        role = form.get("RoleArn")
        duration = int(form.get("DurationSeconds", self.emu.sts_duration))
        if action == "AssumeRoleWithWebIdentity":
            if role not in self.roles:
                raise AwsError(403, "AccessDenied",
                               "Not authorized to perform sts:AssumeRoleWithWebIdentity")
            if form.get("WebIdentityToken", "").strip() not in self.roles[role]["web_tokens"]:
                raise AwsError(400, "InvalidIdentityToken",
                               "Couldn't retrieve verification key from your identity provider")
        elif action == "AssumeRole":
            if signed_identity is None:
                raise AwsError(403, "MissingAuthenticationToken",
                               "Request is missing Authentication Token")
            if role not in self.roles:
                raise AwsError(403, "AccessDenied",
                               "User: %s is not authorized to perform: sts:AssumeRole on "
                               "resource: %s" % (signed_identity["access_key_id"], role))
        else:
            raise AwsError(400, "InvalidAction",
                           "Could not find operation %s for version 2011-06-15" % action)
        if not form.get("RoleSessionName"):
            raise AwsError(400, "ValidationError",
                           "1 validation error detected: Value null at 'roleSessionName' "
                           "failed to satisfy constraint: Member must not be null")
        akid, cred = self.issue(duration)
        return ("<%sResponse xmlns=\"%s\"><%sResult><Credentials>"
                "<AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>"
                "<SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>"
                "<AssumedRoleUser><Arn>%s/%s</Arn></AssumedRoleUser></%sResult>"
                "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>"
                % (action, NS, action, akid, escape(cred["secret"]), escape(cred["token"]),
                   iso(cred["expires"]), escape(role), escape(form["RoleSessionName"]), action,
                   rnd.token_hex(16), action)).encode()


class Imds:
    def __init__(self, emu):
        self.emu = emu
        self.role = None  # role name served, None: no instance profile
        self.tokens = {}  # token -> expiry
        self.token_puts = 0

    def handle(self, method, path, headers):
        """Returns (status, content_type, body bytes)."""
        if method == "PUT" and path == "/latest/api/token":
            if headers.get("x-forwarded-for") is not None:
                return 403, "text/plain", b""
            try:
                ttl = int(headers.get("x-aws-ec2-metadata-token-ttl-seconds", ""))
            except ValueError:
                ttl = 0
            if not 1 <= ttl <= 21600:
                return 400, "text/plain", b""
            tok = rnd.token_urlsafe(32)
            self.tokens[tok] = self.emu.now() + ttl
            self.token_puts += 1
            return 200, "text/plain", tok.encode()
        if method != "GET":
            return 405, "text/plain", b""
        tok = headers.get("x-aws-ec2-metadata-token")
        if tok is None or self.tokens.get(tok, 0) <= self.emu.now():
            return 401, "text/plain", b""
        base = "/latest/meta-data/iam/security-credentials/"
        if self.role is None or not path.startswith(base):
            return 404, "text/plain", b""
        name = path[len(base):]
        if name == "":
            return 200, "text/plain", self.role.encode()
        if name != self.role:
            return 404, "text/plain", b""
        akid, cred = Sts(self.emu).issue(self.emu.sts_duration)
        doc = {"Code": "Success", "LastUpdated": iso(self.emu.now()), "Type": "AWS-HMAC",
               "AccessKeyId": akid, "SecretAccessKey": cred["secret"], "Token": cred["token"],
               "Expiration": iso(cred["expires"])}
        return 200, "text/plain", json.dumps(doc, indent=2).encode()


