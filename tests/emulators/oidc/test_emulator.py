"""Unit tests of the OpenID provider emulator over real HTTP on loopback
(python3 -m unittest): it must be as strict as a real provider, or the
control plane's tests would pass against something lenient."""

import base64
import hashlib
import http.client
import json
import pathlib
import secrets
import sys
import threading
import unittest
from urllib.parse import parse_qs, urlencode, urlparse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from oidc_emulator import make_server  # noqa: E402

CLIENT, SECRET, REDIRECT = "sbridge", "s3cret-for-tests", "http://127.0.0.1:9/api/v1/auth/oidc/callback"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class EmulatorCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = make_server("127.0.0.1", 0, CLIENT, SECRET, REDIRECT)
        cls.port = cls.server.server_address[1]
        cls.issuer = "http://127.0.0.1:%d" % cls.port
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        self.server.provider.reset()

    def call(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict(r.getheaders()), (json.loads(data) if data else None)

    def admin(self, name, doc=None):
        return self.call("POST", "/_emulator/" + name, json.dumps(doc or {}),
                         {"X-Emulator-Admin": "1", "Content-Type": "application/json"})

    def authorize(self, **over):
        verifier = secrets.token_urlsafe(32)
        q = {"response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT,
             "scope": "openid email", "state": "st-1", "nonce": "n-123",
             "code_challenge": b64url(hashlib.sha256(verifier.encode()).digest()),
             "code_challenge_method": "S256"}
        q.update(over)
        q = {k: v for k, v in q.items() if v is not None}
        status, headers, body = self.call("GET", "/authorize?" + urlencode(q))
        loc = headers.get("Location", "")
        return status, parse_qs(urlparse(loc).query), verifier, body

    def token(self, code, verifier, basic=True, extra=None):
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                "code_verifier": verifier}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if basic:
            headers["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % (CLIENT, SECRET)).encode()).decode()
        else:
            form.update({"client_id": CLIENT, "client_secret": SECRET})
        form.update(extra or {})
        return self.call("POST", "/token", urlencode(form), headers)

    def verify(self, id_token):
        h, p, s = id_token.split(".")
        header, claims = json.loads(unb64(h)), json.loads(unb64(p))
        _, _, jwks = self.call("GET", "/jwks")
        key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
        pub = rsa.RSAPublicNumbers(int.from_bytes(unb64(key["e"]), "big"),
                                   int.from_bytes(unb64(key["n"]), "big")).public_key()
        pub.verify(unb64(s), (h + "." + p).encode(), padding.PKCS1v15(), hashes.SHA256())
        return header, claims

    def test_discovery_names_the_issuer_and_endpoints(self):
        status, _, doc = self.call("GET", "/.well-known/openid-configuration")
        self.assertEqual(status, 200)
        self.assertEqual(doc["issuer"], self.issuer)
        self.assertEqual(doc["token_endpoint"], self.issuer + "/token")
        self.assertIn("S256", doc["code_challenge_methods_supported"])

    def test_full_code_flow_signs_a_verifiable_id_token(self):
        status, q, verifier, _ = self.authorize()
        self.assertEqual(status, 302)
        self.assertEqual(q["state"], ["st-1"])
        status, _, body = self.token(q["code"][0], verifier)
        self.assertEqual(status, 200, body)
        header, claims = self.verify(body["id_token"])
        self.assertEqual(header["alg"], "RS256")
        self.assertEqual((claims["iss"], claims["aud"], claims["nonce"], claims["sub"]),
                         (self.issuer, CLIENT, "n-123", "user-0001"))

    def test_client_secret_post_works_and_both_methods_at_once_do_not(self):
        _, q, verifier, _ = self.authorize()
        self.assertEqual(self.token(q["code"][0], verifier, basic=False)[0], 200)
        _, q, verifier, _ = self.authorize()
        status, _, body = self.token(q["code"][0], verifier, extra={"client_secret": SECRET})
        self.assertEqual((status, body["error"]), (400, "invalid_request"))

    def test_a_code_is_single_use(self):
        _, q, verifier, _ = self.authorize()
        self.assertEqual(self.token(q["code"][0], verifier)[0], 200)
        status, _, body = self.token(q["code"][0], verifier)
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))

    def test_a_wrong_verifier_secret_or_redirect_is_refused(self):
        _, q, _, _ = self.authorize()
        status, _, body = self.token(q["code"][0], secrets.token_urlsafe(32))
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))
        _, q, verifier, _ = self.authorize()
        bad = {"Content-Type": "application/x-www-form-urlencoded",
               "Authorization": "Basic " + base64.b64encode(b"sbridge:wrong").decode()}
        status, headers, body = self.call("POST", "/token", urlencode(
            {"grant_type": "authorization_code", "code": q["code"][0], "redirect_uri": REDIRECT,
             "code_verifier": verifier}), bad)
        self.assertEqual((status, body["error"]), (401, "invalid_client"))
        self.assertIn("WWW-Authenticate", headers)
        _, q, verifier, _ = self.authorize()
        status, _, body = self.token(q["code"][0], verifier, extra={"redirect_uri": REDIRECT + "x"})
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))

    def test_authorize_is_strict(self):
        status, q, _, body = self.authorize(redirect_uri="https://evil.example/cb")
        self.assertEqual(status, 400, "an unregistered redirect_uri is never redirected to")
        self.assertEqual(self.authorize(client_id="other")[0], 400)
        status, q, _, _ = self.authorize(code_challenge_method="plain")
        self.assertEqual((status, q["error"]), (302, ["invalid_request"]))
        status, q, _, _ = self.authorize(scope="email")
        self.assertEqual(q["error"], ["invalid_scope"])
        status, q, _, _ = self.authorize(nonce=None)
        self.assertEqual(q["error"], ["invalid_request"])

    def test_scripted_faults_and_errors(self):
        self.admin("next-login", {"fault": "alg_none"})
        _, q, verifier, _ = self.authorize()
        tok = self.token(q["code"][0], verifier)[2]["id_token"]
        self.assertEqual(json.loads(unb64(tok.split(".")[0]))["alg"], "none")
        self.assertTrue(tok.endswith("."))
        self.admin("next-login", {"fault": "wrong_aud", "claims": {"sub": "u2"}})
        _, q, verifier, _ = self.authorize()
        _, claims = self.verify(self.token(q["code"][0], verifier)[2]["id_token"])
        self.assertEqual((claims["aud"], claims["sub"]), ("another-client", "u2"))
        self.admin("next-login", {"error": "access_denied"})
        status, q, _, _ = self.authorize()
        self.assertEqual((q["error"], q["state"]), (["access_denied"], ["st-1"]))
        self.assertEqual(self.admin("next-login", {"fault": "nonsense"})[0], 400)

    def test_rotation_publishes_a_new_signing_key(self):
        _, body = self.admin("rotate-keys")[0], self.admin("rotate-keys")[2]
        _, _, jwks = self.call("GET", "/jwks")
        self.assertEqual([k["kid"] for k in jwks["keys"]], ["key-1", "key-2", "key-3"])
        _, q, verifier, _ = self.authorize()
        header, _ = self.verify(self.token(q["code"][0], verifier)[2]["id_token"])
        self.assertEqual(header["kid"], body["kid"])

    def test_control_api_needs_the_admin_header(self):
        self.assertEqual(self.call("POST", "/_emulator/reset", "{}")[0], 404)


if __name__ == "__main__":
    unittest.main()
