"""SigV4 verification, recomputed from what the client says it signed.

Contract (AWS's rules as the real services apply them, reference §2.1/§2.4):
- `Authorization: AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/region/service/aws4_request,
  SignedHeaders=a;b;c, Signature=hex`. Missing -> MissingAuthenticationTokenException;
  malformed -> IncompleteSignatureException; unknown key id ->
  UnrecognizedClientException; a temporary key whose X-Amz-Security-Token is missing
  or wrong -> UnrecognizedClientException, expired -> ExpiredTokenException.
- The canonical request is rebuilt from the headers named in SignedHeaders, with the
  client's values as received (repeated headers joined with ','), the request path
  and query, and the SHA-256 of the body. `host` must be signed. A scope whose
  region, service or date does not match, or an X-Amz-Date more than 5 minutes away
  from the emulator's clock -> InvalidSignatureException (the latter with AWS's
  "Signature expired" text). A different signature -> InvalidSignatureException.
- Returns the matched credential record (for the caller's identity).
"""

import calendar
import hashlib
import hmac
import re
import time
from urllib.parse import quote, unquote

from .errors import AwsError

MISMATCH = ("The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.")
_AUTH = re.compile(r"^AWS4-HMAC-SHA256 (.+)$")
MAX_SKEW_S = 300


def _enc(s):
    return quote(s, safe="-_.~")


def canonical_uri(path):
    segs = []
    for seg in unquote(path or "/").split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if segs:
                segs.pop()
            continue
        segs.append(seg)
    out = "/" + "/".join(_enc(s) for s in segs)
    if segs and path.endswith("/"):
        out += "/"
    return out


def canonical_query(query):
    pairs = []
    for part in (query or "").split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        pairs.append((_enc(unquote(k)), _enc(unquote(v))))
    return "&".join("%s=%s" % kv for kv in sorted(pairs))


def _norm(value):
    return " ".join(value.split())


def amz_time(text):
    return calendar.timegm(time.strptime(text, "%Y%m%dT%H%M%SZ"))


def _fmt(t):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def signing_key(secret, date, region, service):
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def verify(method, path, query, headers, body, credentials, region, service, now):
    """headers: list of (name, value) as received. credentials: dict akid -> record
    {"secret", "token" (None for long-term), "expires" (epoch or None)}."""
    by_name = {}
    for name, value in headers:
        by_name.setdefault(name.lower(), []).append(value)
    auth = by_name.get("authorization", [None])[0]
    if not auth:
        raise AwsError(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    m = _AUTH.match(auth.strip())
    parts = {}
    if m:
        for item in m.group(1).split(","):
            k, _, v = item.strip().partition("=")
            parts[k] = v
    if not m or not all(k in parts for k in ("Credential", "SignedHeaders", "Signature")):
        raise AwsError(400, "IncompleteSignatureException",
                       "Authorization header requires 'Credential', 'SignedHeaders' and "
                       "'Signature' parameters. Authorization=%s" % auth.split(" ")[0])
    scope = parts["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise AwsError(400, "IncompleteSignatureException",
                       "Credential should be scoped to a valid region. ")
    akid, date, cred_region, cred_service = scope[:4]
    cred = credentials.get(akid)
    if cred is None:
        raise AwsError(403, "UnrecognizedClientException",
                       "The security token included in the request is invalid.")
    if cred.get("token") is not None:
        sent = by_name.get("x-amz-security-token", [None])[0]
        if sent != cred["token"]:
            raise AwsError(403, "UnrecognizedClientException",
                           "The security token included in the request is invalid.")
        if cred.get("expires") is not None and now >= cred["expires"]:
            raise AwsError(400, "ExpiredTokenException",
                           "The security token included in the request is expired")
    amz_date = by_name.get("x-amz-date", [None])[0]
    if amz_date is None:
        raise AwsError(400, "IncompleteSignatureException",
                       "Authorization header requires existence of either a 'X-Amz-Date' or a "
                       "'Date' header. Authorization=AWS4-HMAC-SHA256")
    try:
        t = amz_time(amz_date)
    except ValueError:
        raise AwsError(400, "IncompleteSignatureException",
                       "Date must be in ISO-8601 'basic format'. Got '%s'." % amz_date)
    if date != amz_date[:8]:
        raise AwsError(403, "InvalidSignatureException",
                       "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                       "of date from HTTP: '%s' != '%s', from '%s'." % (date, amz_date[:8], amz_date))
    if cred_region != region:
        raise AwsError(403, "InvalidSignatureException",
                       "Credential should be scoped to a valid region. ")
    if cred_service != service:
        raise AwsError(403, "InvalidSignatureException",
                       "Credential should be scoped to correct service: '%s'. " % service)
    if abs(now - t) > MAX_SKEW_S:
        earlier = now - t > 0
        raise AwsError(400, "InvalidSignatureException",
                       "Signature expired: %s is now %s than %s (%s %s 5 min.)"
                       % (amz_date, "earlier" if earlier else "later",
                          _fmt(now - MAX_SKEW_S if earlier else now + MAX_SKEW_S), _fmt(now),
                          "-" if earlier else "+"))
    signed = parts["SignedHeaders"].split(";")
    if "host" not in signed or signed != sorted(signed):
        raise AwsError(403, "InvalidSignatureException", MISMATCH)
    lines = []
    for name in signed:
        if name not in by_name:
            raise AwsError(403, "InvalidSignatureException", MISMATCH)
        lines.append("%s:%s\n" % (name, ",".join(_norm(v) for v in by_name[name])))
    creq = "\n".join([method, canonical_uri(path), canonical_query(query), "".join(lines),
                      ";".join(signed), hashlib.sha256(body).hexdigest()])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, "/".join(scope[1:]),
                     hashlib.sha256(creq.encode()).hexdigest()])
    key = signing_key(cred["secret"], date, cred_region, cred_service)
    want = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, parts["Signature"]):
        raise AwsError(403, "InvalidSignatureException", MISMATCH)
    return dict(cred, access_key_id=akid)
