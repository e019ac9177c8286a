// gitops.test.mjs — GitOps observation and the notification outbox in the
// web UI, in headless Chromium against `sbridge dev` run with a config that
// turns gitops_observation on (the argocd plugin loaded) and has one Slack
// notifier whose webhook answers 500 (max_attempts 1: every notification
// becomes a dead letter), beside the strict Argo CD emulator
// (argocd.mjs) and the real agent. The world (team, project, connection,
// agent, catalog, binding) is set up through the API; then, in the browser:
// an Argo CD endpoint is created (validated before submit; its token
// write-only: never in the page, the edit form or the database), health
// checked (a readable and an unreadable application), its token replaced
// (a wrong one makes it unhealthy, the right one healthy again), its
// applications discovered (an unreachable endpoint says so; a reachable
// one's application is picked from the list), mapped to
// the secret binding (a connection mapping added and removed; deleting a
// mapped endpoint is refused and said why); a patch of the binding is
// sealed in the browser, approved and executed, and its request page's
// GitOps panel goes from observing to applied once the emulator rolls the
// application out; the dead letters (channel, kind, attempts, last error)
// are listed. Every page is scanned with axe-core and photographed; no CSP
// violation may be reported.
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, test } from "node:test";
import { startStack } from "./stack.mjs";
import { startArgo } from "./argocd.mjs";
import { checkPage, dependentSteps, launch, newPage, reloadUntil, signIn } from "./browser.mjs";

const ARGO_TOKEN = "argo-ui-token-5d1c";
const CONFIG = `role: dev
log:
  level: info
plugins:
  load:
    - {name: example, file: example.so, capabilities: [provider]}
    - {name: argocd, file: argocd.so, capabilities: [gitops]}
    - {name: slack, file: notify-slack.so, capabilities: [notifier]}
notifiers:
  - name: ops-slack
    plugin: slack
    max_attempts: 1
    config:
      mode: webhook
      webhook_url: \${env:UI_TEST_WEBHOOK}
gitops_observation:
  enabled: true
  timeout: 10m
`;

let stack, argo, hook, browser, admin, developer, approver;

before(async () => {
  argo = await startArgo(ARGO_TOKEN);
  // a webhook that answers every delivery 500 at once: each one fails (a
  // closed port is not as certain: some sandboxes swallow the connection
  // until the plugin's timeout)
  hook = http.createServer((req, res) => req.resume().on("end", () => res.writeHead(500).end("down for the test")));
  await new Promise((resolve) => hook.listen(0, "127.0.0.1", resolve));
  stack = await startStack({ config: CONFIG, env: { UI_TEST_WEBHOOK: `http://127.0.0.1:${hook.address().port}/hook` } });
  browser = await launch();
});

after(async () => {
  const csp = [admin, developer, approver].flatMap((p) => p?.cspViolations ?? []);
  await browser?.close();
  await stack?.stop();
  await argo?.stop();
  hook?.closeAllConnections();
  await new Promise((resolve) => (hook ? hook.close(resolve) : resolve()));
  assert.deepEqual(csp, [], "CSP violations");
});

test("GitOps observation and dead letters in the UI", { timeout: 300_000 }, async (outer) => {
  const step = dependentSteps(outer, () => ({ admin, developer, approver }), "gitops-failed", () => stack.logs());
  const ids = {};

  await step("the world through the API: team, project, environment, connection, agent, catalog, binding", async () => {
    admin = await newPage(browser, stack.url);
    await signIn(admin, "admin", stack.passwords.admin);
    const post = async (url, data, status = 201) => {
      const r = await admin.request.post(url, { data });
      assert.equal(r.status(), status, `${url}: ${await r.text()}`);
      return r.json();
    };
    const team = await post("/api/v1/teams", { name: "payments" });
    const project = await post("/api/v1/projects", { name: "checkout", team_id: team.id });
    const env = await post("/api/v1/environments", { project_id: project.id, name: "prod", kind: "prod" });
    const conn = await post("/api/v1/provider-connections", { name: "vault-a", type: "vault", discovery_interval_s: 300, scope: { address: "http://127.0.0.1:8200", mount: "secret" } });
    ids.connection = conn.id;
    await admin.request.post(`/api/v1/provider-connections/${conn.id}/bindings`, { data: { project_id: project.id } });
    const enrollment = await post(`/api/v1/provider-connections/${conn.id}/agent-enrollment-tokens`, { ttl_seconds: 900 });
    await stack.startAgent("vault-a", enrollment.token);
    const end = Date.now() + 30_000;
    let secret;
    for (;;) {
      await admin.request.post(`/api/v1/provider-connections/${conn.id}/discover-jobs`, { data: {} });
      const found = await (await admin.request.get(`/api/v1/secrets?connection_id=${conn.id}&limit=50`)).json();
      secret = found.items?.find((s) => s.secret_ref === "payments/db");
      if (secret) break;
      assert.ok(Date.now() < end, "discovery did not fill the catalog");
      await admin.waitForTimeout(1000);
    }
    await post(`/api/v1/projects/${project.id}/secret-bindings`, { catalog_secret_id: secret.id, environment_id: env.id, allowed_keys: ["username", "password"], allowed_ops: ["read", "patch"] });
    await argo.control("POST", "apps", { name: "payments-web", deployments: [{ name: "web", replicas: 2 }] });
  });

  await step("an Argo CD endpoint: validated, created with a write-only token, health checked", async () => {
    await admin.getByRole("link", { name: "Admin" }).click();
    await admin.getByRole("link", { name: "GitOps (Argo CD)" }).click();
    await admin.getByText("No Argo CD endpoints yet.").waitFor();
    await admin.getByRole("button", { name: "New Argo CD endpoint" }).click();
    const form = admin.getByRole("form", { name: "New Argo CD endpoint" });
    await form.getByLabel("Endpoint name").fill("Argo Main");
    await form.getByLabel("Base URL").fill("argocd.example.com");
    await form.getByRole("button", { name: "Create endpoint" }).click();
    await form.getByText("lowercase letters, digits and dashes").waitFor(); // validated before submit
    await form.getByText("an http(s) URL").waitFor();
    await form.getByLabel("Endpoint name").fill("argo-main");
    await form.getByLabel("Base URL").fill(argo.url);
    assert.equal(await form.getByLabel("API token").getAttribute("type"), "password");
    await form.getByLabel("API token").fill(ARGO_TOKEN);
    await checkPage(admin, "40-argocd-endpoint-form");
    await form.getByRole("button", { name: "Create endpoint" }).click();
    const row = admin.getByRole("table", { name: "Argo CD endpoints" }).getByRole("row").filter({ hasText: "argo-main" });
    await row.getByText("never checked").waitFor();
    assert.ok(!(await admin.content()).includes(ARGO_TOKEN), "the token is not in the page");
    assert.ok(!stack.dumpDatabase().includes(ARGO_TOKEN), "the token is stored only wrapped");

    await admin.getByRole("button", { name: "Health check argo-main" }).click();
    const health = admin.getByRole("region", { name: "Health of argo-main" });
    await health.getByLabel("Application to read").fill("payments-web");
    await health.getByRole("button", { name: "Check argo-main" }).click();
    await health.getByRole("status").getByText("Healthy").waitFor();
    await health.getByText("payments-web: readable").waitFor();
    await row.getByRole("cell", { name: /^healthy/ }).waitFor();
    await checkPage(admin, "41-argocd-health");
    await health.getByLabel("Application to read").fill("no-such-app");
    await health.getByRole("button", { name: "Check argo-main" }).click();
    await health.getByRole("status").getByText("Unhealthy").waitFor();
    await health.getByText(/no-such-app: not readable — .+/).waitFor();
    await row.getByText(/unhealthy: /).waitFor();
  });

  await step("the token is replaced, never shown back: a wrong one is unhealthy, the right one healthy again", async () => {
    const row = admin.getByRole("table", { name: "Argo CD endpoints" }).getByRole("row").filter({ hasText: "argo-main" });
    const replaceWith = async (token) => {
      await admin.getByRole("button", { name: "Edit argo-main" }).click();
      const edit = admin.getByRole("form", { name: "Edit endpoint argo-main" });
      assert.equal(await edit.getByLabel("Base URL").inputValue(), argo.url, "the form starts from the endpoint");
      assert.equal(await edit.getByLabel("Replace token").inputValue(), "", "the stored token is never shown back");
      await edit.getByLabel("Replace token").fill(token);
      await edit.getByRole("button", { name: "Save endpoint" }).click();
      await edit.waitFor({ state: "detached" });
    };
    const health = admin.getByRole("region", { name: "Health of argo-main" });
    await replaceWith("wrong-token-0000");
    await health.getByLabel("Application to read").fill("payments-web");
    await health.getByRole("button", { name: "Check argo-main" }).click();
    await health.getByText(/payments-web: not readable — .+/).waitFor();
    await replaceWith(ARGO_TOKEN);
    await health.getByRole("button", { name: "Check argo-main" }).click();
    await health.getByText("payments-web: readable").waitFor();
    await row.getByRole("cell", { name: /^healthy/ }).waitFor();
    assert.ok(!(await admin.content()).includes(ARGO_TOKEN));
  });

  await step("app discovery: an unreachable endpoint says so, a reachable one offers its applications to pick", async () => {
    // an endpoint nothing listens on (the discard port), made through the API
    const r = await admin.request.post("/api/v1/argocd-endpoints", { data: { name: "argo-down", base_url: "http://127.0.0.1:9", token: ARGO_TOKEN } });
    assert.equal(r.status(), 201, await r.text());
    await admin.reload();
    const form = admin.getByRole("form", { name: "New application mapping" });
    await form.getByLabel("Endpoint of the application").selectOption({ label: "argo-down" });
    await form.getByRole("alert").filter({ hasText: "argocd_unavailable" }).waitFor();
    await form.getByText("Could not list the applications of argo-down: type the application's name instead.").waitFor();
    await form.getByLabel("Endpoint of the application").selectOption({ label: "argo-main" });
    const picker = form.getByLabel("Discovered application");
    await picker.locator("option", { hasText: "payments-web" }).waitFor({ state: "attached" });
    await checkPage(admin, "42a-gitops-discovered-apps");
    await picker.selectOption({ label: "payments-web (project default, namespace default) — Synced, Healthy" });
    assert.equal(await form.getByLabel("Application name").inputValue(), "payments-web", "picking fills the name");
    const { requests } = await argo.control("GET", "requests");
    assert.ok(requests.some((q) => q.path === "/api/v1/applications" && q.method === "GET"), "the list was read from Argo CD");
  });

  await step("mappings: the binding mapped, a connection mapping added and removed, a mapped endpoint not deleted", async () => {
    const form = admin.getByRole("form", { name: "New application mapping" });
    const table = admin.getByRole("table", { name: "Application mappings" });
    await form.getByLabel("Endpoint of the application").selectOption({ label: "argo-main" });
    await form.getByLabel("Application name").fill("Payments Web");
    await form.getByRole("button", { name: "Add mapping" }).click();
    await form.getByText("the Argo CD application's name").waitFor(); // validated before submit
    // free text is still allowed, and the discovered list offers the same name
    await form.getByLabel("Application name").fill("payments-web");
    assert.equal(await form.getByLabel("Discovered application").inputValue(), "payments-web", "the typed name is a discovered one");
    await form.getByLabel("Project of the secret binding").selectOption({ label: "checkout" });
    await form.getByLabel("Secret binding", { exact: true }).selectOption({ label: "payments/db (project checkout)" });
    await form.getByRole("button", { name: "Add mapping" }).click();
    await table.getByRole("row").filter({ hasText: "payments-web" }).getByText("secret binding payments/db (project checkout)").waitFor();

    await form.getByLabel("Application name").fill("batch-jobs");
    await form.getByLabel("It uses").selectOption("connection");
    await form.getByLabel("Provider connection").selectOption({ label: "vault-a" });
    await form.getByRole("button", { name: "Add mapping" }).click();
    const batch = table.getByRole("row").filter({ hasText: "batch-jobs" });
    await batch.getByText("provider connection vault-a").waitFor();
    await checkPage(admin, "42-gitops-mappings");
    await admin.getByRole("button", { name: "Remove batch-jobs on argo-main" }).click();
    await admin.getByRole("button", { name: "Remove mapping" }).click();
    await batch.waitFor({ state: "detached" });

    await admin.getByRole("button", { name: "Delete argo-main" }).click();
    await admin.getByRole("button", { name: "Delete endpoint" }).click();
    await admin.getByRole("alert").filter({ hasText: "endpoint_in_use" }).waitFor();
    assert.equal(await admin.getByRole("table", { name: "Argo CD endpoints" }).getByRole("row").filter({ hasText: "argo-main" }).count(), 1);
  });

  await step("a patch of the mapped binding: the GitOps panel shows it observed, then applied after the rollout", async () => {
    developer = await newPage(browser, stack.url);
    await signIn(developer, "developer", stack.passwords.developer);
    await developer.getByRole("link", { name: "Requests" }).click();
    await developer.getByRole("link", { name: "New request" }).click();
    await developer.getByLabel("Project").selectOption({ label: "checkout" });
    await developer.getByLabel("Secret").selectOption({ label: "payments/db (read, patch)" });
    await developer.getByLabel("patch").check();
    await developer.getByLabel("password").check();
    await developer.getByLabel("New value for password").fill("gitops-new-password");
    await developer.getByLabel("Justification").fill("rotate the password the web app uses");
    await developer.getByRole("button", { name: "Submit request" }).click();
    await developer.waitForURL(/\/requests\/[0-9a-f-]{36}$/);
    ids.patch = developer.url().split("/").pop();
    const panel = developer.getByRole("region", { name: "GitOps rollout" });
    await panel.getByText("No application is observed for this request").waitFor(); // not executed yet

    approver = await newPage(browser, stack.url);
    await signIn(approver, "approver", stack.passwords.approver);
    await approver.goto(`/requests/${ids.patch}`);
    await approver.getByRole("button", { name: "Approve" }).click();
    await approver.getByText("approve by approver").waitFor();

    const row = panel.getByRole("table", { name: "GitOps observations" }).getByRole("row").filter({ hasText: "payments-web" });
    await reloadUntil(developer, row.getByText("observing", { exact: true }), "no baseline was taken (the observation never became observing)", 45_000).catch(async (e) => {
      const request = await (await admin.request.get(`/api/v1/requests/${ids.patch}`)).text();
      const observations = await (await admin.request.get(`/api/v1/requests/${ids.patch}/gitops-observations`)).text();
      e.message += `\nthe request: ${request}\nits observations: ${observations}`;
      throw e;
    });
    await row.getByText("on argo-main").waitFor();
    await row.getByText(/watching for a rollout/).waitFor();
    await checkPage(developer, "43-gitops-observing");
    await argo.control("POST", "rollout", { app: "payments-web", start_in: 0, pods_after: 1, ready_after: 2, outcome: "healthy" });
    await reloadUntil(developer, row.getByText("applied", { exact: true }), "the rollout was not reported applied", 90_000);
    await row.getByText(/A rollout that began after the change completed/).waitFor();
    await row.getByText("Finished").waitFor();
    await checkPage(developer, "44-gitops-applied");
    const { requests } = await argo.control("GET", "requests");
    assert.ok(requests.length > 0 && requests.every((r) => r.method === "GET"), "Argo CD was only read");
  });

  await step("the dead letters: the channel, kind, attempts and last error of each undeliverable notification", async () => {
    await admin.getByRole("link", { name: "Notifications" }).click();
    const table = admin.getByRole("table", { name: "Dead letters, newest first" });
    const created = table.getByRole("row").filter({ hasText: "request.created" });
    await reloadUntil(admin, created, "no dead letter for the request's creation", 45_000);
    await created.first().getByRole("cell", { name: "ops-slack", exact: true }).waitFor();
    await created.first().getByRole("cell", { name: "1", exact: true }).waitFor(); // attempts
    const cells = await created.first().getByRole("cell").allTextContents();
    assert.ok(cells[5].length > 3 && cells[5] !== "—", `the last error is shown: ${cells[5]}`);
    await checkPage(admin, "45-dead-letters");
    await admin.getByLabel("Show").selectOption("delivered");
    await admin.getByText("No notification has been delivered yet.").waitFor();
  });
});
