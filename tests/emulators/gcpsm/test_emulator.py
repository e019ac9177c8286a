"""Unit tests of the GCP Secret Manager emulator over real HTTP on loopback
(python3 -m unittest). The client signs its own RS256 assertions (python3-cryptography), so
the token endpoint's verification is checked by an independent signer; the negative tests
prove a bad token, a bad assertion signature and a wrong CRC32C are refused."""

import base64
import http.client
import json
import pathlib
import sys
import threading
import time
import unittest
import urllib.parse
from http.server import ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # emucommon
sys.path.insert(0, str(HERE))

from gcpemu.control import Emulator  # noqa: E402
from gcpemu.crc32c import crc32c  # noqa: E402
from gcpemu.server import Handler  # noqa: E402

EMAIL = "sb@test-project.iam.gserviceaccount.com"
BASE = "/v1/projects/test-project"


def b64u(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def assertion(key, claims, kid="k1", alg="RS256"):
    head = b64u(json.dumps({"alg": alg, "typ": "JWT", "kid": kid}).encode())
    body = b64u(json.dumps(claims).encode())
    sig = key.sign((head + "." + body).encode(), padding.PKCS1v15(), hashes.SHA256())
    return head + "." + body + "." + b64u(sig)


class EmulatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cls.other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        cls.server.daemon_threads = True
        cls.server.lock = threading.Lock()
        cls.server.emulator = Emulator("test-project", "123456789012", True, 3599,
                                       "default@test-project.iam.gserviceaccount.com", time.time)
        cls.port = cls.server.server_address[1]
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        self.server.emulator.reset()
        pem = self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        self.admin("service-accounts", {"client_email": EMAIL, "public_key_pem": pem.decode(),
                                        "private_key_id": "k1"})
        self.token = self.exchange(self.claims())[1]["access_token"]

    # -- helpers -----------------------------------------------------------------------------------
    def req(self, method, path, body=None, headers=None, raw=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        c.request(method, path, body=data, headers=headers or {})
        r = c.getresponse()
        out = r.read()
        c.close()
        try:
            doc = json.loads(out) if out else {}
        except ValueError:
            doc = out
        return r.status, doc, r

    def admin(self, name, body=None):
        st, doc, _ = self.req("POST" if body is not None else "GET", "/_emulator/" + name, body,
                              {"X-Emulator-Admin": "1"})
        self.assertEqual(st, 200, doc)
        return doc

    def api(self, method, path, body=None, token=None, query=""):
        h = {"Authorization": "Bearer " + (token or self.token)}
        if body is not None:
            h["Content-Type"] = "application/json"
        return self.req(method, BASE + path + query, body, h)

    def claims(self, **over):
        now = int(time.time())
        c = {"iss": EMAIL, "scope": "https://www.googleapis.com/auth/cloud-platform",
             "aud": "http://127.0.0.1:%d/token" % self.port, "iat": now, "exp": now + 3600}
        c.update(over)
        return c

    def exchange(self, claims, key=None, kid="k1", grant=None):
        form = urllib.parse.urlencode({
            "grant_type": grant or "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": assertion(key or self.key, claims, kid)})
        st, doc, _ = self.req("POST", "/token", raw=form.encode(),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        return st, doc

    def seed(self, sid, labels=None, versions=("v1",)):
        return self.admin("secrets", {"secret_id": sid, "labels": labels or {},
                                      "versions": [{"data": v} for v in versions]})

    def add(self, sid, data, crc=None):
        payload = {"data": base64.b64encode(data).decode()}
        if crc is not False:
            payload["dataCrc32c"] = str(crc32c(data) if crc is None else crc)
        return self.api("POST", "/secrets/%s:addVersion" % sid, {"payload": payload})

    # -- CRC32C --------------------------------------------------------------------------------------
    def test_crc32c_check_values(self):
        self.assertEqual(crc32c(b"123456789"), 3808858755)
        self.assertEqual(crc32c(b"hello"), 2591144780)
        self.assertEqual(crc32c(b"my super secret data"), 2525891252)

    # -- OAuth2 ----------------------------------------------------------------------------------------
    def test_token_exchange_issues_a_bearer_that_works(self):
        st, doc = self.exchange(self.claims())
        self.assertEqual(st, 200, doc)
        self.assertEqual(doc["token_type"], "Bearer")
        self.assertEqual(doc["expires_in"], 3599)
        self.assertTrue(doc["access_token"].startswith("ya29."))
        self.assertEqual(self.api("GET", "/secrets", token=doc["access_token"])[0], 200)

    def test_bad_assertion_signature_is_refused(self):
        st, doc = self.exchange(self.claims(), key=self.other)
        self.assertEqual(st, 400)
        self.assertEqual(doc, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        # a tampered claim with the original signature
        good = assertion(self.key, self.claims())
        h, c, s = good.split(".")
        forged = b64u(json.dumps(self.claims(iss=EMAIL, scope="x https://www.googleapis.com/auth/"
                                             "cloud-platform")).encode())
        form = urllib.parse.urlencode({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                       "assertion": "%s.%s.%s" % (h, forged, s)})
        st, doc, _ = self.req("POST", "/token", raw=form.encode(),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((st, doc["error_description"]), (400, "Invalid JWT Signature."))

    def test_assertion_claims_are_checked(self):
        cases = [(self.claims(aud="https://elsewhere/token"), "invalid_grant"),
                 (self.claims(iat=int(time.time()) - 4000, exp=int(time.time()) - 400),
                  "invalid_grant"),
                 (self.claims(exp=int(time.time()) + 7200), "invalid_grant"),
                 (self.claims(iss="nobody@x.iam.gserviceaccount.com"), "invalid_grant"),
                 (self.claims(scope="https://www.googleapis.com/auth/other"), "invalid_scope")]
        for claims, err in cases:
            st, doc = self.exchange(claims)
            self.assertEqual((st, doc["error"]), (400, err), claims)
        st, doc = self.exchange(self.claims(), kid="wrong-kid")
        self.assertEqual((st, doc["error"]), (400, "invalid_grant"))
        st, doc = self.exchange(self.claims(), grant="client_credentials")
        self.assertEqual((st, doc["error"]), (400, "unsupported_grant_type"))
        self.assertEqual(self.admin("stats")["tokens"], 1)  # only setUp's

    def test_bad_and_missing_bearer_tokens_are_refused(self):
        for headers in ({}, {"Authorization": "Bearer ya29.not-issued"},
                        {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}):
            st, doc, r = self.req("GET", BASE + "/secrets", headers=headers)
            self.assertEqual(st, 401, headers)
            self.assertEqual(doc["error"]["status"], "UNAUTHENTICATED")
            self.assertIn("Bearer", r.getheader("WWW-Authenticate"))
        self.admin("expire-tokens", {})
        st, doc, _ = self.api("GET", "/secrets")
        self.assertEqual((st, doc["error"]["status"]), (401, "UNAUTHENTICATED"))

    def test_self_signed_jwt_bearer_is_verified(self):
        now = int(time.time())
        good = assertion(self.key, {"iss": EMAIL, "sub": EMAIL, "iat": now, "exp": now + 3600,
                                    "aud": "https://secretmanager.googleapis.com/"})
        self.assertEqual(self.api("GET", "/secrets", token=good)[0], 200)
        bad = assertion(self.other, {"iss": EMAIL, "sub": EMAIL, "iat": now, "exp": now + 3600,
                                     "aud": "https://secretmanager.googleapis.com/"})
        self.assertEqual(self.api("GET", "/secrets", token=bad)[0], 401)

    def test_metadata_server_needs_the_flavor_header(self):
        path = "/computeMetadata/v1/instance/service-accounts/default/token"
        st, _, _ = self.req("GET", path)
        self.assertEqual(st, 403)
        st, doc, r = self.req("GET", path, headers={"Metadata-Flavor": "Google"})
        self.assertEqual(st, 200)
        self.assertEqual(r.getheader("Metadata-Flavor"), "Google")
        self.assertEqual(self.api("GET", "/secrets", token=doc["access_token"])[0], 200)

    def test_workload_identity_exchange_and_impersonation(self):
        aud = "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x"
        self.admin("workload-identity", {"audience": aud, "subject_token": "oidc-token"})
        form = {"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                "audience": aud, "scope": "https://www.googleapis.com/auth/cloud-platform",
                "requested_token_type": "urn:ietf:params:oauth:token-type:access_token",
                "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
                "subject_token": "oidc-token"}
        ct = {"Content-Type": "application/x-www-form-urlencoded"}
        st, doc, _ = self.req("POST", "/v1/token", raw=urllib.parse.urlencode(form).encode(),
                              headers=ct)
        self.assertEqual(st, 200, doc)
        sts = doc["access_token"]
        self.assertEqual(self.api("GET", "/secrets", token=sts)[0], 200)
        st, doc, _ = self.req("POST", "/v1/token", raw=urllib.parse.urlencode(
            dict(form, subject_token="forged")).encode(), headers=ct)
        self.assertEqual((st, doc["error"]), (400, "invalid_grant"))
        path = "/v1/projects/-/serviceAccounts/%s:generateAccessToken" % EMAIL
        body = {"scope": ["https://www.googleapis.com/auth/cloud-platform"], "lifetime": "3600s"}
        st, doc, _ = self.req("POST", path, body, {"Authorization": "Bearer " + sts})
        self.assertEqual(st, 200, doc)
        self.assertIn("expireTime", doc)
        self.assertEqual(self.api("GET", "/secrets", token=doc["accessToken"])[0], 200)
        # only an STS token may impersonate
        st, _, _ = self.req("POST", path, body, {"Authorization": "Bearer " + self.token})
        self.assertEqual(st, 401)

    # -- secrets and versions -------------------------------------------------------------------------
    def test_add_and_access_with_crc(self):
        self.assertEqual(self.api("POST", "/secrets", {"replication": {"automatic": {}},
                                                        "labels": {"env": "prod"}},
                                  query="?secretId=db")[0], 200)
        st, doc, _ = self.add("db", b"my super secret data")
        self.assertEqual(st, 200, doc)
        self.assertEqual(doc["name"], "projects/123456789012/secrets/db/versions/1")
        self.assertEqual(doc["state"], "ENABLED")
        self.assertTrue(doc["clientSpecifiedPayloadChecksum"])
        st, doc, _ = self.api("GET", "/secrets/db/versions/latest:access")
        self.assertEqual(st, 200)
        self.assertEqual(doc["name"], "projects/123456789012/secrets/db/versions/1")
        self.assertEqual(doc["payload"], {"data": "bXkgc3VwZXIgc2VjcmV0IGRhdGE=",
                                          "dataCrc32c": "2525891252"})
        # the number form of dataCrc32c is accepted too
        st, doc, _ = self.api("POST", "/secrets/db:addVersion",
                              {"payload": {"data": "aGVsbG8=", "dataCrc32c": 2591144780}})
        self.assertEqual((st, doc["name"][-1]), (200, "2"))

    def test_wrong_crc32c_is_refused(self):
        self.seed("db")
        st, doc, _ = self.add("db", b"hello", crc=12345)
        self.assertEqual(st, 400)
        self.assertEqual(doc["error"]["status"], "INVALID_ARGUMENT")
        st, doc, _ = self.api("GET", "/secrets/db/versions")
        self.assertEqual(len(doc["versions"]), 1)  # nothing was added
        st, doc, _ = self.add("db", b"hello", crc="not-a-number")
        self.assertEqual(st, 400)
        st, doc, _ = self.api("POST", "/secrets/db:addVersion", {"payload": {"data": "!!"}})
        self.assertEqual(st, 400)
        st, doc, _ = self.api("POST", "/secrets/db:addVersion",
                              {"payload": {"data": "aGk=", "extra": 1}})
        self.assertEqual(st, 400)

    def test_version_states_and_latest(self):
        self.seed("s", versions=("one", "two"))
        self.admin("version-state", {"secret_id": "s", "version": 2, "state": "DISABLED"})
        st, doc, _ = self.api("GET", "/secrets/s/versions/latest:access")
        self.assertEqual((st, doc["error"]["status"]), (400, "FAILED_PRECONDITION"))
        self.assertIn("versions/2] is in DISABLED state", doc["error"]["message"])
        st, doc, _ = self.api("GET", "/secrets/s/versions/1:access")
        self.assertEqual(base64.b64decode(doc["payload"]["data"]), b"one")
        st, doc, _ = self.api("POST", "/secrets/s/versions/1:destroy", {})
        self.assertEqual((st, doc["state"]), (200, "DESTROYED"))
        self.assertIn("destroyTime", doc)
        st, doc, _ = self.api("GET", "/secrets/s/versions/1:access")
        self.assertIn("DESTROYED state", doc["error"]["message"])
        st, doc, _ = self.api("POST", "/secrets/s/versions/2:enable", {})
        self.assertEqual(doc["state"], "ENABLED")
        st, doc, _ = self.api("GET", "/secrets/s/versions", query="?filter=state%3AENABLED")
        self.assertEqual([v["name"][-1] for v in doc["versions"]], ["2"])
        st, doc, _ = self.api("GET", "/secrets/s/versions/9:access")
        self.assertEqual((st, doc["error"]["status"]), (404, "NOT_FOUND"))
        st, doc, _ = self.api("GET", "/secrets/nope/versions/latest:access")
        self.assertEqual((st, doc["error"]["status"]), (404, "NOT_FOUND"))

    def test_list_filter_and_pagination(self):
        for i in range(7):
            self.seed("s%d" % i, labels={"team": "a" if i % 2 else "b", "env": "prod"})
        names, token = [], None
        while True:
            q = "?pageSize=3&filter=" + urllib.parse.quote("labels.team=a")
            if token:
                q += "&pageToken=" + token
            st, doc, _ = self.api("GET", "/secrets", query=q)
            self.assertEqual(st, 200, doc)
            self.assertEqual(doc["totalSize"], 3)
            names += [s["name"].rsplit("/", 1)[1] for s in doc["secrets"]]
            token = doc.get("nextPageToken")
            if not token:
                break
        self.assertEqual(names, ["s5", "s3", "s1"])  # newest first
        st, doc, _ = self.api("GET", "/secrets", query="?pageSize=2")
        tok = doc["nextPageToken"]
        st, doc, _ = self.api("GET", "/secrets", query="?pageSize=2&filter=labels.env%3A*&pageToken=" + tok)
        self.assertEqual((st, doc["error"]["status"]), (400, "INVALID_ARGUMENT"))  # other filter
        st, doc, _ = self.api("GET", "/secrets", query="?pageToken=garbage")
        self.assertEqual(st, 400)
        st, doc, _ = self.api("GET", "/secrets", query="?filter=bogus%3D1")
        self.assertEqual(st, 400)
        st, doc, _ = self.api("GET", "/secrets", query="?unknownParam=1")
        self.assertEqual((st, doc["error"]["status"]), (400, "INVALID_ARGUMENT"))
        st, doc, _ = self.api("GET", "/secrets", query="?%24.xgafv=2&alt=json")
        self.assertEqual(st, 200)
        st, doc, _ = self.api("GET", "/secrets/s1/versions",
                              query="?%24alt=json%3Benum-encoding%3Dint&%24prettyPrint=0")
        self.assertEqual((st, doc["versions"][0]["state"]), (200, 1))  # ENABLED as a number
        st, doc, _ = self.api("GET", "/secrets", query="?alt=proto")
        self.assertEqual(st, 400)

    def test_labels_validation_and_patch(self):
        st, doc, _ = self.api("POST", "/secrets", {"replication": {"automatic": {}},
                                                    "labels": {"Bad": "x"}}, query="?secretId=x")
        self.assertEqual(st, 400)
        st, doc, _ = self.api("POST", "/secrets", {"labels": {}}, query="?secretId=x")
        self.assertEqual(st, 400)  # replication is required
        self.seed("x", labels={"a": "1"})
        st, doc, _ = self.api("POST", "/secrets", {"replication": {"automatic": {}}},
                              query="?secretId=x")
        self.assertEqual((st, doc["error"]["status"]), (409, "ALREADY_EXISTS"))
        st, doc, _ = self.api("PATCH", "/secrets/x", {"labels": {"b": "2"}},
                              query="?updateMask=labels")
        self.assertEqual((st, doc["labels"]), (200, {"b": "2"}))

    def test_project_permission_and_routes(self):
        st, doc, _ = self.req("GET", "/v1/projects/other/secrets",
                              headers={"Authorization": "Bearer " + self.token})
        self.assertEqual((st, doc["error"]["status"]), (403, "PERMISSION_DENIED"))
        self.seed("s")
        self.admin("deny", {"permission": "secretmanager.versions.access", "secret": "s"})
        st, doc, _ = self.api("GET", "/secrets/s/versions/latest:access")
        self.assertEqual((st, doc["error"]["status"]), (403, "PERMISSION_DENIED"))
        self.assertEqual(self.api("GET", "/secrets/s")[0], 200)
        st, doc, _ = self.api("GET", "/secrets/s:bogusVerb")
        self.assertEqual(st, 404)
        # the project number addresses the same project
        st, _, _ = self.req("GET", "/v1/projects/123456789012/secrets/s",
                            headers={"Authorization": "Bearer " + self.token})
        self.assertEqual(st, 200)

    def test_faults(self):
        self.seed("s")
        self.admin("faults", {"target": "access", "retry_after": 2})
        st, doc, r = self.api("GET", "/secrets/s/versions/latest:access")
        self.assertEqual((st, doc["error"]["status"]), (429, "RESOURCE_EXHAUSTED"))
        self.assertEqual(r.getheader("Retry-After"), "2")
        self.admin("faults", {"target": "*", "status": 503, "code": "UNAVAILABLE",
                              "message": "The service is currently unavailable."})
        st, doc, _ = self.api("GET", "/secrets/s")
        self.assertEqual((st, doc["error"]["code"]), (503, 503))
        self.assertEqual(self.api("GET", "/secrets/s/versions/latest:access")[0], 200)
        self.admin("faults", {"target": "access", "corrupt_crc": True})
        st, doc, _ = self.api("GET", "/secrets/s/versions/latest:access")
        self.assertEqual(st, 200)
        self.assertNotEqual(int(doc["payload"]["dataCrc32c"]),
                            crc32c(base64.b64decode(doc["payload"]["data"])))
        log = self.admin("requests")["requests"]
        self.assertEqual([e["status"] for e in log[-4:]], [429, 503, 200, 200])
        self.assertNotIn("djE", json.dumps(log))  # base64 of the value never logged

    def test_control_api_needs_the_admin_header(self):
        st, _, _ = self.req("GET", "/_emulator/requests")
        self.assertEqual(st, 404)


if __name__ == "__main__":
    unittest.main()
