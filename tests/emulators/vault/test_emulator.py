"""Behaviour tests for the Vault emulator: every contract in README.md, positive and negative.

Each test class starts its own emulator process on port 0 (the port is read from the
--port-file, polled with a deadline) and resets it through the control API before each
test. Run: python3 -m unittest discover -s tests/emulators/vault -p 'test_*.py' -v
"""

import base64
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ENVELOPE_KEYS = ["request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info",
                 "warnings", "auth", "mount_type"]
RFC3339NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


def b64(text):
    return base64.b64encode(text.encode()).decode()


class Emulator:
    """A running emulator process and a tiny HTTP client for it."""

    def __init__(self, *extra):
        self.dir = tempfile.TemporaryDirectory()
        port_file = os.path.join(self.dir.name, "port")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "vault_emulator.py"), "--port", "0",
             "--port-file", port_file, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        deadline = time.monotonic() + 15
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("emulator did not start: %s" % self.proc.stderr.read())
            time.sleep(0.02)
        with open(port_file) as handle:
            self.port_text = handle.read()
        self.port = int(self.port_text)
        self.banner = self.proc.stdout.readline()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.dir.cleanup()
        return code

    def call(self, method, path, body=None, token="root", headers=None, raw_body=None):
        """Returns (status, headers, parsed JSON or raw bytes)."""
        hdrs = dict(headers or {})
        if token is not None:
            hdrs.setdefault("X-Vault-Token", token)
        data = raw_body if raw_body is not None else (
            json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=data,
                                     method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, rh, payload = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            status, rh, payload = err.code, err.headers, err.read()
        try:
            return status, rh, json.loads(payload) if payload else None
        except ValueError:
            return status, rh, payload

    def admin(self, method, name, body=None):
        status, _, payload = self.call(method, "/_emulator/" + name, body, token=None,
                                       headers={"X-Emulator-Admin": "1"})
        if status != 200:
            raise AssertionError("control %s %s -> %s %s" % (method, name, status, payload))
        return payload

    def token(self, policies, **extra):
        return self.admin("POST", "tokens", dict(policies=policies, **extra))["token"]

    def policy(self, name, paths):
        self.admin("POST", "policies", {"name": name, "paths": paths})


class Base(unittest.TestCase):
    ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator(*cls.ARGS)

    @classmethod
    def tearDownClass(cls):
        assert cls.emu.stop() == 0, "emulator must exit cleanly on SIGTERM"

    def setUp(self):
        self.emu.admin("POST", "reset")
        self.call = self.emu.call

    def assertErrors(self, result, status, errors):
        self.assertEqual((result[0], result[2]), (status, {"errors": errors}))
        self.assertEqual(result[1]["Content-Type"], "application/json")

    def write(self, path, data, token="root", **options):
        body = {"data": data}
        if options:
            body["options"] = options
        return self.call("POST", "/v1/secret/data/" + path, body, token)


class TransportTest(Base):
    def test_startup_contract(self):
        self.assertRegex(self.emu.port_text, r"^\d+\n$")
        self.assertEqual(self.emu.banner, "vault-emulator listening on 127.0.0.1:%d\n" % self.emu.port)

    def test_non_loopback_host_is_refused(self):
        proc = subprocess.run([sys.executable, os.path.join(HERE, "vault_emulator.py"), "--host",
                               "0.0.0.0", "--port", "0"], capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("loopback", proc.stderr)

    def test_token_header_forms_and_bad_tokens(self):
        self.write("a", {"k": "v"})
        self.assertEqual(self.call("GET", "/v1/secret/data/a", token=None,
                                   headers={"Authorization": "Bearer root"})[0], 200)
        for token in (None, "", "nope"):
            self.assertErrors(self.call("GET", "/v1/secret/data/a", token=token), 403,
                              ["permission denied"])
        short = self.emu.token(["root"], ttl_s=60)
        self.assertEqual(self.call("GET", "/v1/secret/data/a", token=short)[0], 200)
        self.emu.admin("POST", "expire-token", {"token": short})
        self.assertErrors(self.call("GET", "/v1/secret/data/a", token=short), 403, ["permission denied"])
        timed = self.emu.token(["root"], ttl_s=60)
        self.emu.admin("POST", "clock", {"advance_s": 61})
        self.assertErrors(self.call("GET", "/v1/secret/data/a", token=timed), 403, ["permission denied"])

    def test_envelope_shape(self):
        status, headers, body = self.write("a", {"k": "v"})
        self.assertEqual(list(body), ENVELOPE_KEYS)
        self.assertRegex(body["request_id"], r"^[0-9a-f-]{36}$")
        self.assertEqual((body["lease_id"], body["renewable"], body["lease_duration"], body["wrap_info"],
                          body["warnings"], body["auth"], body["mount_type"]), ("", False, 0, None, None, None, "kv"))
        self.assertEqual(headers["Cache-Control"], "no-store")

    def test_put_equals_post_and_list_forms(self):
        self.assertEqual(self.call("PUT", "/v1/secret/data/x/y", {"data": {"a": 1}})[0], 200)
        listed = self.call("LIST", "/v1/secret/metadata/x")
        self.assertEqual(listed[2]["data"], {"keys": ["y"]})
        self.assertEqual(self.call("GET", "/v1/secret/metadata/x?list=true")[2]["data"], {"keys": ["y"]})
        self.assertErrors(self.call("GET", "/v1/secret/metadata/x?list=maybe"), 400, [])

    def test_routing_errors(self):
        self.assertErrors(self.call("GET", "/v1/nomount/data/x"), 404,
                          ['no handler for route "nomount/data/x". route entry not found.'])
        self.assertErrors(self.call("GET", "/v1/secret/bogus/x"), 404, ["unsupported path"])
        self.assertErrors(self.call("GET", "/v1/secret/data/x."), 404, ["unsupported path"])
        self.assertErrors(self.call("FOO", "/v1/secret/data/x"), 405, [])
        self.assertErrors(self.call("DELETE", "/v1/transit/encrypt/k"), 405, ["unsupported operation"])
        self.assertErrors(self.call("GET", "/nothing"), 404, [])
        conn = http.client.HTTPConnection("127.0.0.1", self.emu.port)
        conn.request("GET", "/v1/secret//data/x", headers={"X-Vault-Token": "root"})
        resp = conn.getresponse()
        self.assertEqual((resp.status, resp.getheader("Location")), (301, "/v1/secret/data/x"))
        conn.close()

    def test_body_errors(self):
        self.assertErrors(self.call("POST", "/v1/secret/data/x", raw_body=b"{nope"), 400,
                          ["error parsing JSON"])
        self.assertErrors(self.call("POST", "/v1/secret/data/x", raw_body=b"[1]"), 400,
                          ["error parsing JSON"])
        big = b'{"data":{"v":"' + b"x" * (32 * 1024 * 1024) + b'"}}'
        self.assertErrors(self.call("POST", "/v1/secret/data/x", raw_body=big), 413, ["error parsing JSON"])


class KVTest(Base):
    def test_write_read_versions(self):
        created = self.write("app/db", {"s": "one", "n": 5, "nested": {"l": [1, True, None]}})[2]["data"]
        self.assertEqual(sorted(created), ["created_time", "custom_metadata", "deletion_time",
                                           "destroyed", "version"])
        self.assertRegex(created["created_time"], RFC3339NANO)
        self.assertEqual((created["version"], created["deletion_time"], created["destroyed"]), (1, "", False))
        self.write("app/db", {"s": "two"})
        latest = self.call("GET", "/v1/secret/data/app/db")[2]["data"]
        self.assertEqual((latest["data"], latest["metadata"]["version"]), ({"s": "two"}, 2))
        for query in ("?version=1", "?version=0"):
            self.assertEqual(self.call("GET", "/v1/secret/data/app/db" + query)[0], 200)
        self.assertEqual(self.call("GET", "/v1/secret/data/app/db?version=1")[2]["data"]["data"],
                         {"s": "one", "n": 5, "nested": {"l": [1, True, None]}})
        self.assertErrors(self.call("GET", "/v1/secret/data/app/db?version=9"), 404, [])
        self.assertErrors(self.call("GET", "/v1/secret/data/missing"), 404, [])

    def test_deleted_and_destroyed_versions_are_404_with_envelope(self):
        self.write("k", {"v": 1})
        self.assertEqual(self.call("DELETE", "/v1/secret/data/k")[0], 204)
        status, _, body = self.call("GET", "/v1/secret/data/k")
        self.assertEqual((status, list(body), body["data"]["data"]), (404, ENVELOPE_KEYS, None))
        meta = body["data"]["metadata"]
        self.assertRegex(meta["deletion_time"], RFC3339NANO)
        self.assertEqual((meta["version"], meta["destroyed"]), (1, False))
        self.assertEqual(self.call("POST", "/v1/secret/undelete/k", {"versions": [1]})[0], 204)
        self.assertEqual(self.call("GET", "/v1/secret/data/k")[2]["data"]["data"], {"v": 1})
        self.assertEqual(self.call("POST", "/v1/secret/destroy/k", {"versions": [1]})[0], 204)
        status, _, body = self.call("GET", "/v1/secret/data/k")
        self.assertEqual((status, body["data"]["data"], body["data"]["metadata"]["destroyed"]), (404, None, True))
        self.assertErrors(self.call("POST", "/v1/secret/destroy/k", {}), 400, ["no version number provided"])
        self.assertErrors(self.call("POST", "/v1/secret/delete/k", {}), 400, ["No version number provided"])
        self.write("k", {"v": 2})
        self.assertEqual(self.call("POST", "/v1/secret/delete/k", {"versions": "2"})[0], 204)
        self.assertEqual(self.call("GET", "/v1/secret/data/k")[0], 404)

    def test_delete_version_after_and_clock(self):
        self.call("POST", "/v1/secret/metadata/t", {"delete_version_after": "1h"})
        self.write("t", {"v": 1})
        body = self.call("GET", "/v1/secret/data/t")[2]["data"]
        self.assertNotEqual(body["metadata"]["deletion_time"], "")
        self.assertEqual(body["data"], {"v": 1}, "future deletion_time reads normally")
        self.emu.admin("POST", "clock", {"advance_s": 3601})
        self.assertEqual(self.call("GET", "/v1/secret/data/t")[0], 404)

    def test_check_and_set(self):
        self.assertEqual(self.write("c", {"v": 1}, cas=0)[0], 200)
        self.assertErrors(self.write("c", {"v": 2}, cas=0), 400,
                          ["check-and-set parameter did not match the current version"])
        self.assertErrors(self.write("c", {"v": 2}, cas=5), 400,
                          ["check-and-set parameter did not match the current version"])
        self.assertEqual(self.write("c", {"v": 2}, cas="1")[2]["data"]["version"], 2)
        self.assertErrors(self.write("c", {"v": 3}, cas="abc"), 400, ["error parsing check-and-set parameter"])
        self.assertErrors(self.call("POST", "/v1/secret/data/c", {"options": {"cas": 2}}), 400,
                          ["no data provided"])
        self.assertEqual(self.call("POST", "/v1/secret/data/c", {"data": "text"})[0], 400)
        self.call("POST", "/v1/secret/metadata/c", {"cas_required": True})
        self.assertErrors(self.write("c", {"v": 3}), 400, ["check-and-set parameter required for this call"])
        self.assertEqual(self.call("POST", "/v1/secret/config", {"cas_required": True})[0], 204)
        self.assertErrors(self.write("other", {"v": 1}), 400, ["check-and-set parameter required for this call"])
        self.assertEqual(self.call("GET", "/v1/secret/config")[2]["data"],
                         {"cas_required": True, "delete_version_after": "0s", "max_versions": 0})

    def test_patch(self):
        path = "/v1/secret/data/p"
        merge = {"Content-Type": "application/merge-patch+json"}
        self.assertErrors(self.call("PATCH", path, {"data": {"a": 1}}, headers={"Content-Type": ""}),
                          400, ["mime: no media type"])
        self.assertErrors(self.call("PATCH", path, {"data": {"a": 1}}, headers={"Content-Type": "application/json"}),
                          415, ["PATCH requires Content-Type of application/merge-patch+json, provided application/json"])
        status, _, body = self.call("PATCH", path, {"data": {"a": 1}}, headers=merge)
        self.assertEqual((status, body), (404, None))
        self.write("p", {"a": 1, "b": 2, "o": {"x": 1}})
        self.assertErrors(self.call("PATCH", path, {"data": {"a": 9}, "options": {"cas": 0}}, headers=merge),
                          400, ["check-and-set parameter did not match the current version"])
        done = self.call("PATCH", path, {"data": {"a": 9, "b": None, "o": {"y": 2}}, "options": {"cas": 1}},
                         headers=merge)
        self.assertEqual(done[2]["data"]["version"], 2)
        self.assertEqual(self.call("GET", path)[2]["data"]["data"], {"a": 9, "o": {"x": 1, "y": 2}})

    def test_max_versions_pruning(self):
        self.call("POST", "/v1/secret/metadata/m", {"max_versions": 2})
        for n in range(3):
            self.write("m", {"n": n})
        meta = self.call("GET", "/v1/secret/metadata/m")[2]["data"]
        self.assertEqual((meta["current_version"], meta["oldest_version"], sorted(meta["versions"])),
                         (3, 2, ["2", "3"]))
        self.assertErrors(self.call("GET", "/v1/secret/data/m?version=1"), 404, [])

    def test_metadata_and_custom_metadata(self):
        self.write("app/key", {"v": 1})
        self.assertEqual(self.call("POST", "/v1/secret/metadata/app/key",
                                   {"custom_metadata": {"owner": "jdoe", "n": 5}})[0], 204)
        meta = self.call("GET", "/v1/secret/metadata/app/key")[2]["data"]
        self.assertEqual(sorted(meta), ["cas_required", "created_time", "current_version", "custom_metadata",
                                        "delete_version_after", "max_versions", "oldest_version",
                                        "updated_time", "versions"])
        self.assertEqual(meta["custom_metadata"], {"owner": "jdoe", "n": "5"})
        self.assertEqual(sorted(meta["versions"]["1"]), ["created_time", "deletion_time", "destroyed"])
        self.assertEqual(self.call("GET", "/v1/secret/data/app/key")[2]["data"]["metadata"]["custom_metadata"],
                         {"owner": "jdoe", "n": "5"})
        bad = self.call("POST", "/v1/secret/metadata/app/key", {"custom_metadata": {"x": {"y": 1}}})
        self.assertEqual(bad[0], 400)
        self.assertTrue(bad[2]["errors"][0].startswith("custom_metadata validation failed: "))
        empty = self.call("POST", "/v1/secret/metadata/app/key", {"custom_metadata": {"x": ""}})
        self.assertIn("length of value", empty[2]["errors"][0])
        merge = {"Content-Type": "application/merge-patch+json"}
        self.assertEqual(self.call("PATCH", "/v1/secret/metadata/app/key",
                                   {"custom_metadata": {"owner": None, "team": "a"}}, headers=merge)[0], 204)
        self.assertEqual(self.call("GET", "/v1/secret/metadata/app/key")[2]["data"]["custom_metadata"],
                         {"n": "5", "team": "a"})
        self.assertEqual(self.call("DELETE", "/v1/secret/metadata/app/key")[0], 204)
        self.assertErrors(self.call("GET", "/v1/secret/metadata/app/key"), 404, [])
        self.assertErrors(self.call("LIST", "/v1/secret/metadata/app"), 404, [])

    def test_list_semantics(self):
        for path in ("b", "a/x", "a/y/z", "c/", "a"):
            if not path.endswith("/"):
                self.write(path, {"v": path})
        self.assertEqual(self.call("LIST", "/v1/secret/metadata/")[2]["data"]["keys"], ["a", "a/", "b"])
        self.assertEqual(self.call("LIST", "/v1/secret/metadata/a/")[2]["data"]["keys"], ["x", "y/"])
        self.assertErrors(self.call("LIST", "/v1/secret/metadata/b"), 404, [])
        self.assertErrors(self.call("LIST", "/v1/secret/metadata/none/"), 404, [])
        self.assertErrors(self.call("LIST", "/v1/secret/data/a/"), 404, ["unsupported path"])

    def test_recursive_list_of_5000_is_fast(self):
        items = [{"path": "bulk/f%02d/s%04d" % (i % 50, i), "data": {"v": i},
                  "custom_metadata": {"owner": "t%d" % (i % 3)}} for i in range(5000)]
        self.assertEqual(self.emu.admin("POST", "kv-bulk", {"mount": "secret", "items": items}),
                         {"written": 5000})
        started, found, folders = time.monotonic(), [], ["bulk/"]
        while folders:
            folder = folders.pop()
            for key in self.call("LIST", "/v1/secret/metadata/" + folder)[2]["data"]["keys"]:
                (folders if key.endswith("/") else found).append(folder + key)
        self.assertEqual(len(found), 5000)
        self.assertLess(time.monotonic() - started, 1.0)

    def test_concurrent_writers_lose_no_version(self):
        errors = []

        def writer(n):
            for i in range(25):
                if self.write("shared", {"w": n, "i": i})[0] != 200:
                    errors.append((n, i))
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertEqual(self.call("GET", "/v1/secret/metadata/shared")[2]["data"]["current_version"], 200)

    def test_subkeys(self):
        self.write("s", {"a": 1, "b": {"c": 2, "d": {}}})
        self.assertEqual(self.call("GET", "/v1/secret/subkeys/s")[2]["data"]["subkeys"],
                         {"a": None, "b": {"c": None, "d": None}})
        self.assertEqual(self.call("GET", "/v1/secret/subkeys/s?depth=1")[2]["data"]["subkeys"],
                         {"a": None, "b": None})


class AuthTest(Base):
    def test_lookup_self(self):
        root = self.call("GET", "/v1/auth/token/lookup-self")[2]["data"]
        self.assertEqual((root["id"], root["policies"], root["ttl"], root["expire_time"], root["type"]),
                         ("root", ["root"], 0, None, "service"))
        token = self.emu.token(["p"], ttl_s=3600, explicit_max_ttl_s=7200)
        data = self.call("GET", "/v1/auth/token/lookup-self", token=token)[2]["data"]
        for field in ("accessor", "creation_time", "creation_ttl", "display_name", "expire_time",
                      "explicit_max_ttl", "id", "policies", "renewable", "ttl", "type"):
            self.assertIn(field, data)
        self.assertTrue(data["id"].startswith("hvs."))
        self.assertEqual((data["creation_ttl"], data["explicit_max_ttl"], data["policies"], data["renewable"]),
                         (3600, 7200, ["default", "p"], True))
        self.assertRegex(data["expire_time"], RFC3339NANO)
        self.emu.admin("POST", "clock", {"advance_s": 600})
        self.assertLessEqual(self.call("GET", "/v1/auth/token/lookup-self", token=token)[2]["data"]["ttl"], 3000)

    def test_renew_and_revoke(self):
        token = self.emu.token([], ttl_s=600, explicit_max_ttl_s=5400)
        status, _, body = self.call("POST", "/v1/auth/token/renew-self", {"increment": "1h"}, token=token)
        auth = body["auth"]
        self.assertEqual(list(auth), ["client_token", "accessor", "policies", "token_policies", "metadata",
                                      "lease_duration", "renewable", "entity_id", "token_type", "orphan",
                                      "mfa_requirement", "num_uses"])
        self.assertEqual((status, auth["client_token"], auth["lease_duration"], auth["renewable"]),
                         (200, token, 3600, True))
        capped = self.call("POST", "/v1/auth/token/renew-self", {"increment": "2h"}, token=token)[2]
        self.assertLessEqual(capped["auth"]["lease_duration"], 5400)
        self.assertIn("capped", capped["warnings"][0])
        fixed = self.emu.token([], ttl_s=600, renewable=False)
        self.assertErrors(self.call("POST", "/v1/auth/token/renew-self", {}, token=fixed), 400,
                          ["lease is not renewable"])
        self.assertEqual(self.call("POST", "/v1/auth/token/revoke-self", token=token)[0], 204)
        self.assertErrors(self.call("GET", "/v1/auth/token/lookup-self", token=token), 403, ["permission denied"])

    def test_approle(self):
        self.emu.policy("app", {"secret/data/app/*": ["read"]})
        self.emu.admin("POST", "approle", {"role_id": "rid", "secret_id": "sid", "policies": ["app"],
                                           "token_ttl_s": 900, "renewable": True, "role_name": "web"})
        status, _, body = self.call("POST", "/v1/auth/approle/login", {"role_id": "rid", "secret_id": "sid",
                                                                       "extra": 1}, token=None)
        auth = body["auth"]
        self.assertEqual((status, body["data"], auth["lease_duration"], auth["policies"], auth["metadata"],
                          auth["token_type"], auth["orphan"]),
                         (200, None, 900, ["app", "default"], {"role_name": "web"}, "service", True))
        self.write("app/x", {"v": 1})
        self.assertEqual(self.call("GET", "/v1/secret/data/app/x", token=auth["client_token"])[0], 200)
        self.assertErrors(self.call("POST", "/v1/auth/approle/login", {"role_id": "rid", "secret_id": "bad"},
                                    token=None), 400, ["invalid role or secret ID"])
        self.assertErrors(self.call("POST", "/v1/auth/approle/login", {"role_id": "zz", "secret_id": "sid"},
                                    token=None), 400, ["invalid role or secret ID"])
        self.assertErrors(self.call("POST", "/v1/auth/approle/login", {"role_id": "rid"}, token=None),
                          400, ["missing secret_id"])
        self.assertErrors(self.call("POST", "/v1/auth/approle/login", {"secret_id": "sid"}, token=None),
                          500, ["missing role_id"])

    def test_kubernetes(self):
        self.emu.admin("POST", "kubernetes", {"role": "demo", "jwt": "eyJ.jwt.sig", "policies": ["p"],
                                              "token_ttl_s": 300, "service_account_name": "sa"})
        body = self.call("POST", "/v1/auth/kubernetes/login", {"role": "demo", "jwt": "eyJ.jwt.sig"}, token=None)[2]
        self.assertEqual((body["auth"]["lease_duration"], body["auth"]["metadata"]["role"],
                          body["auth"]["metadata"]["service_account_name"]), (300, "demo", "sa"))
        login = lambda payload: self.call("POST", "/v1/auth/kubernetes/login", payload, token=None)
        self.assertErrors(login({"role": "demo", "jwt": "other"}), 403, ["permission denied"])
        self.assertErrors(login({"role": "X", "jwt": "eyJ.jwt.sig"}), 400, ['invalid role name "X"'])
        self.assertErrors(login({"jwt": "eyJ.jwt.sig"}), 400, ["missing role"])
        self.assertErrors(login({"role": "demo"}), 400, ["missing jwt"])


class PolicyTest(Base):
    def test_globs_deny_and_capabilities(self):
        self.emu.policy("app", {"secret/data/app/*": ["read", "create", "update"],
                                "secret/data/app/locked": ["deny"],
                                "secret/metadata/app/": ["list"],
                                "secret/data/+/shared": ["read"]})
        self.emu.policy("leaky", {"secret/data/app/locked": ["read"]})
        token = self.emu.token(["app", "leaky"])  # deny in one policy beats read in another
        for path in ("app/a", "app/locked", "team/shared", "other/x"):
            self.write(path, {"v": path})
        get = lambda path: self.call("GET", "/v1/secret/data/" + path, token=token)[0]
        self.assertEqual([get(p) for p in ("app/a", "app/locked", "team/shared", "other/x")],
                         [200, 403, 200, 403])
        self.assertEqual(self.call("LIST", "/v1/secret/metadata/app", token=token)[0], 200)
        self.assertErrors(self.call("LIST", "/v1/secret/metadata/", token=token), 403, ["permission denied"])
        self.assertErrors(self.call("DELETE", "/v1/secret/data/app/a", token=token), 403, ["permission denied"])

    def test_create_versus_update(self):
        self.emu.policy("upd", {"secret/data/*": ["update"], "transit/encrypt/*": ["update"]})
        self.emu.policy("crt", {"secret/data/*": ["create"], "transit/encrypt/*": ["create"]})
        upd, crt = self.emu.token(["upd"]), self.emu.token(["crt"])
        self.write("exists", {"v": 1})
        self.assertEqual(self.write("exists", {"v": 2}, token=upd)[0], 200)
        self.assertEqual(self.write("new", {"v": 1}, token=upd)[0], 403)
        self.assertEqual(self.write("new", {"v": 1}, token=crt)[0], 200)
        self.assertEqual(self.write("exists", {"v": 3}, token=crt)[0], 403)
        encrypt = lambda token: self.call("POST", "/v1/transit/encrypt/fresh", {"plaintext": b64("x")}, token)
        self.assertErrors(encrypt(upd), 403, ["permission denied"])
        self.assertEqual(encrypt(crt)[0], 200)
        self.assertEqual(encrypt(upd)[0], 200, "update suffices once the key exists")


class NamespaceTest(Base):
    def test_header_and_path_forms(self):
        self.emu.admin("POST", "namespaces", {"path": "ns1/"})
        ns = {"X-Vault-Namespace": "ns1/"}
        self.assertEqual(self.call("POST", "/v1/secret/data/x", {"data": {"in": "ns1"}}, headers=ns)[0], 200)
        self.assertEqual(self.call("GET", "/v1/ns1/secret/data/x")[2]["data"]["data"], {"in": "ns1"})
        self.assertEqual(self.call("GET", "/v1/secret/data/x", headers={"X-Vault-Namespace": "ns1"})[0], 200)
        self.assertErrors(self.call("GET", "/v1/secret/data/x"), 404, [])
        self.assertErrors(self.call("GET", "/v1/nsX/secret/data/x"), 404,
                          ['no handler for route "nsX/secret/data/x". route entry not found.'])
        scoped = self.emu.token(["root"], namespace="ns1/")
        self.assertEqual(scoped.count("."), 2, "namespace tokens carry the namespace id suffix")
        self.assertEqual(self.call("GET", "/v1/ns1/secret/data/x", token=scoped)[0], 200)
        self.assertErrors(self.call("GET", "/v1/secret/metadata/x", token=scoped), 403, ["permission denied"])


class TransitTest(Base):
    def test_keys_and_round_trip(self):
        self.assertEqual(self.call("POST", "/v1/transit/keys/k", {})[0], 200)
        key = self.call("GET", "/v1/transit/keys/k")[2]["data"]
        self.assertEqual((key["type"], key["latest_version"], key["min_decryption_version"], list(key["keys"])),
                         ("aes256-gcm96", 1, 1, ["1"]))
        out = self.call("POST", "/v1/transit/encrypt/k", {"plaintext": b64("hello")})[2]["data"]
        self.assertEqual(out["key_version"], 1)
        self.assertRegex(out["ciphertext"], r"^vault:v1:[A-Za-z0-9+/=]+$")
        self.assertEqual(len(base64.b64decode(out["ciphertext"][9:])), 12 + 5 + 16)
        plain = self.call("POST", "/v1/transit/decrypt/k", {"ciphertext": out["ciphertext"]})[2]["data"]
        self.assertEqual(plain, {"plaintext": b64("hello")})
        self.assertEqual(self.call("LIST", "/v1/transit/keys")[2]["data"], {"keys": ["k"]})
        self.assertErrors(self.call("GET", "/v1/transit/keys/none"), 404, [])

    def test_errors(self):
        self.call("POST", "/v1/transit/keys/k", {})
        self.assertErrors(self.call("POST", "/v1/transit/encrypt/k", {"plaintext": "not base64!"}), 400,
                          ["illegal base64 data at input byte 3"])
        self.assertErrors(self.call("POST", "/v1/transit/encrypt/k", {}), 400, ["missing plaintext to encrypt"])
        good = self.call("POST", "/v1/transit/encrypt/k", {"plaintext": b64("x")})[2]["data"]["ciphertext"]
        raw = bytearray(base64.b64decode(good[9:]))
        raw[-1] ^= 1
        tampered = "vault:v1:" + base64.b64encode(bytes(raw)).decode()
        decrypt = lambda ct, key="k": self.call("POST", "/v1/transit/decrypt/" + key, {"ciphertext": ct})
        self.assertErrors(decrypt(tampered), 400, ["cipher: message authentication failed"])
        self.assertErrors(decrypt("garbage"), 400, ["invalid ciphertext: no prefix"])
        self.assertErrors(decrypt("vault:v9:AAAA"), 400, ["invalid ciphertext: version is too new"])
        self.assertErrors(decrypt("vault:v1:AAAA"), 400, ["invalid ciphertext length"])
        self.assertErrors(decrypt(good, "nokey"), 400, ["encryption key not found"])

    def test_rotation_min_decryption_rewrap_datakey(self):
        self.call("POST", "/v1/transit/keys/k", {})
        old = self.call("POST", "/v1/transit/encrypt/k", {"plaintext": b64("v1")})[2]["data"]["ciphertext"]
        self.assertEqual(self.call("POST", "/v1/transit/keys/k/rotate")[2]["data"]["latest_version"], 2)
        pinned = self.call("POST", "/v1/transit/encrypt/k", {"plaintext": b64("x"), "key_version": 1})
        self.assertEqual(pinned[2]["data"]["key_version"], 1)
        rewrapped = self.call("POST", "/v1/transit/rewrap/k", {"ciphertext": old})[2]["data"]
        self.assertTrue(rewrapped["ciphertext"].startswith("vault:v2:"))
        self.call("POST", "/v1/transit/keys/k/config", {"min_decryption_version": 2})
        self.assertErrors(self.call("POST", "/v1/transit/decrypt/k", {"ciphertext": old}), 400,
                          ["ciphertext or signature version is disallowed by policy (too old)"])
        self.assertEqual(self.call("POST", "/v1/transit/decrypt/k", {"ciphertext": rewrapped["ciphertext"]})[2]
                         ["data"]["plaintext"], b64("v1"))
        plain = self.call("POST", "/v1/transit/datakey/plaintext/k", {"bits": 128})[2]["data"]
        self.assertEqual(len(base64.b64decode(plain["plaintext"])), 16)
        back = self.call("POST", "/v1/transit/decrypt/k", {"ciphertext": plain["ciphertext"]})[2]["data"]
        self.assertEqual(back["plaintext"], plain["plaintext"])
        self.assertNotIn("plaintext", self.call("POST", "/v1/transit/datakey/wrapped/k", {})[2]["data"])

    def test_batch(self):
        self.call("POST", "/v1/transit/keys/k", {})
        ok = self.call("POST", "/v1/transit/encrypt/k", {"batch_input": [
            {"plaintext": b64("a"), "reference": "r1"}, {"plaintext": b64("b")}]})
        results = ok[2]["data"]["batch_results"]
        self.assertEqual((ok[0], [r["reference"] for r in results]), (200, ["r1", ""]))
        mixed = self.call("POST", "/v1/transit/decrypt/k", {"batch_input": [
            {"ciphertext": results[0]["ciphertext"]}, {"ciphertext": "bad"}]})
        self.assertEqual(mixed[0], 400)
        self.assertEqual(mixed[2]["data"]["batch_results"],
                         [{"plaintext": b64("a"), "reference": ""},
                          {"plaintext": "", "error": "invalid ciphertext: no prefix", "reference": ""}])
        partial = self.call("POST", "/v1/transit/decrypt/k", {"partial_failure_response_code": 207, "batch_input": [
            {"ciphertext": results[0]["ciphertext"]}, {"ciphertext": "bad"}]})
        self.assertEqual(partial[0], 207)


class ControlTest(Base):
    def test_admin_header_required(self):
        self.assertErrors(self.call("POST", "/_emulator/reset", {}, token=None), 404, [])

    def test_faults(self):
        self.write("f", {"v": 1})
        self.emu.admin("POST", "faults", {"method": "GET", "path_regex": "^/v1/secret/data/.*", "status": 429,
                                          "retry_after": "2", "count": 2})
        for _ in range(2):
            status, headers, body = self.call("GET", "/v1/secret/data/f")
            self.assertEqual((status, headers["Retry-After"], body),
                             (429, "2", {"errors": ['request path "secret/data/f": rate limit quota exceeded']}))
        self.assertEqual(self.call("GET", "/v1/secret/data/f")[0], 200)
        self.emu.admin("POST", "faults", {"path_regex": "/v1/sys/", "status": 503})
        self.assertErrors(self.call("GET", "/v1/sys/health", token=None), 503, ["Vault is sealed"])
        self.emu.admin("POST", "faults", {"path_regex": "data/f$", "status": 500, "body": {"errors": ["boom"]},
                                          "delay_ms": 150})
        started = time.monotonic()
        self.assertErrors(self.call("GET", "/v1/secret/data/f"), 500, ["boom"])
        self.assertGreaterEqual(time.monotonic() - started, 0.15)

    def test_truncate_and_drop(self):
        self.write("f", {"v": 1})
        self.emu.admin("POST", "faults", {"path_regex": "data/f$", "truncate": True})
        conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=10)
        conn.request("GET", "/v1/secret/data/f", headers={"X-Vault-Token": "root"})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        with self.assertRaises(http.client.IncompleteRead):
            resp.read()
        conn.close()
        self.emu.admin("POST", "faults", {"path_regex": "data/f$", "drop": True})
        conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=10)
        conn.request("GET", "/v1/secret/data/f", headers={"X-Vault-Token": "root"})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            conn.getresponse()
        conn.close()
        self.assertEqual(self.call("GET", "/v1/secret/data/f")[0], 200)

    def test_request_log(self):
        self.emu.admin("DELETE", "requests")
        self.call("POST", "/v1/secret/data/r", {"data": {"v": 1}}, headers={"X-Vault-Namespace": "ns9/"})
        self.call("GET", "/v1/sys/health", token=None)
        log = self.emu.admin("GET", "requests")
        self.assertEqual([(e["method"], e["path"], e["has_token"], e["namespace"]) for e in log],
                         [("POST", "/v1/secret/data/r", True, "ns9/"), ("GET", "/v1/sys/health", False, None)])
        self.assertIn("X-Vault-Token", log[0]["headers"])
        self.assertEqual((log[0]["body"], log[0]["status"]), ({"data": {"v": 1}}, 404))
        self.assertNotIn('"root"', json.dumps(log))

    def test_mounts_kv_write_and_reset(self):
        self.emu.admin("POST", "mounts", {"path": "kv2/", "type": "kv-v2"})
        self.assertEqual(self.emu.admin("POST", "kv/kv2/a/b", {"data": {"x": 1}, "custom_metadata": {"o": "t"}}),
                         {"version": 1})
        body = self.call("GET", "/v1/kv2/data/a/b")[2]["data"]
        self.assertEqual((body["data"], body["metadata"]["custom_metadata"]), ({"x": 1}, {"o": "t"}))
        self.emu.admin("POST", "reset")
        self.assertEqual(self.call("GET", "/v1/kv2/data/a/b")[0], 404)
        self.assertEqual(self.call("GET", "/v1/auth/token/lookup-self")[0], 200)

    def test_control_validation(self):
        status, _, body = self.call("POST", "/_emulator/policies", {"name": "p", "paths": {"a/*": ["fly"]}},
                                    token=None, headers={"X-Emulator-Admin": "1"})
        self.assertEqual(status, 400)
        self.assertIn("unknown capabilities", body["errors"][0])


class FlagsTest(unittest.TestCase):
    def test_require_request_header_and_multierror(self):
        emu = Emulator("--require-request-header", "--multierror-403", "--root-token", "s3cret")
        try:
            self.assertEqual(emu.call("GET", "/v1/auth/token/lookup-self", token="s3cret")[:3:2],
                             (412, {"errors": ['missing "X-Vault-Request" header']}))
            vault = {"X-Vault-Request": "true"}
            self.assertEqual(emu.call("GET", "/v1/auth/token/lookup-self", token="s3cret", headers=vault)[0], 200)
            self.assertEqual(emu.call("GET", "/v1/secret/data/x", token="bad", headers=vault)[2],
                             {"errors": ["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"]})
            emu.policy("none", {"other/*": ["read"]})
            limited = emu.token(["none"])
            self.assertEqual(emu.call("GET", "/v1/secret/data/x", token=limited, headers=vault)[2],
                             {"errors": ["1 error occurred:\n\t* permission denied\n\n"]})
            self.assertEqual(emu.call("GET", "/v1/secret/nope", token="s3cret", headers=vault)[2],
                             {"errors": ["1 error occurred:\n\t* unsupported path\n\n"]})
        finally:
            self.assertEqual(emu.stop(), 0)

    def test_seed_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump({"kv": {"secret": {"path/a": {"data": {"k": "v"}, "custom_metadata": {"o": "x"}}}},
                       "policies": [{"name": "r", "paths": {"secret/data/*": ["read"]}}],
                       "tokens": [{"token": "hvs.fixed", "policies": ["r"]}]}, handle)
        emu = Emulator("--seed", handle.name)
        try:
            body = emu.call("GET", "/v1/secret/data/path/a", token="hvs.fixed")[2]["data"]
            self.assertEqual((body["data"], body["metadata"]["custom_metadata"]), ({"k": "v"}, {"o": "x"}))
            emu.admin("POST", "reset")
            self.assertEqual(emu.call("GET", "/v1/secret/data/path/a", token="hvs.fixed")[0], 200)
        finally:
            self.assertEqual(emu.stop(), 0)
            os.unlink(handle.name)


if __name__ == "__main__":
    unittest.main()
