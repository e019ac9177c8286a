"""Unit tests of the Argo CD emulator over real HTTP on loopback (python3 -m unittest).

The emulator's clock is moved through the control API, so timelines are checked
without sleeping.
"""

import http.client
import json
import pathlib
import sys
import threading
import unittest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # emucommon
sys.path.insert(0, str(HERE))

from argoemu.server import make_server  # noqa: E402

TOKEN = "test-token-0123456789"


class EmulatorCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = make_server("127.0.0.1", 0, TOKEN, seed=7)
        cls.emu = cls.server.emulator
        cls.port = cls.server.server_address[1]
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        self.emu.reset()

    def raw(self, method, path, headers=None, body=b""):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        out = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, out

    def get(self, path, token=TOKEN):
        headers = {"Authorization": "Bearer " + token} if token is not None else {}
        status, _, out = self.raw("GET", path, headers)
        return status, json.loads(out)

    def admin(self, name, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        status, _, out = self.raw("POST" if body is not None else "GET", "/_emulator/" + name,
                                  {"X-Emulator-Admin": "1"}, data)
        self.assertEqual(status, 200, out)
        return json.loads(out)

    def grpc_error(self, path, status, code, message, token=TOKEN):
        got, doc = self.get(path, token)
        self.assertEqual((got, doc["code"], doc["error"], doc["message"]),
                         (status, code, message, message), doc)
        self.assertEqual(doc["details"], [])

    def app(self, name="web", **kw):
        kw.setdefault("name", name)
        return self.admin("apps", kw)

    def tree(self, name="web"):
        status, doc = self.get("/api/v1/applications/%s/resource-tree" % name)
        self.assertEqual(status, 200, doc)
        return doc["nodes"]

    def advance(self, seconds):
        self.admin("clock", {"advance": seconds})


class Auth(EmulatorCase):
    def test_missing_wrong_and_expired_tokens_are_401_unauthenticated(self):
        self.app()
        self.grpc_error("/api/v1/applications/web", 401, 16, "no session information", None)
        self.grpc_error("/api/v1/applications/web", 401, 16,
                        "invalid session: token signature is invalid", "wrong")
        self.grpc_error("/api/v1/applications/web", 401, 16,
                        "invalid session: token signature is invalid", TOKEN + "x")
        self.admin("tokens", {"token": "old", "expired": True})
        self.grpc_error("/api/v1/applications/web", 401, 16, "invalid session: token is expired",
                        "old")

    def test_cookie_token_is_accepted_and_the_log_never_holds_a_token(self):
        self.app()
        status, _, _ = self.raw("GET", "/api/v1/applications/web",
                                {"Cookie": "other=1; argocd.token=" + TOKEN})
        self.assertEqual(status, 200)
        self.get("/api/v1/applications/web")
        log = self.admin("requests")["requests"]
        self.assertEqual([e["auth"] for e in log[-2:]], ["cookie", "bearer"])
        self.assertNotIn(TOKEN, json.dumps(log))

    def test_control_api_needs_the_admin_header(self):
        status, _, _ = self.raw("POST", "/_emulator/reset", {}, b"{}")
        self.assertEqual(status, 404)


class ReadOnly(EmulatorCase):
    def test_every_method_but_get_is_refused_and_logged(self):
        self.app()
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            status, _, out = self.raw(method, "/api/v1/applications/web/sync",
                                      {"Authorization": "Bearer " + TOKEN}, b"{}")
            doc = json.loads(out)
            self.assertEqual((status, doc["code"]), (405, 12), doc)
        refused = [e for e in self.admin("requests")["requests"] if e["refused"]]
        self.assertEqual([e["method"] for e in refused], ["POST", "PUT", "PATCH", "DELETE"])


class Visibility(EmulatorCase):
    def test_unknown_app_is_403_without_project_and_404_with_it(self):
        self.app(project="team-a")
        self.grpc_error("/api/v1/applications/nope", 403, 7, "permission denied")
        self.grpc_error("/api/v1/applications/nope/resource-tree", 403, 7, "permission denied")
        self.grpc_error("/api/v1/applications/nope?project=team-a", 404, 5,
                        'applications.argoproj.io "nope" not found')
        self.grpc_error("/api/v1/applications/web?project=team-b", 403, 7, "permission denied")
        status, doc = self.get("/api/v1/applications/web?project=team-a")
        self.assertEqual((status, doc["spec"]["project"]), (200, "team-a"))

    def test_a_token_scoped_to_projects_cannot_read_other_apps(self):
        self.app("a", project="team-a")
        self.app("b", project="team-b")
        self.admin("tokens", {"token": "scoped", "projects": ["team-a"]})
        self.assertEqual(self.get("/api/v1/applications/a", "scoped")[0], 200)
        self.grpc_error("/api/v1/applications/b", 403, 7, "permission denied", "scoped")
        self.grpc_error("/api/v1/applications/b?project=team-b", 403, 7, "permission denied",
                        "scoped")
        status, doc = self.get("/api/v1/applications", "scoped")
        self.assertEqual([i["metadata"]["name"] for i in doc["items"]], ["a"])

    def test_refresh_values_are_checked(self):
        self.app()
        self.grpc_error("/api/v1/applications/web?refresh=soon", 400, 3,
                        'unknown refresh type "soon"')
        self.assertEqual(self.get("/api/v1/applications/web?refresh=normal")[0], 200)


class Listing(EmulatorCase):
    def names(self, query="", token=TOKEN):
        status, doc = self.get("/api/v1/applications" + query, token)
        self.assertEqual(status, 200, doc)
        return [i["metadata"]["name"] for i in doc["items"] or []]

    def test_the_list_is_sorted_by_name_and_filtered_by_projects(self):
        self.app("web", project="team-a", namespace="shop")
        self.app("api", project="team-b")
        self.app("batch", project="team-a")
        self.assertEqual(self.names(), ["api", "batch", "web"])
        self.assertEqual(self.names("?projects=team-a"), ["batch", "web"])
        self.assertEqual(self.names("?project=team-b"), ["api"], "the legacy parameter filters too")
        self.assertEqual(self.names("?projects=team-a&projects=team-b"), ["api", "batch", "web"])
        self.assertEqual(self.names("?projects=team-c"), [])
        status, doc = self.get("/api/v1/applications?projects=team-a")
        web = doc["items"][1]
        self.assertEqual((web["spec"]["project"], web["spec"]["destination"]["namespace"],
                          web["status"]["sync"]["status"], web["status"]["health"]["status"]),
                         ("team-a", "shop", "Synced", "Healthy"))

    def test_an_empty_list_is_null_items_as_grpc_gateway_renders_it(self):
        status, doc = self.get("/api/v1/applications")
        self.assertEqual((status, doc["items"]), (200, None))
        self.assertIn("resourceVersion", doc["metadata"])

    def test_a_scoped_token_sees_only_its_projects_even_when_asking_for_others(self):
        self.app("a", project="team-a")
        self.app("b", project="team-b")
        self.admin("tokens", {"token": "scoped", "projects": ["team-a"]})
        self.assertEqual(self.names(token="scoped"), ["a"])
        self.assertEqual(self.names("?projects=team-b", token="scoped"), [],
                         "a project the token cannot read lists nothing, without an error")

    def test_the_list_needs_a_token_and_answers_faults_as_grpc_errors(self):
        self.app()
        self.grpc_error("/api/v1/applications", 401, 16, "no session information", None)
        self.grpc_error("/api/v1/applications", 401, 16,
                        "invalid session: token signature is invalid", "wrong")
        self.admin("faults", {"target": "list", "status": 503, "message": "unavailable"})
        self.grpc_error("/api/v1/applications", 503, 14, "unavailable")
        self.assertEqual(self.names(), ["web"], "the fault was used once")
        status, _, _ = self.raw("POST", "/api/v1/applications",
                                {"Authorization": "Bearer " + TOKEN}, b"{}")
        self.assertEqual(status, 405, "creating an application is refused")


class Shapes(EmulatorCase):
    def test_new_app_is_healthy_synced_with_one_replicaset(self):
        rev = self.app()["sync_revision"]
        status, doc = self.get("/api/v1/applications/web")
        self.assertEqual(status, 200)
        st = doc["status"]
        self.assertEqual((st["sync"]["status"], st["sync"]["revision"], st["health"]["status"]),
                         ("Synced", rev, "Healthy"))
        self.assertEqual(st["operationState"]["phase"], "Succeeded")
        self.assertRegex(st["operationState"]["finishedAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        nodes = self.tree()
        kinds = sorted(n["kind"] for n in nodes)
        self.assertEqual(kinds, ["Deployment", "Pod", "Pod", "ReplicaSet", "Service"])
        rs = next(n for n in nodes if n["kind"] == "ReplicaSet")
        self.assertEqual(rs["info"], [{"name": "Revision", "value": "Rev:1"}])
        self.assertEqual(rs["parentRefs"][0]["kind"], "Deployment")
        self.assertRegex(rs["name"], r"^web-[bcdfghjklmnpqrstvwxz2456789]{10}$")
        pods = [n for n in nodes if n["kind"] == "Pod"]
        self.assertTrue(all(p["parentRefs"][0]["name"] == rs["name"] for p in pods))

    def test_faults_answer_with_grpc_errors_and_retry_after(self):
        self.app()
        self.admin("faults", {"target": "resource-tree", "status": 429,
                              "message": "too many requests", "retry_after": 3})
        status, headers, out = self.raw("GET", "/api/v1/applications/web/resource-tree",
                                        {"Authorization": "Bearer " + TOKEN})
        self.assertEqual((status, headers.get("retry-after"), json.loads(out)["code"]),
                         (429, "3", 8))
        self.assertEqual(self.get("/api/v1/applications/web/resource-tree")[0], 200)


class Timelines(EmulatorCase):
    def replicasets(self):
        return sorted((n for n in self.tree() if n["kind"] == "ReplicaSet"),
                      key=lambda n: n["info"][0]["value"])

    def health(self):
        return self.get("/api/v1/applications/web")[1]["status"]["health"]["status"]

    def test_rollout_creates_a_new_replicaset_then_becomes_healthy(self):
        self.app()
        old = self.replicasets()[0]["name"]
        self.admin("rollout", {"app": "web", "start_in": 10, "pods_after": 1, "ready_after": 5})
        self.assertEqual(len(self.replicasets()), 1, "nothing happens before the start")
        self.advance(10)
        rss = self.replicasets()
        self.assertEqual([r["info"][0]["value"] for r in rss], ["Rev:1", "Rev:2"])
        self.assertNotEqual(rss[1]["name"], old)
        self.assertEqual(self.health(), "Progressing")
        self.advance(1)
        new_pods = [n for n in self.tree() if n["kind"] == "Pod"
                    and n["parentRefs"][0]["name"] == rss[1]["name"]]
        self.assertEqual([p["health"]["status"] for p in new_pods], ["Progressing"] * 2)
        self.advance(4)
        self.assertEqual(self.health(), "Healthy")
        pods = [n for n in self.tree() if n["kind"] == "Pod"]
        self.assertEqual({p["parentRefs"][0]["name"] for p in pods}, {rss[1]["name"]})
        self.assertTrue(all(p["createdAt"] >= rss[1]["createdAt"] for p in pods))
        op = self.get("/api/v1/applications/web")[1]["status"]["operationState"]
        self.assertEqual(op["phase"], "Succeeded")

    def test_stall_stays_progressing(self):
        self.app()
        self.admin("rollout", {"app": "web", "outcome": "stall"})
        self.advance(3600)
        self.assertEqual(self.health(), "Progressing")
        self.assertEqual(len(self.replicasets()), 2)

    def test_degrade_ends_degraded(self):
        self.app()
        self.admin("rollout", {"app": "web", "outcome": "degrade", "ready_after": 3})
        self.advance(3)
        self.assertEqual(self.health(), "Degraded")
        dep = next(n for n in self.tree() if n["kind"] == "Deployment")
        self.assertIn("progress deadline", dep["health"]["message"])

    def test_failed_operation(self):
        self.app()
        self.admin("fail-operation", {"app": "web", "ready_after": 2})
        self.advance(2)
        st = self.get("/api/v1/applications/web")[1]["status"]
        self.assertEqual((st["operationState"]["phase"], st["sync"]["status"]),
                         ("Failed", "OutOfSync"))
        self.assertEqual(len(self.replicasets()), 1)

    def test_bad_script_is_a_control_error(self):
        self.app()
        status, _, _ = self.raw("POST", "/_emulator/rollout", {"X-Emulator-Admin": "1"},
                                json.dumps({"app": "web", "outcome": "explode"}).encode())
        self.assertEqual(status, 400)


if __name__ == "__main__":
    unittest.main()
