"""Unit tests of the Azure Key Vault emulator over real TLS and HTTP on loopback
(python3 -m unittest). The client side here is the standard library (http.client with
an ssl context trusting only the emulator's generated CA) and python3-cryptography for
the RS256 client assertions; nothing of the emulator's own code signs or parses for it.
"""

import base64
import datetime
import hashlib
import http.client
import json
import pathlib
import socket
import ssl
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # emucommon
sys.path.insert(0, str(HERE))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from kvemu.server import start  # noqa: E402

TENANT = "11111111-2222-3333-4444-555555555555"
OTHER_TENANT = "99999999-2222-3333-4444-555555555555"
SCOPE = "https://vault.azure.net/.default"

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

def make_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sbridge-test-app")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return key, cert

def assertion(key, cert, client_id, aud, exp_delta=600, jti=None, header_extra=None, pss=False):
    der = cert.public_bytes(serialization.Encoding.DER)
    header = {"alg": "RS256", "typ": "JWT", "x5t": b64url(hashlib.sha1(der).digest())}
    if pss:  # what MSAL sends
        header = {"alg": "PS256", "typ": "JWT", "x5t#S256": b64url(hashlib.sha256(der).digest())}
    header.update(header_extra or {})
    now = int(time.time())
    claims = {"aud": aud, "iss": client_id, "sub": client_id, "jti": jti or str(uuid.uuid4()),
              "nbf": now - 10, "exp": now + exp_delta}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH) \
        if pss else padding.PKCS1v15()
    sig = key.sign(signing_input.encode(), pad, hashes.SHA256())
    return signing_input + "." + b64url(sig)

class EmulatorCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.emu, cls.tls_server, cls.plain_server = start("127.0.0.1", 0, 0, TENANT, cls.dir.name, 3599)
        cls.info = cls.emu.info
        cls.ctx = ssl.create_default_context(cafile=cls.info["ca_file"])

    @classmethod
    def tearDownClass(cls):
        for s in (cls.tls_server, cls.plain_server):
            s.shutdown()
            s.server_close()
        cls.dir.cleanup()

    def setUp(self):
        self.emu.reset()

    # -- clients --------------------------------------------------------------------------
    def https(self, method, path, headers=None, body=b""):
        c = http.client.HTTPSConnection("127.0.0.1", self.info["tls_port"], context=self.ctx,
                                        timeout=10)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        out = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, out

    def plain(self, method, path, headers=None, body=b"", port=None):
        c = http.client.HTTPConnection("127.0.0.1", port or self.info["http_port"], timeout=10)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        out = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, out

    def admin(self, name, body=None):
        status, _, out = self.plain("POST" if body is not None else "GET", "/_emulator/" + name,
                                    {"X-Emulator-Admin": "1"},
                                    json.dumps(body).encode() if body is not None else b"")
        self.assertEqual(status, 200, out)
        return json.loads(out)

    def token(self, **kw):
        return self.admin("token", kw)["access_token"]

    def kv(self, method, path, token=None, body=None, api="7.5"):
        sep = "&" if "?" in path else "?"
        if api is not None:
            path += sep + "api-version=" + api
        headers = {}
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        data = b""
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        status, h, out = self.https(method, path, headers, data)
        return status, h, json.loads(out) if out else None

    def aad(self, form, tenant=TENANT):
        status, _, out = self.https("POST", "/%s/oauth2/v2.0/token" % tenant,
                                    {"Content-Type": "application/x-www-form-urlencoded"},
                                    urllib.parse.urlencode(form).encode())
        return status, json.loads(out)

    def endpoint(self, tenant=TENANT):
        return "%s/%s/oauth2/v2.0/token" % (self.info["authority_host"], tenant)

class ChallengeAndTokens(EmulatorCase):
    def test_unauthenticated_get_gets_the_challenge(self):
        status, h, out = self.kv("GET", "/secrets/db")
        self.assertEqual(status, 401)
        self.assertEqual(out, {"error": {"code": "Unauthorized",
                                         "message": "Request is missing a Bearer or PoP token."}})
        self.assertEqual(h["www-authenticate"],
                         'Bearer authorization="https://login.microsoftonline.com/%s", '
                         'resource="https://vault.azure.net"' % TENANT)

    def test_bodyless_put_gets_401_not_400(self):
        status, h, _ = self.https("PUT", "/secrets/db?api-version=7.5", {"Content-Length": "0"})
        self.assertEqual(status, 401)
        self.assertIn("www-authenticate", h)

    def test_expired_unknown_and_foreign_tokens_are_refused(self):
        expired = self.token(expires_in=-1)
        foreign = self.token(tenant=OTHER_TENANT)
        wrong_aud = self.token(audience="https://management.azure.com")
        for tok, needle in ((expired, "expired"), ("kvemu.forged", "Invalid token"),
                            (foreign, "Invalid issuer"), (wrong_aud, "Invalid audience")):
            status, h, out = self.kv("GET", "/secrets", tok)
            self.assertEqual(status, 401, tok)
            self.assertEqual(out["error"]["code"], "Unauthorized")
            self.assertIn(needle, out["error"]["message"])
            self.assertIn("authorization=", h["www-authenticate"])

    def test_expire_tokens_control(self):
        tok = self.token()
        self.assertEqual(self.kv("GET", "/secrets", tok)[0], 200)
        self.admin("expire-tokens", {})
        self.assertEqual(self.kv("GET", "/secrets", tok)[0], 401)

class ApiVersionAndTransport(EmulatorCase):
    def test_supported_versions(self):
        tok = self.token()
        for api in ("7.4", "7.5", "7.6", "7.6-preview.2", "2025-07-01"):
            self.assertEqual(self.kv("GET", "/secrets", tok, api=api)[0], 200, api)

    def test_wrong_or_missing_api_version_is_bad_parameter(self):
        tok = self.token()
        for api in ("7.3", "7.0", "2016-10-01", "banana", None):
            status, _, out = self.kv("GET", "/secrets", tok, api=api)
            self.assertEqual(status, 400, api)
            self.assertEqual(out["error"]["code"], "BadParameter", api)

    def test_plain_http_to_the_tls_port_is_refused(self):
        with self.assertRaises((ConnectionError, http.client.HTTPException, socket.timeout, OSError)):
            self.plain("GET", "/secrets?api-version=7.5",
                       {"Authorization": "Bearer " + self.token()}, port=self.info["tls_port"])

    def test_vault_is_not_served_over_plain_http(self):
        status, _, out = self.plain("GET", "/secrets?api-version=7.5",
                                    {"Authorization": "Bearer " + self.token()})
        self.assertEqual(status, 404)
        self.assertIn(b"https only", out)

class SecretsOps(EmulatorCase):
    def test_set_get_versions_tags_content_type_unix_seconds(self):
        tok = self.token()
        before = int(time.time())
        status, _, v1 = self.kv("PUT", "/secrets/app-db", tok,
                                {"value": '{"user":"u"}', "contentType": "application/json",
                                 "tags": {"team": "a"}})
        self.assertEqual(status, 200, v1)
        self.assertRegex(v1["id"], r"^https://127\.0\.0\.1:%d/secrets/app-db/[0-9a-f]{32}$"
                         % self.info["tls_port"])
        self.assertIsInstance(v1["attributes"]["created"], int)
        self.assertGreaterEqual(v1["attributes"]["created"], before)
        _, _, v2 = self.kv("PUT", "/secrets/app-db", tok, {"value": "plain"})
        _, _, latest = self.kv("GET", "/secrets/app-db/", tok)   # trailing slash: latest
        self.assertEqual(latest["value"], "plain")
        self.assertNotIn("tags", latest)          # tags belong to a version
        self.assertNotIn("contentType", latest)
        vid1 = v1["id"].rsplit("/", 1)[1]
        _, _, old = self.kv("GET", "/secrets/APP-DB/" + vid1, tok)  # names are case-insensitive
        self.assertEqual((old["value"], old["tags"], old["contentType"]),
                         ('{"user":"u"}', {"team": "a"}, "application/json"))
        status, _, vers = self.kv("GET", "/secrets/app-db/versions", tok)
        self.assertEqual(status, 200)
        self.assertEqual(sorted(i["id"] for i in vers["value"]), sorted([v1["id"], v2["id"]]))
        self.assertTrue(all("value" not in i for i in vers["value"]))

    def test_not_found_shape(self):
        status, _, out = self.kv("GET", "/secrets/nope", self.token())
        self.assertEqual(status, 404)
        self.assertEqual(out["error"]["code"], "SecretNotFound")
        self.assertTrue(out["error"]["message"].startswith(
            "A secret with (name/id) nope was not found in this key vault."))
        status, _, out = self.kv("GET", "/secrets/nope/0123456789abcdef0123456789abcdef", self.token())
        self.assertEqual((status, out["error"]["code"]), (404, "SecretNotFound"))

    def test_bad_names_and_bodies(self):
        tok = self.token()
        self.assertEqual(self.kv("PUT", "/secrets/bad_name", tok, {"value": "x"})[0], 400)
        self.assertEqual(self.kv("PUT", "/secrets/ok", tok, {"contentType": "x"})[0], 400)
        self.assertEqual(self.kv("PUT", "/secrets/ok", tok, {"value": 3})[0], 400)
        too_many = {"t%d" % i: "v" for i in range(16)}
        self.assertEqual(self.kv("PUT", "/secrets/ok", tok, {"value": "x", "tags": too_many})[0], 400)

    def test_list_pages_with_absolute_next_link(self):
        tok = self.token()
        for i in range(5):
            self.kv("PUT", "/secrets/s%d" % i, tok, {"value": "v", "tags": {"n": str(i)}})
        status, _, page = self.kv("GET", "/secrets?maxresults=2", tok)
        self.assertEqual(status, 200)
        names, pages = [], 0
        while True:
            pages += 1
            for item in page["value"]:
                self.assertNotIn("value", item)
                self.assertRegex(item["id"], r"/secrets/s\d$")
                names.append(item["id"].rsplit("/", 1)[1])
                self.assertEqual(item["tags"]["n"], item["id"][-1])
            link = page["nextLink"]
            if link is None:
                break
            u = urllib.parse.urlsplit(link)
            self.assertEqual((u.scheme, u.netloc), ("https", "127.0.0.1:%d" % self.info["tls_port"]))
            self.assertIn("api-version=7.5", u.query)
            status, _, page = self.kv("GET", u.path + "?" + u.query, tok, api=None)
            self.assertEqual(status, 200, page)
        self.assertEqual((names, pages), (["s0", "s1", "s2", "s3", "s4"], 3))
        self.assertEqual(self.kv("GET", "/secrets?maxresults=26", tok)[0], 400)
        self.assertEqual(self.kv("GET", "/secrets?maxresults=0", tok)[0], 400)

    def test_next_link_host_override(self):
        tok = self.token()
        for i in range(3):
            self.kv("PUT", "/secrets/s%d" % i, tok, {"value": "v"})
        self.admin("nextlink-host", {"host": "evil.example:443"})
        _, _, page = self.kv("GET", "/secrets?maxresults=1", tok)
        self.assertTrue(page["nextLink"].startswith("https://evil.example:443/secrets?"))

    def test_delete_then_set_conflicts(self):
        tok = self.token()
        self.kv("PUT", "/secrets/gone", tok, {"value": "v"})
        status, _, out = self.kv("DELETE", "/secrets/gone", tok)
        self.assertEqual(status, 200)
        self.assertIn("recoveryId", out)
        self.assertEqual(self.kv("GET", "/secrets/gone", tok)[0], 404)
        status, _, out = self.kv("PUT", "/secrets/gone", tok, {"value": "v"})
        self.assertEqual((status, out["error"]["code"]), (409, "Conflict"))

    def test_race_sets_another_version_right_after(self):
        tok = self.token()
        self.admin("race", {"name": "r", "value": "theirs"})
        _, _, mine = self.kv("PUT", "/secrets/r", tok, {"value": "mine"})
        _, _, latest = self.kv("GET", "/secrets/r", tok)
        self.assertEqual(latest["value"], "theirs")
        self.assertNotEqual(latest["id"], mine["id"])
        self.kv("PUT", "/secrets/r", tok, {"value": "again", "tags": {"a": "b"}})   # one-shot
        self.assertEqual(self.kv("GET", "/secrets/r", tok)[2]["value"], "again")
        peek = self.admin("peek", {"name": "R"})
        self.assertEqual((peek["value"], peek["tags"], peek["versions"]), ("again", {"a": "b"}, 3))

    def test_forbidden_with_innererror(self):
        self.admin("deny", {"principal": "app-1", "inner": "AccessDenied"})
        status, _, out = self.kv("GET", "/secrets", self.token(principal="app-1"))
        self.assertEqual(status, 403)
        self.assertEqual((out["error"]["code"], out["error"]["innererror"]["code"]),
                         ("Forbidden", "AccessDenied"))

    def test_throttling_with_and_without_retry_after(self):
        tok = self.token()
        self.admin("faults", {"target": "GetSecrets", "retry_after": 7})
        self.admin("faults", {"target": "GetSecrets"})
        status, h, out = self.kv("GET", "/secrets", tok)
        self.assertEqual((status, out["error"]["code"], h.get("retry-after")), (429, "Throttled", "7"))
        status, h, out = self.kv("GET", "/secrets", tok)
        self.assertEqual((status, out["error"]["code"]), (429, "Throttled"))
        self.assertNotIn("retry-after", h)
        self.assertIn("VaultRequestTypeLimitReached", out["error"]["message"])
        self.assertEqual(self.kv("GET", "/secrets", tok)[0], 200)

    def test_delay_and_truncation_faults(self):
        tok = self.token()
        self.admin("faults", {"target": "GetSecrets", "delay_ms": 600})
        started = time.monotonic()
        self.assertEqual(self.kv("GET", "/secrets", tok)[0], 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.6)
        self.admin("faults", {"target": "GetSecrets", "truncate": True})
        with self.assertRaises(http.client.IncompleteRead):
            self.kv("GET", "/secrets", tok)
        self.assertEqual(self.kv("GET", "/secrets", tok)[0], 200)

    def test_request_log_never_holds_values(self):
        tok = self.token()
        self.kv("PUT", "/secrets/x", tok, {"value": "canary-value-123", "tags": {"a": "b"}})
        log = json.dumps(self.admin("requests"))
        self.assertNotIn("canary-value-123", log)
        self.assertNotIn(tok, log)
        self.assertIn('"members": ["tags", "value"]', log)

class EntraId(EmulatorCase):
    def test_client_secret(self):
        self.admin("apps", {"client_id": "app-1", "tenant": TENANT, "client_secret": "s3cret"})
        status, out = self.aad({"grant_type": "client_credentials", "client_id": "app-1",
                                "client_secret": "s3cret", "scope": SCOPE})
        self.assertEqual(status, 200, out)
        self.assertEqual((out["token_type"], out["expires_in"]), ("Bearer", 3599))
        self.assertIsInstance(out["ext_expires_in"], int)
        self.assertEqual(self.kv("GET", "/secrets", out["access_token"])[0], 200)

    def test_client_secret_errors(self):
        self.admin("apps", {"client_id": "app-1", "tenant": TENANT, "client_secret": "s3cret"})
        base = {"grant_type": "client_credentials", "client_id": "app-1", "scope": SCOPE}
        status, out = self.aad(dict(base, client_secret="wrong"))
        self.assertEqual((status, out["error"], out["error_codes"]), (401, "invalid_client", [7000215]))
        self.assertTrue(out["error_description"].startswith("AADSTS7000215:"))
        status, out = self.aad(dict(base, client_secret="s3cret", scope="https://vault.azure.net"))
        self.assertEqual((status, out["error"]), (400, "invalid_scope"))
        status, out = self.aad(dict(base, client_secret="s3cret"), tenant=OTHER_TENANT)
        self.assertEqual((status, out["error"]), (400, "unauthorized_client"))
        status, out = self.aad(dict(base, client_secret="s3cret", grant_type="password"))
        self.assertEqual((status, out["error"]), (400, "unsupported_grant_type"))
        status, out = self.aad(base)
        self.assertEqual((status, out["error_codes"]), (401, [7000218]))

    def cert_app(self, client_id):
        """Registers a new certificate for client_id; returns (key, cert, form without assertion)."""
        key, cert = make_cert()
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        self.admin("apps", {"client_id": client_id, "tenant": TENANT, "certificate_pem": pem})
        return key, cert, {"grant_type": "client_credentials", "client_id": client_id, "scope": SCOPE,
                           "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}

    def test_client_assertion_rs256(self):
        key, cert, form = self.cert_app("app-c")
        jwt = assertion(key, cert, "app-c", self.endpoint())
        status, out = self.aad(dict(form, client_assertion=jwt))
        self.assertEqual(status, 200, out)
        self.assertEqual(self.kv("GET", "/secrets", out["access_token"])[0], 200)
        # replay of the same jti
        status, out = self.aad(dict(form, client_assertion=jwt))
        self.assertEqual((status, out["error"]), (401, "invalid_client"))
        # another key with the registered thumbprint
        other, _ = make_cert()
        status, out = self.aad(dict(form, client_assertion=assertion(other, cert, "app-c", self.endpoint())))
        self.assertEqual((status, out["error_codes"]), (401, [700027]))
        # wrong audience, expired
        status, out = self.aad(dict(form, client_assertion=assertion(key, cert, "app-c", "https://x/")))
        self.assertEqual(status, 401)
        status, out = self.aad(dict(form, client_assertion=assertion(key, cert, "app-c", self.endpoint(),
                                                                     exp_delta=-3600)))
        self.assertEqual((status, out["error_codes"]), (401, [700024]))

    def test_client_assertion_ps256_as_msal_sends(self):
        key, cert, form = self.cert_app("app-p")
        status, out = self.aad(dict(form, client_assertion=assertion(key, cert, "app-p", self.endpoint(),
                                                                     pss=True)))
        self.assertEqual(status, 200, out)
        other, _ = make_cert()
        status, out = self.aad(dict(form, client_assertion=assertion(other, cert, "app-p", self.endpoint(),
                                                                     pss=True)))
        self.assertEqual((status, out["error_codes"]), (401, [700027]))

    def test_federated_token(self):
        self.admin("apps", {"client_id": "app-w", "tenant": TENANT, "federated_token": "k8s-sa-token"})
        form = {"grant_type": "client_credentials", "client_id": "app-w", "scope": SCOPE,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
        status, out = self.aad(dict(form, client_assertion="k8s-sa-token"))
        self.assertEqual(status, 200, out)
        status, out = self.aad(dict(form, client_assertion="other-token"))
        self.assertEqual(status, 401)

    def test_openid_configuration(self):
        status, _, out = self.https("GET", "/%s/v2.0/.well-known/openid-configuration" % TENANT)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(out)["token_endpoint"], self.endpoint())

    def test_imds(self):
        self.admin("managed-identity", {"client_id": "mi-1"})
        path = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" + \
            urllib.parse.quote("https://vault.azure.net", safe="")
        status, _, out = self.plain("GET", path)
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(out)["error_description"], "Required metadata header not specified")
        status, _, out = self.plain("GET", path, {"Metadata": "true"})
        self.assertEqual(status, 200, out)
        doc = json.loads(out)
        self.assertEqual((doc["token_type"], doc["expires_in"], doc["client_id"]), ("Bearer", "3599", "mi-1"))
        self.assertIsInstance(doc["expires_on"], str)
        self.assertEqual(self.kv("GET", "/secrets", doc["access_token"])[0], 200)
        status, _, out = self.plain("GET", path.replace("token?", "token/?"), {"Metadata": "true"})
        self.assertEqual(status, 200, "MSAL sends a trailing slash")
        status, _, out = self.plain("GET", path + "&client_id=other", {"Metadata": "true"})
        self.assertEqual(json.loads(out)["error_description"], "Identity not found")

    def test_control_api_needs_the_admin_header(self):
        status, _, _ = self.plain("POST", "/_emulator/reset", {}, b"{}")
        self.assertEqual(status, 404)

if __name__ == "__main__":
    unittest.main()
