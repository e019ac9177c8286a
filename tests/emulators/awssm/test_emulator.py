"""Unit tests of the AWS emulator over real HTTP on loopback (python3 -m unittest).

The client here signs with its own small SigV4 implementation (not the emulator's),
and the emulator's verifier is also checked against the official SigV4 suite's signed
requests in tests/data/aws-sigv4 (SB_SIGV4_SUITE overrides).
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import pathlib
import sys
import threading
import time
import unittest
import urllib.parse
from http.server import ThreadingHTTPServer

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # emucommon
sys.path.insert(0, str(HERE))

from awsemu import sigv4  # noqa: E402
from awsemu.control import Emulator  # noqa: E402
from awsemu.errors import AwsError  # noqa: E402
from awsemu.server import Handler  # noqa: E402

AK, SK = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SUITE = pathlib.Path(os.environ.get("SB_SIGV4_SUITE",
                                    HERE.parents[1] / "data" / "aws-sigv4"))


def sign(method, host, target, body, ak=AK, sk=SK, token=None, region="us-east-1",
         service="secretsmanager", when=None, ctype="application/x-amz-json-1.1"):
    """An independent SigV4 signer for the tests (JSON 1.1 request to '/')."""
    t = when or datetime.datetime.now(datetime.timezone.utc)
    amz = t.strftime("%Y%m%dT%H%M%SZ")
    headers = {"host": host, "x-amz-date": amz}
    if ctype is not None:
        headers["content-type"] = ctype
    if target is not None:
        headers["x-amz-target"] = target
    if token is not None:
        headers["x-amz-security-token"] = token
    names = sorted(headers)
    creq = "%s\n/\n\n%s\n%s\n%s" % (method, "".join("%s:%s\n" % (n, headers[n]) for n in names),
                                     ";".join(names), hashlib.sha256(body).hexdigest())
    scope = "%s/%s/%s/aws4_request" % (amz[:8], region, service)
    sts = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (amz, scope, hashlib.sha256(creq.encode()).hexdigest())
    k = ("AWS4" + sk).encode()
    for part in (amz[:8], region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" \
        % (ak, scope, ";".join(names), sig)
    return headers


class EmulatorCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        cls.server.daemon_threads = True
        cls.server.lock = threading.Lock()
        cls.emu = Emulator("us-east-1", "123456789012", AK, SK, 3600, time.time)
        cls.server.emulator = cls.emu
        cls.port = cls.server.server_address[1]
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        self.emu.reset()

    def raw(self, method, path, headers, body=b""):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        out = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, out

    def call(self, op, req=None, prefix="secretsmanager", service="secretsmanager", **kw):
        body = json.dumps(req or {}).encode()
        host = "127.0.0.1:%d" % self.port
        headers = sign("POST", host, "%s.%s" % (prefix, op), body, service=service, **kw)
        status, h, out = self.raw("POST", "/", headers, body)
        return status, h, json.loads(out) if out else None

    def ok(self, op, req=None, **kw):
        status, _, out = self.call(op, req, **kw)
        self.assertEqual(status, 200, out)
        return out

    def err(self, op, req, status, type_, **kw):
        got, h, out = self.call(op, req, **kw)
        self.assertEqual((got, out.get("__type")), (status, type_), out)
        self.assertEqual(h.get("x-amzn-errortype"), type_)
        return out

    def admin(self, name, body=None):
        data = json.dumps(body or {}).encode()
        status, _, out = self.raw("POST" if body is not None else "GET", "/_emulator/" + name,
                                  {"X-Emulator-Admin": "1"}, data if body is not None else b"")
        self.assertEqual(status, 200, out)
        return json.loads(out)

    def kms(self, op, req, service="kms", **kw):
        return self.call(op, req, prefix="TrentService", service=service, **kw)


class SuiteVerification(unittest.TestCase):
    """The emulator's verifier accepts every signed request of the official suite."""

    def test_every_signed_request_verifies_and_a_flipped_signature_fails(self):
        self.assertTrue(SUITE.is_dir(), "SigV4 suite not found at %s" % SUITE)
        cases = sorted(SUITE.rglob("*.sreq"))
        self.assertGreaterEqual(len(cases), 34)
        checked = 0
        for sreq in cases:
            if sreq.stem == "get-vanilla-with-session-token":
                continue  # suite erratum: its .sreq carries get-vanilla's signature
            text = sreq.read_text()
            head, _, body = text.partition("\n\n")
            lines = head.split("\n")
            method, rest = lines[0].split(" ", 1)
            target = rest.rsplit(" HTTP/", 1)[0]
            path, _, query = target.partition("?")
            headers = []
            for line in lines[1:]:
                if line[:1] in (" ", "\t") and headers:
                    headers[-1] = (headers[-1][0], headers[-1][1] + "\n" + line)
                    continue
                name, _, value = line.partition(":")
                headers.append((name, value))
            token = dict((k.lower(), v) for k, v in headers).get("x-amz-security-token")
            creds = {AK: {"secret": SK, "token": token, "expires": None}}
            now = sigv4.amz_time("20150830T123600Z")
            raw_path = urllib.parse.quote(path, safe="/%$")
            with self.subTest(case=sreq.stem):
                got = sigv4.verify(method, raw_path, query, headers, body.encode(), creds,
                                   "us-east-1", "service", now)
                self.assertEqual(got["access_key_id"], AK)
                bad = [(k, v[:-1] + ("0" if v[-1] != "0" else "1"))
                       if k.lower() == "authorization" else (k, v) for k, v in headers]
                with self.assertRaises(AwsError) as ctx:
                    sigv4.verify(method, raw_path, query, bad, body.encode(), creds,
                                 "us-east-1", "service", now)
                self.assertEqual(ctx.exception.type, "InvalidSignatureException")
                checked += 1
        self.assertGreaterEqual(checked, 33)


class Protocol(EmulatorCase):
    def test_missing_target_is_unknown_operation(self):
        body = b"{}"
        headers = sign("POST", "127.0.0.1:%d" % self.port, None, body)
        status, h, out = self.raw("POST", "/", headers, body)
        self.assertEqual((status, json.loads(out)), (404, {"__type": "UnknownOperationException"}))

    def test_wrong_content_type_is_unknown_operation(self):
        body = b"{}"
        headers = sign("POST", "127.0.0.1:%d" % self.port, "secretsmanager.ListSecrets", body,
                       ctype="application/json")
        status, _, out = self.raw("POST", "/", headers, body)
        self.assertEqual((status, json.loads(out)), (404, {"__type": "UnknownOperationException"}))

    def test_wrong_secret_is_invalid_signature(self):
        out = self.err("ListSecrets", {}, 403, "InvalidSignatureException", sk="wrong")
        self.assertEqual(out["Message"], sigv4.MISMATCH)

    def test_tampered_body_is_invalid_signature(self):
        host = "127.0.0.1:%d" % self.port
        headers = sign("POST", host, "secretsmanager.ListSecrets", b"{}")
        status, _, out = self.raw("POST", "/", headers, b'{"MaxResults":1}')
        self.assertEqual((status, json.loads(out)["__type"]), (403, "InvalidSignatureException"))

    def test_expired_signature(self):
        old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=6)
        out = self.err("ListSecrets", {}, 400, "InvalidSignatureException", when=old)
        self.assertTrue(out["Message"].startswith("Signature expired: "), out)

    def test_unknown_key_missing_auth_wrong_scope(self):
        self.err("ListSecrets", {}, 403, "UnrecognizedClientException", ak="AKIDUNKNOWN")
        self.err("ListSecrets", {}, 403, "InvalidSignatureException", region="eu-west-1")
        self.err("ListSecrets", {}, 403, "InvalidSignatureException", service="kms")
        status, _, out = self.raw("POST", "/", {"Content-Type": "application/x-amz-json-1.1",
                                                "X-Amz-Target": "secretsmanager.ListSecrets"},
                                  b"{}")
        self.assertEqual((status, json.loads(out)["__type"]),
                         (403, "MissingAuthenticationTokenException"))

    def test_session_token_checked(self):
        self.admin("credentials", {"access_key_id": "ASIATEMP", "secret_access_key": "s3",
                                   "session_token": "tok", "expires_in": 60})
        self.ok("ListSecrets", {}, ak="ASIATEMP", sk="s3", token="tok")
        self.err("ListSecrets", {}, 403, "UnrecognizedClientException", ak="ASIATEMP", sk="s3")
        self.admin("clock", {"offset": 120})
        when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=120)
        self.err("ListSecrets", {}, 400, "ExpiredTokenException", ak="ASIATEMP", sk="s3",
                 token="tok", when=when)

    def test_throttling_injection(self):
        self.admin("faults", {"target": "GetSecretValue", "count": 1, "retry_after": 2})
        self.admin("secrets", {"name": "a", "string": "x"})
        status, h, out = self.call("GetSecretValue", {"SecretId": "a"})
        self.assertEqual((status, out), (400, {"__type": "ThrottlingException",
                                               "Message": "Rate exceeded"}))
        self.assertEqual(h.get("retry-after"), "2")
        self.assertEqual(self.ok("GetSecretValue", {"SecretId": "a"})["SecretString"], "x")

    def test_a_delay_fault_holds_one_request_while_others_go_on(self):
        self.admin("secrets", {"name": "a", "string": "old"})
        self.admin("faults", {"target": "GetSecretValue", "delay_ms": 800, "count": 1})
        got = {}
        t = threading.Thread(target=lambda: got.update(
            self.ok("GetSecretValue", {"SecretId": "a"})))
        t.start()
        deadline = time.monotonic() + 5
        while not any(e.get("held_ms") for e in self.admin("requests")["requests"]):
            self.assertLess(time.monotonic(), deadline, "the hold was never logged")
            time.sleep(0.01)
        started = time.monotonic()
        self.admin("put-value", {"secret_id": "a", "string": "new"})
        self.ok("ListSecrets", {})
        self.assertLess(time.monotonic() - started, 0.5, "other requests waited for the hold")
        t.join(5)
        self.assertEqual(got.get("SecretString"), "new", "the held read was served after the hold")
        self.assertEqual(self.ok("GetSecretValue", {"SecretId": "a"})["SecretString"], "new")

    def test_non_json_body_and_control_needs_header(self):
        host = "127.0.0.1:%d" % self.port
        headers = sign("POST", host, "secretsmanager.ListSecrets", b"[1")
        status, _, out = self.raw("POST", "/", headers, b"[1")
        self.assertEqual((status, json.loads(out)["__type"]), (400, "SerializationException"))
        status, _, _ = self.raw("GET", "/_emulator/requests", {})
        self.assertEqual(status, 404)


class SecretsOps(EmulatorCase):
    def test_staging_labels_move(self):
        v1 = self.ok("CreateSecret", {"Name": "db", "SecretString": "one"})["VersionId"]
        v2 = self.ok("PutSecretValue", {"SecretId": "db", "SecretString": "two"})["VersionId"]
        v3 = self.ok("PutSecretValue", {"SecretId": "db", "SecretString": "three"})["VersionId"]
        stages = self.ok("DescribeSecret", {"SecretId": "db"})["VersionIdsToStages"]
        self.assertEqual(stages, {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]})
        self.assertNotIn(v1, stages)
        prev = self.ok("GetSecretValue", {"SecretId": "db", "VersionStage": "AWSPREVIOUS"})
        self.assertEqual((prev["SecretString"], prev["VersionId"]), ("two", v2))
        byid = self.ok("GetSecretValue", {"SecretId": "db", "VersionId": v1})
        self.assertEqual((byid["SecretString"], byid["VersionStages"]), ("one", []))
        self.err("GetSecretValue", {"SecretId": "db", "VersionId": v2,
                                    "VersionStage": "AWSCURRENT"}, 400, "InvalidRequestException")
        out = self.err("GetSecretValue", {"SecretId": "db", "VersionStage": "NOPE"}, 400,
                       "ResourceNotFoundException")
        self.assertIn("staging label: NOPE", out["Message"])

    def test_update_version_stage_is_a_compare_and_set(self):
        v1 = self.ok("CreateSecret", {"Name": "db", "SecretString": "one"})["VersionId"]
        v2 = self.ok("PutSecretValue", {"SecretId": "db", "SecretString": "two",
                                        "VersionStages": ["PENDING"]})["VersionId"]
        stages = self.ok("DescribeSecret", {"SecretId": "db"})["VersionIdsToStages"]
        self.assertEqual(stages, {v1: ["AWSCURRENT"], v2: ["PENDING"]})
        # without naming the current holder, or naming a stale one: refused
        self.err("UpdateSecretVersionStage", {"SecretId": "db", "VersionStage": "AWSCURRENT",
                                              "MoveToVersionId": v2}, 400,
                 "InvalidParameterException")
        self.err("UpdateSecretVersionStage", {"SecretId": "db", "VersionStage": "AWSCURRENT",
                                              "MoveToVersionId": v2, "RemoveFromVersionId": v2},
                 400, "InvalidParameterException")
        self.ok("UpdateSecretVersionStage", {"SecretId": "db", "VersionStage": "AWSCURRENT",
                                             "MoveToVersionId": v2, "RemoveFromVersionId": v1})
        self.ok("UpdateSecretVersionStage", {"SecretId": "db", "VersionStage": "PENDING",
                                             "RemoveFromVersionId": v2})
        stages = self.ok("DescribeSecret", {"SecretId": "db"})["VersionIdsToStages"]
        self.assertEqual(stages, {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]})

    def test_client_request_token_idempotency(self):
        self.ok("CreateSecret", {"Name": "db", "SecretString": "one"})
        tok = "a" * 32
        r1 = self.ok("PutSecretValue", {"SecretId": "db", "SecretString": "x",
                                        "ClientRequestToken": tok})
        r2 = self.ok("PutSecretValue", {"SecretId": "db", "SecretString": "x",
                                        "ClientRequestToken": tok})
        self.assertEqual(r1["VersionId"], tok)
        self.assertEqual(r2["VersionId"], tok)
        self.assertEqual(len(self.ok("DescribeSecret", {"SecretId": "db"})["VersionIdsToStages"]), 2)
        self.err("PutSecretValue", {"SecretId": "db", "SecretString": "y",
                                    "ClientRequestToken": tok}, 400, "ResourceExistsException")
        self.err("PutSecretValue", {"SecretId": "db", "SecretString": "y",
                                    "ClientRequestToken": "short"}, 400,
                 "InvalidParameterException")

    def test_binary_round_trip_and_not_found(self):
        blob = base64.b64encode(b"\x00\xffbin").decode()
        arn = self.ok("CreateSecret", {"Name": "b", "SecretBinary": blob})["ARN"]
        got = self.ok("GetSecretValue", {"SecretId": arn})
        self.assertEqual(got["SecretBinary"], blob)
        self.assertNotIn("SecretString", got)
        out = self.err("GetSecretValue", {"SecretId": "nope"}, 400, "ResourceNotFoundException")
        self.assertEqual(out["Message"], "Secrets Manager can't find the specified secret.")
        self.err("CreateSecret", {"Name": "b", "SecretString": "x"}, 400, "ResourceExistsException")
        self.err("PutSecretValue", {"SecretId": "b", "SecretString": "x", "SecretBinary": blob},
                 400, "InvalidParameterException")

    def test_list_paging_filters_and_tags(self):
        for i, (env, team) in enumerate([("prod", "a"), ("dev", "b"), ("prod", "b"),
                                         ("stage", "prod"), ("prod", "c")]):
            self.admin("secrets", {"name": "app/s%d" % i, "string": "v",
                                   "description": "Service %d" % i,
                                   "tags": {"env": env, "team": team}})
        names, token, pages = [], None, 0
        while True:
            req = {"MaxResults": 2}
            if token:
                req["NextToken"] = token
            out = self.ok("ListSecrets", req)
            names += [s["Name"] for s in out["SecretList"]]
            pages += 1
            token = out.get("NextToken")
            if not token:
                break
        self.assertEqual((names, pages), (["app/s%d" % i for i in range(5)], 3))
        entry = self.ok("ListSecrets", {"MaxResults": 1})["SecretList"][0]
        self.assertIn("SecretVersionsToStages", entry)
        self.assertNotIn("VersionIdsToStages", entry)
        self.assertEqual(entry["Tags"], [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "a"}])

        def names_for(filters):
            return [s["Name"] for s in self.ok("ListSecrets", {"Filters": filters})["SecretList"]]
        # tag-key and tag-value match independently: s3 has value "prod" under key team
        self.assertEqual(names_for([{"Key": "tag-key", "Values": ["env"]},
                                    {"Key": "tag-value", "Values": ["prod"]}]),
                         ["app/s0", "app/s2", "app/s3", "app/s4"])
        self.assertEqual(names_for([{"Key": "tag-value", "Values": ["!prod"]}]), ["app/s1"])
        self.assertEqual(names_for([{"Key": "name", "Values": ["app/s1", "app/s4"]}]),
                         ["app/s1", "app/s4"])
        self.assertEqual(names_for([{"Key": "name", "Values": ["APP"]}]), [])
        self.assertEqual(names_for([{"Key": "description", "Values": ["service 3"]}]), ["app/s3"])
        self.err("ListSecrets", {"NextToken": "garbage"}, 400, "InvalidNextTokenException")
        self.err("ListSecrets", {"MaxResults": 101}, 400, "InvalidParameterException")
        self.err("ListSecrets", {"Filters": [{"Key": "colour", "Values": ["x"]}]}, 400,
                 "InvalidParameterException")

    def test_tag_untag_and_request_log_has_no_values(self):
        self.ok("CreateSecret", {"Name": "t", "SecretString": "hunter2-value"})
        self.ok("TagResource", {"SecretId": "t", "Tags": [{"Key": "k", "Value": "v"}]})
        self.assertEqual(self.ok("DescribeSecret", {"SecretId": "t"})["Tags"],
                         [{"Key": "k", "Value": "v"}])
        self.ok("UntagResource", {"SecretId": "t", "TagKeys": ["k"]})
        self.assertNotIn("Tags", self.ok("DescribeSecret", {"SecretId": "t"}))
        log = json.dumps(self.admin("requests"))
        self.assertNotIn("hunter2-value", log)
        self.assertIn("secretsmanager.TagResource", log)


class KmsOps(EmulatorCase):
    def test_encrypt_decrypt_and_errors(self):
        arn = self.admin("kms-keys", {"key_id": "k1", "alias": "alias/sb"})["arn"]
        other = self.admin("kms-keys", {"key_id": "k2"})["arn"]
        pt = base64.b64encode(b"wrap me").decode()
        status, _, enc = self.kms("Encrypt", {"KeyId": "alias/sb", "Plaintext": pt,
                                              "EncryptionContext": {"a": "b"}})
        self.assertEqual((status, enc["KeyId"]), (200, arn))
        status, _, dec = self.kms("Decrypt", {"CiphertextBlob": enc["CiphertextBlob"],
                                              "EncryptionContext": {"a": "b"}})
        self.assertEqual((status, dec["Plaintext"], dec["KeyId"]), (200, pt, arn))
        status, _, out = self.kms("Decrypt", {"CiphertextBlob": enc["CiphertextBlob"]})
        self.assertEqual((status, out["__type"]), (400, "InvalidCiphertextException"))
        blob = bytearray(base64.b64decode(enc["CiphertextBlob"]))
        blob[-40] ^= 1
        status, _, out = self.kms("Decrypt", {"CiphertextBlob": base64.b64encode(blob).decode(),
                                              "EncryptionContext": {"a": "b"}})
        self.assertEqual(out["__type"], "InvalidCiphertextException")
        status, _, out = self.kms("Decrypt", {"CiphertextBlob": enc["CiphertextBlob"],
                                              "KeyId": other, "EncryptionContext": {"a": "b"}})
        self.assertEqual(out["__type"], "IncorrectKeyException")
        status, _, out = self.kms("Encrypt", {"KeyId": "alias/none", "Plaintext": pt})
        self.assertEqual((status, out["__type"]), (400, "NotFoundException"))
        status, _, out = self.kms("Encrypt", {"KeyId": arn, "Plaintext": pt}, service="secretsmanager")
        self.assertEqual(out["__type"], "InvalidSignatureException")


class StsImds(EmulatorCase):
    def form(self, body, signed=False):
        data = urllib.parse.urlencode(body).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signed:
            headers = sign("POST", "127.0.0.1:%d" % self.port, None, data, service="sts",
                           ctype="application/x-www-form-urlencoded")
        return self.raw("POST", "/", headers, data)

    def test_web_identity_then_assume_role(self):
        role = "arn:aws:iam::123456789012:role/sb"
        self.admin("roles", {"role_arn": role, "web_identity_token": "jwt-1"})
        req = {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": role,
               "RoleSessionName": "s", "WebIdentityToken": "jwt-2"}
        status, _, out = self.form(req)
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>InvalidIdentityToken</Code>", out)
        req["WebIdentityToken"] = "jwt-1"
        status, _, out = self.form(req)
        self.assertEqual(status, 200, out)
        text = out.decode()
        get = lambda tag: text.split("<%s>" % tag)[1].split("</%s>" % tag)[0]  # noqa: E731
        self.ok("ListSecrets", {}, ak=get("AccessKeyId"), sk=get("SecretAccessKey"),
                token=get("SessionToken"))
        status, _, out = self.form({"Action": "AssumeRole", "RoleArn": role, "RoleSessionName": "x"})
        self.assertEqual(status, 403)
        status, _, out = self.form({"Action": "AssumeRole", "RoleArn": role,
                                    "RoleSessionName": "x"}, signed=True)
        self.assertEqual(status, 200, out)

    def test_container_credentials(self):
        self.admin("container", {"path": "/v2/credentials/task", "token": "auth-tok"})
        status, _, _ = self.raw("GET", "/v2/credentials/task", {"Authorization": "wrong"})
        self.assertEqual(status, 403)
        status, _, doc = self.raw("GET", "/v2/credentials/task", {"Authorization": "auth-tok"})
        self.assertEqual(status, 200)
        doc = json.loads(doc)
        self.ok("ListSecrets", {}, ak=doc["AccessKeyId"], sk=doc["SecretAccessKey"],
                token=doc["Token"])

    def test_imdsv2_flow(self):
        self.admin("imds", {"role": "node-role"})
        status, _, _ = self.raw("GET", "/latest/meta-data/iam/security-credentials/", {})
        self.assertEqual(status, 401)
        status, _, _ = self.raw("PUT", "/latest/api/token", {})
        self.assertEqual(status, 400)
        status, _, tok = self.raw("PUT", "/latest/api/token",
                                  {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        self.assertEqual(status, 200)
        h = {"X-aws-ec2-metadata-token": tok.decode()}
        status, _, role = self.raw("GET", "/latest/meta-data/iam/security-credentials/", h)
        self.assertEqual((status, role), (200, b"node-role"))
        status, _, doc = self.raw("GET", "/latest/meta-data/iam/security-credentials/node-role", h)
        doc = json.loads(doc)
        self.assertEqual(doc["Code"], "Success")
        self.ok("ListSecrets", {}, ak=doc["AccessKeyId"], sk=doc["SecretAccessKey"],
                token=doc["Token"])


if __name__ == "__main__":
    unittest.main()
