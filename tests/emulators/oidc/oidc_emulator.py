#!/usr/bin/env python3
"""A strict OpenID Connect provider for tests (authorization code + PKCE).

  python3 oidc_emulator.py --port 0 --port-file F [--client-id ID]
                           [--client-secret-file PATH] [--redirect-uri URI]

One registered client (id, secret, exact redirect URI). The issuer is
http://127.0.0.1:<port>. Endpoints, as a real provider answers them:

  GET  /.well-known/openid-configuration   discovery
  GET  /jwks                               the published RSA keys (RS256)
  GET  /authorize                          signs the scripted user in at once and
                                           302s to redirect_uri?code&state; requires
                                           response_type=code, the client, the exact
                                           redirect_uri, scope with openid, state, nonce,
                                           code_challenge with method S256. An unknown
                                           client or redirect_uri is 400 (never a redirect)
  POST /token                              form body; client_secret_basic or
                                           client_secret_post (not both); grant_type
                                           authorization_code; the code once, unexpired,
                                           for the same client and redirect_uri; the PKCE
                                           verifier must hash to the challenge. RFC 6749
                                           errors: 400 invalid_request/invalid_grant/
                                           unsupported_grant_type, 401 invalid_client

Control API (header X-Emulator-Admin: 1, else 404):

  POST /_emulator/next-login  {"claims": {...}, "fault": F, "error": E}: the next sign-in's
                              user claims (merged over the default user) and one fault:
                              wrong_nonce, wrong_aud, wrong_iss, multi_aud_no_azp, expired,
                              future_iat, bad_signature, alg_none, hs256, unknown_kid; or
                              "error": the authorize endpoint redirects with ?error=E
  POST /_emulator/client      {"redirect_uri": URI}: the client's registered redirect URI
  POST /_emulator/rotate-keys a new signing key (new kid) is published and used; the old
                              one stays published
  POST /_emulator/reset       back to the start (one key, default user, no faults)
  GET  /_emulator/stats       request counts per endpoint
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode, urlparse, unquote

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # emucommon
from emucommon import http_front  # noqa: E402

DEFAULT_USER = {"sub": "user-0001", "preferred_username": "ada", "email": "ada@example.com",
                "email_verified": True, "name": "Ada Lovelace"}
FAULTS = {"wrong_nonce", "wrong_aud", "wrong_iss", "multi_aud_no_azp", "expired", "future_iat",
          "bad_signature", "alg_none", "hs256", "unknown_kid"}
CODE_TTL = 60


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_b64(n):
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class Key:
    def __init__(self, kid):
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self):
        pub = self.private.public_key().public_numbers()
        return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                "n": int_b64(pub.n), "e": int_b64(pub.e)}

    def sign(self, data):
        return self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())


class Provider:
    def __init__(self, client_id, client_secret, redirect_uri):
        self.client_id, self.client_secret, self.redirect_uri = client_id, client_secret, redirect_uri
        self.lock = threading.Lock()
        self.issuer = None
        self.reset()

    def reset(self):
        with self.lock:
            self.keys = [Key("key-1")]
            self.stray = Key("stray")  # never published: unknown_kid
            self.codes = {}
            self.script = {"claims": {}, "fault": None, "error": None}
            self.stats = {}

    def count(self, name):
        with self.lock:
            self.stats[name] = self.stats.get(name, 0) + 1

    def id_token(self, grant):
        now = int(time.time())
        fault = grant["fault"]
        claims = dict(DEFAULT_USER)
        claims.update(grant["claims"])
        claims.update({"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 300,
                       "auth_time": now, "nonce": grant["nonce"]})
        if fault == "wrong_nonce":
            claims["nonce"] = "not-the-nonce-" + secrets.token_urlsafe(8)
        elif fault == "wrong_aud":
            claims["aud"] = "another-client"
        elif fault == "wrong_iss":
            claims["iss"] = "https://evil.example"
        elif fault == "multi_aud_no_azp":
            claims["aud"] = [self.client_id, "another-client"]
        elif fault == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 1800
        elif fault == "future_iat":
            claims["iat"] = now + 3600
        key = self.stray if fault == "unknown_kid" else self.keys[-1]
        header = {"alg": "RS256", "typ": "JWT", "kid": key.kid}
        if fault == "alg_none":
            header = {"alg": "none", "typ": "JWT"}
        elif fault == "hs256":
            header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        if fault == "alg_none":
            sig = b""
        elif fault == "hs256":
            sig = hmac.new(self.client_secret.encode(), signing_input, hashlib.sha256).digest()
        else:
            sig = key.sign(signing_input)
            if fault == "bad_signature":
                sig = bytes([sig[0] ^ 1]) + sig[1:]
        return signing_input.decode() + "." + b64url(sig)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "oidc-emulator"

    def log_message(self, *args):
        pass

    @property
    def p(self):
        return self.server.provider

    def send(self, code, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(code)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def oauth_error(self, code, error, description, headers=None):
        self.send(code, {"error": error, "error_description": description}, headers)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        url = urlparse(self.path)
        if url.path.startswith("/_emulator/"):
            return self.control("GET", url.path[len("/_emulator/"):], b"")
        if url.path == "/.well-known/openid-configuration":
            self.p.count("discovery")
            i = self.p.issuer
            return self.send(200, {
                "issuer": i, "authorization_endpoint": i + "/authorize",
                "token_endpoint": i + "/token", "jwks_uri": i + "/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["openid", "email", "profile"]})
        if url.path == "/jwks":
            self.p.count("jwks")
            with self.p.lock:
                keys = [k.jwk() for k in self.p.keys]
            return self.send(200, {"keys": keys})
        if url.path == "/authorize":
            return self.authorize(parse_qs(url.query, keep_blank_values=True))
        self.send(404, {"error": "not_found"})

    def do_POST(self):
        url = urlparse(self.path)
        body = self.body()
        if url.path.startswith("/_emulator/"):
            return self.control("POST", url.path[len("/_emulator/"):], body)
        if url.path == "/token":
            return self.token(body)
        self.send(404, {"error": "not_found"})

    # ---- authorize -----------------------------------------------------------------

    def authorize(self, q):
        self.p.count("authorize")

        def one(name):
            v = q.get(name)
            return v[0] if v and len(v) == 1 else None
        if one("client_id") != self.p.client_id:
            return self.send(400, {"error": "invalid_request", "error_description": "unknown client_id"})
        redirect_uri = one("redirect_uri")
        if redirect_uri != self.p.redirect_uri:
            return self.send(400, {"error": "invalid_request",
                                   "error_description": "redirect_uri is not registered for this client"})
        state = one("state")

        def back(params):
            if state is not None:
                params["state"] = state
            sep = "&" if "?" in redirect_uri else "?"
            self.send(302, None, {"Location": redirect_uri + sep + urlencode(params)})
        if one("response_type") != "code":
            return back({"error": "unsupported_response_type"})
        if "openid" not in (one("scope") or "").split(" "):
            return back({"error": "invalid_scope", "error_description": "openid is required"})
        if not state or not one("nonce"):
            return back({"error": "invalid_request", "error_description": "state and nonce are required"})
        challenge = one("code_challenge")
        if one("code_challenge_method") != "S256" or not challenge or len(challenge) != 43:
            return back({"error": "invalid_request", "error_description": "PKCE with S256 is required"})
        with self.p.lock:
            script = self.p.script
            self.p.script = {"claims": {}, "fault": None, "error": None}
        if script["error"]:
            return back({"error": script["error"]})
        code = secrets.token_urlsafe(32)
        with self.p.lock:
            self.p.codes[code] = {"client_id": self.p.client_id, "redirect_uri": redirect_uri,
                                  "nonce": one("nonce"), "challenge": challenge,
                                  "claims": script["claims"], "fault": script["fault"],
                                  "expires": time.time() + CODE_TTL, "used": False}
        back({"code": code})

    # ---- token ---------------------------------------------------------------------

    def token(self, raw):
        self.p.count("token")
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return self.oauth_error(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
        form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        if any(len(v) != 1 for v in form.values()):
            return self.oauth_error(400, "invalid_request", "a parameter is repeated")
        f = {k: v[0] for k, v in form.items()}
        auth = self.headers.get("Authorization")
        if auth and "client_secret" in f:
            return self.oauth_error(400, "invalid_request", "use one client authentication method")
        if auth:
            if not auth.startswith("Basic "):
                return self.oauth_error(401, "invalid_client", "unsupported authentication scheme",
                                        {"WWW-Authenticate": 'Basic realm="oidc-emulator"'})
            try:
                user, _, pw = base64.b64decode(auth[6:], validate=True).decode().partition(":")
                client_id, secret = unquote(user), unquote(pw)
            except Exception:
                return self.oauth_error(401, "invalid_client", "malformed Basic credentials",
                                        {"WWW-Authenticate": 'Basic realm="oidc-emulator"'})
            if f.get("client_id") not in (None, client_id):
                return self.oauth_error(400, "invalid_request", "client_id differs from the authenticated client")
        else:
            client_id, secret = f.get("client_id"), f.get("client_secret")
        if client_id != self.p.client_id or secret is None or not hmac.compare_digest(
                secret.encode(), self.p.client_secret.encode()):
            return self.oauth_error(401, "invalid_client", "client authentication failed",
                                    {"WWW-Authenticate": 'Basic realm="oidc-emulator"'})
        if f.get("grant_type") != "authorization_code":
            return self.oauth_error(400, "unsupported_grant_type", "only authorization_code")
        code, verifier = f.get("code"), f.get("code_verifier")
        if not code or not verifier:
            return self.oauth_error(400, "invalid_request", "code and code_verifier are required")
        with self.p.lock:
            grant = self.p.codes.get(code)
            replay = grant is not None and grant["used"]
            if grant is not None:
                grant["used"] = True
        if grant is None or replay or grant["expires"] < time.time():
            return self.oauth_error(400, "invalid_grant", "the code is unknown, used or expired")
        if grant["client_id"] != client_id or f.get("redirect_uri") != grant["redirect_uri"]:
            return self.oauth_error(400, "invalid_grant", "redirect_uri or client differs from the authorization")
        if not (43 <= len(verifier) <= 128) or b64url(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
            return self.oauth_error(400, "invalid_grant", "the PKCE code_verifier does not match")
        self.send(200, {"access_token": secrets.token_urlsafe(32), "token_type": "Bearer",
                        "expires_in": 300, "id_token": self.p.id_token(grant)})

    # ---- control -------------------------------------------------------------------

    def control(self, method, name, raw):
        if self.headers.get("X-Emulator-Admin") != "1":
            return self.send(404, {"error": "not_found"})
        try:
            doc = json.loads(raw) if raw else {}
        except ValueError:
            return self.send(400, {"error": "invalid JSON"})
        if method == "POST" and name == "next-login":
            unknown = set(doc) - {"claims", "fault", "error"}
            fault = doc.get("fault")
            if unknown or (fault is not None and fault not in FAULTS) or not isinstance(doc.get("claims", {}), dict):
                return self.send(400, {"error": "fields: claims (object), fault (%s), error" % "|".join(sorted(FAULTS))})
            with self.p.lock:
                self.p.script = {"claims": doc.get("claims", {}), "fault": fault, "error": doc.get("error")}
            return self.send(200, {"ok": True})
        if method == "POST" and name == "client":
            uri = doc.get("redirect_uri")
            if set(doc) != {"redirect_uri"} or not isinstance(uri, str) or not uri.startswith("http"):
                return self.send(400, {"error": "fields: redirect_uri (an http(s) URL)"})
            with self.p.lock:
                self.p.redirect_uri = uri
            return self.send(200, {"ok": True})
        if method == "POST" and name == "rotate-keys":
            with self.p.lock:
                kid = "key-%d" % (len(self.p.keys) + 1)
                self.p.keys.append(Key(kid))
            return self.send(200, {"kid": kid})
        if method == "POST" and name == "reset":
            self.p.reset()
            return self.send(200, {"ok": True})
        if method == "GET" and name == "stats":
            with self.p.lock:
                return self.send(200, dict(self.p.stats))
        self.send(404, {"error": "unknown control endpoint"})


def make_server(host, port, client_id, client_secret, redirect_uri):
    server = http_front.make_server(Handler, host, port)
    server.provider = Provider(client_id, client_secret, redirect_uri)
    server.provider.issuer = "http://%s:%d" % (host, server.server_address[1])
    return server


def main(argv=None):
    ap = argparse.ArgumentParser(description="OpenID Connect provider emulator")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--client-id", default="sbridge")
    ap.add_argument("--client-secret-file")
    ap.add_argument("--redirect-uri", default="http://127.0.0.1:8080/api/v1/auth/oidc/callback")
    args = ap.parse_args(argv)
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        print("--host must be a loopback address", file=sys.stderr)
        return 2
    secret = "emulator-client-secret"
    if args.client_secret_file:
        with open(args.client_secret_file) as f:
            secret = f.readline().strip()
    server = make_server(args.host, args.port, args.client_id, secret, args.redirect_uri)
    return http_front.listen_and_serve(server, args.port_file,
                                       "oidc-emulator listening on %s" % server.provider.issuer)


if __name__ == "__main__":
    sys.exit(main())
