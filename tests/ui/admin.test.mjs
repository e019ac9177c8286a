// admin.test.mjs — the web UI's editing pages in headless Chromium against a
// real `sbridge dev` (stack.mjs; no agent needed): custom roles with the
// permission picker (validation before submit, a server error shown, edit,
// delete), grants (create, revoke after confirmation), team members (add,
// remove), workflows with approval groups (create, edit, delete refused by
// the server while a rule uses it), policy rules (create, edit, history,
// delete), personal API tokens on the profile (shown once, usable, revoked),
// GitOps off (no GitOps section) and no dead letters, and pagination (audit
// events load page by page). Every page is scanned with
// axe-core and photographed; no CSP violation may be reported.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startStack } from "./stack.mjs";
import { checkPage, dependentSteps, launch, newPage, signIn } from "./browser.mjs";

let stack, browser, admin, developer;

before(async () => {
  stack = await startStack();
  browser = await launch();
});

after(async () => {
  const csp = [admin, developer].flatMap((p) => p?.cspViolations ?? []);
  await browser?.close();
  await stack?.stop();
  assert.deepEqual(csp, [], "CSP violations");
});

test("admin editing, API tokens and pagination", { timeout: 180_000 }, async (outer) => {
  const step = dependentSteps(outer, () => ({ admin, developer }), "admin-failed", () => stack.logs());
  const table = (caption) => admin.getByRole("table", { name: caption });

  await step("a custom role: validated before submit, a server error shown, created, edited, granted, revoked, deleted", async () => {
    admin = await newPage(browser, stack.url);
    await signIn(admin, "admin", stack.passwords.admin);
    await admin.getByRole("link", { name: "Admin" }).click();
    await admin.getByRole("link", { name: "Users, roles and grants" }).click();
    await table("Roles").getByRole("cell", { name: "system role (read-only)" }).first().waitFor();
    assert.equal(await admin.getByRole("button", { name: "Edit admin" }).count(), 0, "system roles are read-only");

    await admin.getByRole("button", { name: "New role" }).click();
    const form = admin.getByRole("form", { name: "New role" });
    await form.getByLabel("audit.read").waitFor(); // the picker lists the server's catalog
    await form.getByLabel("Role name").fill("Bad Name");
    await form.getByRole("button", { name: "Create role" }).click();
    await form.getByText("lowercase letters, digits and underscores").waitFor();
    await form.getByLabel("Role name").fill("admin");
    await form.getByRole("button", { name: "Create role" }).click();
    await form.getByRole("alert").filter({ hasText: "Choose at least one permission" }).waitFor();
    await form.getByLabel("audit.read").check();
    await form.getByRole("button", { name: "Create role" }).click();
    await form.getByRole("alert").filter({ hasText: /\(\w+/ }).waitFor(); // the server refuses a taken name: its code is shown
    await form.getByLabel("Role name").fill("auditor_lite");
    await form.getByLabel("Role description").fill("reads the audit trail");
    await form.getByLabel("secret.list").check();
    await checkPage(admin, "20-role-form");
    await form.getByRole("button", { name: "Create role" }).click();
    const row = table("Roles").getByRole("row").filter({ hasText: "auditor_lite" });
    // the permissions cell, in any order, once the list has reloaded with the expected ones
    const permissionsBecome = async (want) => {
      const end = Date.now() + 10_000;
      for (;;) {
        const got = (await row.getByRole("cell").nth(2).textContent()).split(", ").sort().join(" ");
        if (got === want) return;
        assert.ok(Date.now() < end, `auditor_lite has ${got}, not ${want}`);
        await admin.waitForTimeout(100);
      }
    };
    await row.waitFor();
    await permissionsBecome("audit.read secret.list");

    await admin.getByRole("button", { name: "Edit auditor_lite" }).click();
    const edit = admin.getByRole("form", { name: "Edit role auditor_lite" });
    assert.equal(await edit.getByLabel("audit.read").isChecked(), true, "the form starts from the role");
    await edit.getByLabel("secret.list").uncheck();
    await edit.getByLabel("agent.list").check();
    await edit.getByRole("button", { name: "Save role" }).click();
    await edit.waitFor({ state: "detached" });
    await permissionsBecome("agent.list audit.read");

    const grantForm = admin.getByRole("form", { name: "New grant" });
    await grantForm.getByLabel("User").selectOption({ label: "developer" });
    await grantForm.getByLabel("Role", { exact: true }).selectOption({ label: "auditor_lite" });
    await grantForm.getByLabel("Scope", { exact: true }).selectOption("global");
    await grantForm.getByRole("button", { name: "Grant role" }).click();
    const revoke = admin.getByRole("button", { name: "Revoke auditor_lite from developer" });
    await revoke.waitFor();
    await checkPage(admin, "21-access");

    // a role still granted cannot be deleted: the server says so
    await admin.getByRole("button", { name: "Delete auditor_lite" }).click();
    await admin.getByRole("button", { name: "Delete role" }).click();
    await admin.getByRole("alert").filter({ hasText: /granted|in use|role_in_use/i }).waitFor();
    assert.equal(await row.count(), 1);

    await revoke.click();
    await admin.getByRole("alertdialog").getByText("developer loses the role auditor_lite").waitFor();
    await admin.getByRole("button", { name: "Revoke grant" }).click();
    await revoke.waitFor({ state: "detached" });
    await admin.getByRole("button", { name: "Delete auditor_lite" }).click();
    await admin.getByRole("button", { name: "Delete role" }).click();
    await row.waitFor({ state: "detached" });
  });

  await step("team members: add and remove", async () => {
    await admin.getByRole("link", { name: "Teams, projects and connections" }).click();
    await admin.getByLabel("Team name").fill("platform");
    await admin.getByRole("button", { name: "Create team" }).click();
    await admin.getByRole("listitem").filter({ hasText: /^platform$/ }).waitFor();
    await admin.getByLabel("Team of the members").selectOption({ label: "platform" });
    await admin.getByText("platform has no members yet.").waitFor();
    await admin.getByLabel("User to add").selectOption({ label: "developer" });
    await admin.getByRole("button", { name: "Add member" }).click();
    const members = admin.getByRole("list", { name: "Members of platform" });
    await members.getByRole("listitem").filter({ hasText: "developer" }).getByRole("button", { name: "Remove developer" }).waitFor();
    await checkPage(admin, "22-team-members");
    await admin.getByRole("button", { name: "Remove developer" }).click();
    await admin.getByText("platform has no members yet.").waitFor();
  });

  await step("a workflow with AND approval groups: created, edited", async () => {
    await admin.getByRole("link", { name: "Workflows", exact: true }).click();
    await admin.getByRole("button", { name: "New workflow" }).click();
    const form = admin.getByRole("form", { name: "New workflow" });
    await form.getByLabel("Workflow name").fill("two-groups");
    await form.getByRole("button", { name: "Add an approval group to the new workflow" }).click();
    await form.getByRole("button", { name: "Create workflow" }).click();
    await form.getByRole("alert").filter({ hasText: /group needs a name|Correct the fields/ }).waitFor();
    await form.getByLabel("Group 1 name").fill("team");
    await form.getByLabel("Group 1: members of the owning team only").check();
    await form.getByRole("button", { name: "Add an approval group to the new workflow" }).click();
    await form.getByLabel("Group 2 name").fill("security");
    await form.getByLabel("Group 2 permission").selectOption("secret.security.approve");
    await form.getByRole("group", { name: /^Group 2 roles/ }).getByLabel("security_approver").check();
    await form.getByLabel("Minimum approvers").fill("99");
    await form.getByRole("button", { name: "Create workflow" }).click();
    await form.getByText("a whole number from 0 to 20").waitFor(); // validated before submit
    await form.getByLabel("Minimum approvers").fill("1");
    await checkPage(admin, "23-workflow-form");
    await form.getByRole("button", { name: "Create workflow" }).click();
    const row = table("Approval workflows").getByRole("row").filter({ hasText: "two-groups" });
    await row.getByText("1 × team (owning team) AND 1 × security (security)").waitFor();

    await admin.getByRole("button", { name: "Edit two-groups" }).click();
    const edit = admin.getByRole("form", { name: "Edit workflow two-groups" });
    assert.equal(await edit.getByLabel("Group 2 name").inputValue(), "security", "the form starts from the stored groups");
    assert.equal(await edit.getByRole("group", { name: /^Group 2 roles/ }).getByLabel("security_approver").isChecked(), true, "a group's roles are stored");
    assert.equal(await edit.getByRole("group", { name: /^Group 1 roles/ }).getByLabel("security_approver").isChecked(), false);
    await edit.getByLabel("Group 1 approvals needed").fill("2");
    await edit.getByRole("button", { name: "Save workflow" }).click();
    await row.getByText("2 × team (owning team) AND 1 × security (security)").waitFor();
    await checkPage(admin, "24-workflows");
  });

  await step("a policy rule: created, edited, its history, deletion order enforced by the server", async () => {
    await admin.getByRole("link", { name: "Policy rules" }).click();
    await admin.getByRole("button", { name: "New policy rule" }).click();
    const form = admin.getByRole("form", { name: "New policy rule" });
    await form.getByLabel("Rule name").fill("prod needs two groups");
    await form.getByRole("button", { name: "Create rule" }).click();
    await form.getByRole("alert").filter({ hasText: "Choose the workflow" }).waitFor();
    await form.getByLabel("Workflow", { exact: true }).selectOption({ label: "two-groups" });
    await form.getByLabel("Priority").fill("500");
    await form.getByLabel("Environment kind").selectOption("prod");
    await form.getByLabel("Secret reference prefix").fill("payments/");
    await checkPage(admin, "25-policy-form");
    await form.getByRole("button", { name: "Create rule" }).click();
    const row = table("Policy rules").getByRole("row").filter({ hasText: "prod needs two groups" });
    await row.getByRole("cell", { name: "500", exact: true }).waitFor();
    await row.getByText("environment_kind=prod").waitFor();

    await admin.getByRole("button", { name: "Edit prod needs two groups" }).click();
    const edit = admin.getByRole("form", { name: "Edit policy rule prod needs two groups" });
    await edit.getByLabel("Priority").fill("600");
    await edit.getByRole("button", { name: "Save rule" }).click();
    await row.getByRole("cell", { name: "600", exact: true }).waitFor();

    await admin.getByRole("button", { name: "History of prod needs two groups" }).click();
    const history = admin.getByRole("region", { name: "History of prod needs two groups" });
    await history.getByText("policy.rule.update").waitFor();
    await history.getByText("policy.rule.create").waitFor();
    await checkPage(admin, "26-policy-history");

    // the workflow is still used by the rule: the server refuses, the UI says why
    await admin.getByRole("link", { name: "Workflows", exact: true }).click();
    await admin.getByRole("button", { name: "Delete two-groups" }).click();
    await admin.getByRole("button", { name: "Delete workflow" }).click();
    await admin.getByRole("alert").filter({ hasText: /polic/i }).waitFor();

    await admin.getByRole("link", { name: "Policy rules" }).click();
    await admin.getByRole("button", { name: "Delete prod needs two groups" }).click();
    await admin.getByRole("button", { name: "Delete rule" }).click();
    await row.waitFor({ state: "detached" });
    await admin.getByRole("link", { name: "Workflows", exact: true }).click();
    await admin.getByRole("button", { name: "Delete two-groups" }).click();
    await admin.getByRole("button", { name: "Delete workflow" }).click();
    await table("Approval workflows").getByRole("row").filter({ hasText: "two-groups" }).waitFor({ state: "detached" });
  });

  await step("a personal API token is shown once, works, and is revoked", async () => {
    developer = await newPage(browser, stack.url);
    await signIn(developer, "developer", stack.passwords.developer);
    await developer.getByRole("link", { name: "Profile" }).click();
    await developer.getByText("You have no API tokens.").waitFor();
    await developer.getByLabel("Token name").fill("ci");
    await developer.getByLabel("Lifetime (days)").fill("0");
    await developer.getByRole("button", { name: "Create token" }).click();
    await developer.getByText("a whole number from 1 to 365").waitFor();
    await developer.getByLabel("Lifetime (days)").fill("7");
    await developer.getByRole("button", { name: "Create token" }).click();
    const token = (await developer.getByTestId("api-token").textContent()).trim();
    assert.match(token, /^sbp_/);
    await developer.getByRole("table", { name: "My API tokens" }).getByRole("cell", { name: "ci", exact: true }).waitFor();
    await checkPage(developer, "27-api-token");
    const me = () => fetch(`${stack.url}/api/v1/users/me`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal((await me()).status, 200, "the token signs in as its owner");
    await developer.reload();
    await developer.getByRole("table", { name: "My API tokens" }).waitFor();
    assert.ok(!(await developer.content()).includes(token), "the token is gone after a reload");
    await developer.getByRole("button", { name: "Revoke ci" }).click();
    await developer.getByRole("button", { name: "Revoke token" }).click();
    const ci = developer.getByRole("table", { name: "My API tokens" }).getByRole("row").filter({ hasText: "sbp_" });
    await ci.getByText("revoked", { exact: true }).waitFor();
    assert.equal(await developer.getByRole("button", { name: "Revoke ci" }).count(), 0, "a revoked token cannot be revoked again");
    assert.equal((await me()).status, 401, "a revoked token is refused");
  });

  await step("GitOps observation off: no GitOps section; notifications: no dead letters", async () => {
    await admin.getByRole("link", { name: "Admin" }).click();
    await admin.getByRole("link", { name: "Notifications" }).click();
    await admin.getByText("No dead letters").waitFor();
    await checkPage(admin, "29-notifications-empty");
    assert.equal(await admin.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "GitOps (Argo CD)" }).count(), 0, "no GitOps link when the server has it off");
    await admin.goto("/admin/gitops");
    await admin.getByText("GitOps observation is off on this server").waitFor();
  });

  await step("lists the API pages load page by page (audit events, 25 at a time)", async () => {
    // more than one page of events: a few teams more, through the API with the admin's session
    for (let i = 0; i < 10; i++) assert.equal((await admin.request.post("/api/v1/teams", { data: { name: `paging-${i}` } })).status(), 201);
    const all = await (await admin.request.get("/api/v1/audit-events?limit=500")).json();
    assert.ok(all.items.length > 25, `the steps above left ${all.items.length} audit events: more than a page is needed`);
    await admin.getByRole("link", { name: "Audit" }).click();
    const rows = admin.getByRole("table", { name: "Audit events, newest first" }).getByRole("row");
    await rows.nth(25).waitFor();
    assert.equal(await rows.count(), 26, "one page of 25 events and the header");
    const first = await rows.nth(1).textContent();
    await admin.getByRole("button", { name: "Load more audit events" }).click();
    await rows.nth(26).waitFor();
    assert.ok((await rows.count()) > 26, "the next page is appended");
    assert.equal(await rows.nth(1).textContent(), first, "appended, not replaced");
    await checkPage(admin, "28-audit-paged");
  });
});
