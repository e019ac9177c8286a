"""OAuth2: service-account keys, the JWT-bearer token endpoint, the metadata server and the
bearer-token check of every API call.

Contract:
- Service accounts are registered with their *public* key (PEM) and private_key_id
  (`register`), or generated (`generate`, which returns a complete key file once).
- `POST /token` (form-encoded; `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`,
  `assertion=<JWT>`): the JWT must be three base64url parts with header
  {"alg":"RS256","typ":"JWT"(optional),"kid":<registered key id, if given>}, claims `iss`
  a registered client_email, `aud` the token URI (http://<Host>/token, or Google's
  https://oauth2.googleapis.com/token), a `scope`, `iat` within 5 minutes of now and
  `exp` after now and at most 3600 s after iat; the RS256 signature is verified with the
  registered public key. Refusals are Google's `{"error":"invalid_grant",...}` (400) or
  `unsupported_grant_type` / `invalid_request`. Success issues an opaque token
  `ya29.emu-...` with `expires_in` = the configured lifetime.
- Metadata server `GET /computeMetadata/v1/instance/service-accounts/default/token`:
  requires `Metadata-Flavor: Google` (403 otherwise), answers with the same JSON and the
  `Metadata-Flavor: Google` response header. `/computeMetadata/v1/` and `.../email`,
  `.../project/project-id` are served too (probing clients).
- Workload identity federation: `POST /v1/token` exchanges a subject token registered for
  a pool audience (`grant_type` token-exchange, `requested_token_type` access_token,
  `subject_token_type` jwt or id_token, `scope` with cloud-platform) for a token;
  `POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken` with such a token and
  `{"scope": [cloud-platform], "lifetime"}` answers `{"accessToken", "expireTime"}`.
- `check_bearer(headers)`: an issued, unexpired token, or a self-signed JWT (RS256 by a
  registered key, iss == sub, `aud` https://secretmanager.googleapis.com/ or a `scope`,
  lifetime <= 1 h) -> the client email; otherwise GcpError 401 UNAUTHENTICATED.
"""

import base64
import json
import secrets
import time
import urllib.parse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .errors import GcpError, OAuthError, unauthenticated

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
API_AUDIENCE = "https://secretmanager.googleapis.com/"
SKEW = 300
MAX_LIFETIME = 3600


def b64url_decode(text):
    if not isinstance(text, str) or not text or any(c in text for c in "=+/ \n"):
        raise ValueError("not base64url without padding")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_jwt(token):
    """-> (header, claims, signing_input, signature); ValueError when malformed."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("a JWT has three parts")
    header = json.loads(b64url_decode(parts[0]))
    claims = json.loads(b64url_decode(parts[1]))
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("JWT header and claims must be JSON objects")
    return header, claims, (parts[0] + "." + parts[1]).encode(), b64url_decode(parts[2])


class Auth:
    def __init__(self, clock, token_lifetime, metadata_email):
        self.now = clock
        self.token_lifetime = token_lifetime
        self.metadata_email = metadata_email
        self.accounts = {}  # client_email -> {"key_id", "public_key"}
        self.tokens = {}    # token -> {"email", "expires", "source"}
        self.token_calls = 0
        self.metadata_calls = 0
        self.sts_calls = 0
        self.pools = {}  # workload identity audience -> set of accepted subject tokens

    # -- service accounts ------------------------------------------------------------------------
    def register(self, email, public_pem, key_id):
        key = serialization.load_pem_public_key(public_pem.encode())
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("the service-account key must be RSA")
        self.accounts[email] = {"key_id": key_id, "public_key": key}

    def generate(self, email, token_uri, project_id):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_id = secrets.token_hex(20)
        pub = key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        self.register(email, pub.decode(), key_id)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        return {"type": "service_account", "project_id": project_id, "private_key_id": key_id,
                "private_key": pem, "client_email": email, "client_id": "1" * 21,
                "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri,
                "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
                "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/x"}

    def issue(self, email, source):
        token = "ya29.emu-" + secrets.token_urlsafe(32)
        self.tokens[token] = {"email": email, "expires": self.now() + self.token_lifetime,
                              "source": source}
        return {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"}

    def add_token(self, token, email, expires_in):
        self.tokens[token] = {"email": email, "expires": self.now() + expires_in,
                              "source": "control"}

    def expire_all(self):
        for t in self.tokens.values():
            t["expires"] = self.now() - 1

    def _verify_signature(self, header, claims, signing_input, signature):
        if header.get("alg") != "RS256":
            raise OAuthError(400, "invalid_grant", "Invalid JWT: alg must be RS256.")
        if "typ" in header and header["typ"] != "JWT":
            raise OAuthError(400, "invalid_grant", "Invalid JWT: typ must be JWT.")
        account = self.accounts.get(claims.get("iss"))
        if account is None:
            raise OAuthError(400, "invalid_grant", "Invalid grant: account not found")
        if "kid" in header and header["kid"] != account["key_id"]:
            raise OAuthError(400, "invalid_grant", "Invalid JWT Signature.")
        try:
            account["public_key"].verify(signature, signing_input, padding.PKCS1v15(),
                                         hashes.SHA256())
        except InvalidSignature:
            raise OAuthError(400, "invalid_grant", "Invalid JWT Signature.")

    def _check_times(self, claims):
        iat, exp, now = claims.get("iat"), claims.get("exp"), self.now()
        if not isinstance(iat, (int, float)) or not isinstance(exp, (int, float)) or \
                abs(iat - now) > SKEW or exp <= now or exp - iat > MAX_LIFETIME or exp <= iat:
            raise OAuthError(400, "invalid_grant",
                             "Invalid JWT: Token must be a short-lived token (60 minutes) and in "
                             "a reasonable timeframe. Check your iat and exp values in the JWT "
                             "claim.")

    # -- token endpoint ---------------------------------------------------------------------------
    def token_endpoint(self, host, ctype, body):
        self.token_calls += 1
        if ctype != "application/x-www-form-urlencoded":
            raise OAuthError(400, "invalid_request", "Content-Type must be "
                             "application/x-www-form-urlencoded")
        try:
            form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise OAuthError(400, "invalid_request", "malformed form body")
        if any(len(v) != 1 for v in form.values()):
            raise OAuthError(400, "invalid_request", "repeated parameter")
        grant = form.get("grant_type", [""])[0]
        if grant != GRANT:
            raise OAuthError(400, "unsupported_grant_type", "Invalid grant_type: " + grant)
        assertion = form.get("assertion", [""])[0]
        try:
            header, claims, signing_input, signature = parse_jwt(assertion)
        except (ValueError, UnicodeDecodeError):
            raise OAuthError(400, "invalid_grant", "Invalid JWT: malformed assertion.")
        self._verify_signature(header, claims, signing_input, signature)
        if claims.get("aud") not in ("http://%s/token" % host, GOOGLE_TOKEN_URI):
            raise OAuthError(400, "invalid_grant", "Invalid JWT: Failed audience check.")
        scope = claims.get("scope")
        if not isinstance(scope, str) or "https://www.googleapis.com/auth/cloud-platform" \
                not in scope.split():
            raise OAuthError(400, "invalid_scope", "Invalid OAuth scope or ID token audience "
                             "provided.")
        self._check_times(claims)
        return self.issue(claims["iss"], "jwt-bearer")

    # -- workload identity federation (STS token exchange, impersonation) ---------------------
    def sts_token(self, ctype, body):
        """`POST /v1/token` (RFC 8693 as Google's STS speaks it)."""
        self.sts_calls += 1
        if ctype != "application/x-www-form-urlencoded":
            raise OAuthError(400, "invalid_request", "Content-Type must be "
                             "application/x-www-form-urlencoded")
        try:
            form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise OAuthError(400, "invalid_request", "malformed form body")
        get = lambda k: form.get(k, [""])[0]  # noqa: E731
        if get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange":
            raise OAuthError(400, "unsupported_grant_type", "Invalid grant_type.")
        if get("requested_token_type") != "urn:ietf:params:oauth:token-type:access_token":
            raise OAuthError(400, "invalid_request", "Invalid requested_token_type.")
        if get("subject_token_type") not in ("urn:ietf:params:oauth:token-type:jwt",
                                             "urn:ietf:params:oauth:token-type:id_token"):
            raise OAuthError(400, "invalid_request", "Invalid subject_token_type.")
        if "https://www.googleapis.com/auth/cloud-platform" not in get("scope").split():
            raise OAuthError(400, "invalid_scope", "Invalid scope.")
        accepted = self.pools.get(get("audience"))
        if accepted is None:
            raise OAuthError(400, "invalid_target", "The target service indicated by the "
                             "\"audience\" parameters is invalid.")
        if get("subject_token") not in accepted:
            raise OAuthError(400, "invalid_grant", "The incoming token has expired or is invalid.")
        out = self.issue("principal://" + get("audience"), "sts")
        out["issued_token_type"] = "urn:ietf:params:oauth:token-type:access_token"
        return out

    def impersonate(self, email, hmap, body):
        """`POST .../serviceAccounts/{email}:generateAccessToken` with an STS token."""
        auth = hmap.get("authorization", "")
        entry = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if entry is None or entry["expires"] <= self.now() or entry["source"] != "sts":
            raise unauthenticated(entry is None and not auth)
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            req = None
        if not isinstance(req, dict) or not isinstance(req.get("scope"), list) or \
                "https://www.googleapis.com/auth/cloud-platform" not in req["scope"]:
            raise GcpError(400, "INVALID_ARGUMENT", "scope must list cloud-platform.")
        if email not in self.accounts and email != self.metadata_email:
            raise GcpError(404, "NOT_FOUND", "Service account %s not found." % email)
        tok = self.issue(email, "impersonated")
        exp = self.tokens[tok["access_token"]]["expires"]
        return {"accessToken": tok["access_token"],
                "expireTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp))}

    # -- metadata server ---------------------------------------------------------------------------
    def metadata(self, method, path, hmap, project_id):
        """-> (status, body bytes, content type)."""
        self.metadata_calls += 1
        if method != "GET":
            return 405, b"method not allowed", "text/plain"
        if hmap.get("metadata-flavor") != "Google":
            return 403, (b"Missing required header: Metadata-Flavor\n"), "text/html"
        sub = path[len("/computeMetadata/v1"):]
        if sub in ("", "/"):
            return 200, b"instance/\nproject/\n", "application/text"
        if sub == "/project/project-id":
            return 200, project_id.encode(), "application/text"
        if sub == "/instance/service-accounts/default/email":
            return 200, self.metadata_email.encode(), "application/text"
        if sub == "/instance/service-accounts/default/token":
            tok = self.issue(self.metadata_email, "metadata")
            return 200, json.dumps(tok).encode(), "application/json"
        return 404, b"not found", "text/html"

    # -- API calls ---------------------------------------------------------------------------------
    def check_bearer(self, hmap):
        auth = hmap.get("authorization")
        if auth is None:
            raise unauthenticated(True)
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise unauthenticated(False)
        entry = self.tokens.get(token)
        if entry is not None:
            if entry["expires"] <= self.now():
                raise unauthenticated(False)
            return entry["email"], entry["source"]
        try:
            header, claims, signing_input, signature = parse_jwt(token)
            self._verify_signature(header, claims, signing_input, signature)
            self._check_times(claims)
        except (ValueError, UnicodeDecodeError, OAuthError):
            raise unauthenticated(False)
        if claims.get("sub") != claims.get("iss") or not (
                claims.get("aud") == API_AUDIENCE or isinstance(claims.get("scope"), str)):
            raise unauthenticated(False)
        return claims["iss"], "self-signed-jwt"


