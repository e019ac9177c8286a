// tests/ui/mfa.test.mjs — TOTP MFA and step-up in the web UI (docs/mfa.md),
// in headless Chromium against `sbridge dev` run with an `mfa:` section (dev
// leaves step-up off without one). The tenancy and a pending read request
// are made through the API (the story test covers those pages); the
// catalog row is inserted in SQL, as no agent runs here. An approver without
// a factor is sent to the profile page; enrols an authenticator app there
// (the codes come from node:crypto, RFC 6238); once the verification is
// stale, approving opens the step-up dialog, a wrong code is refused in it,
// the right one verifies and the approval is retried and goes through.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { startStack } from "./stack.mjs";
import { checkPage, dependentSteps, launch, newPage, signIn } from "./browser.mjs";

const CONFIG = `role: dev
log:
  level: info
mfa:
  step_up_window: 15m
`;

let stack, browser, approver;

before(async () => {
  stack = await startStack({ config: CONFIG });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** RFC 4648 base32 (no padding) to bytes. */
function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0;
  const out = [];
  for (const c of text) {
    const i = alphabet.indexOf(c);
    assert.ok(i >= 0, `base32: ${c}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** An authenticator app: RFC 6238 (HMAC-SHA-1, 6 digits, 30 s), each code at a later step than the last. */
function authenticator(secret) {
  const key = base32(secret);
  let last = 0;
  const codeAt = (step) => {
    const msg = Buffer.alloc(8);
    msg.writeBigUInt64BE(BigInt(step));
    const mac = crypto.createHmac("sha1", key).update(msg).digest();
    const off = mac[mac.length - 1] & 0x0f;
    return String((mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000).padStart(6, "0");
  };
  return {
    next() {
      const now = Math.floor(Date.now() / 30_000);
      last = Math.max(now, last + 1);
      assert.ok(last <= now + 1, "codes used up for now");
      return codeAt(last);
    },
    wrong() {
      const now = Math.floor(Date.now() / 30_000);
      const valid = new Set([-1, 0, 1, 2].map((d) => codeAt(now + d)));
      for (let v = 123457; ; v += 7919) {
        const c = String(v % 1_000_000).padStart(6, "0");
        if (!valid.has(c)) return c;
      }
    },
  };
}

/** A signed-in API client (session cookie) for the setup. */
async function apiAs(username, password) {
  const login = await fetch(`${stack.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(login.status, 200, `login ${username}`);
  const cookie = login.headers.get("set-cookie").split(";")[0];
  return async (method, p, body, want = 201) => {
    const r = await fetch(`${stack.url}${p}`, {
      method,
      headers: { Cookie: cookie, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    assert.equal(r.status, want, `${method} ${p}: ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

/** One SQL statement on the embedded database (as its owner). */
function sql(statement) {
  const socket = path.join(stack.dir, "state", "run");
  const bin = fs.readdirSync("/usr/lib/postgresql").map((v) => `/usr/lib/postgresql/${v}/bin/psql`).find((p) => fs.existsSync(p));
  const args = ["-h", socket, "-U", "sbridge", "-d", "sbridge", "-tA", "-v", "ON_ERROR_STOP=1", "-c", statement];
  const asPostgres = process.getuid?.() === 0;
  return execFileSync(asPostgres ? "runuser" : bin, asPostgres ? ["-u", "postgres", "--", bin, ...args] : args).toString("utf8").trim();
}

test("an approver enrols an authenticator app and approves through the step-up dialog", async (outer) => {
  const t = { test: dependentSteps(outer, () => ({ approver }), "mfa-failed", () => stack.logs()) };
  let requestId, app;

  await t.test("setup through the API: a pending read request whose policy requires MFA", async () => {
    const admin = await apiAs("admin", stack.passwords.admin);
    const team = await admin("POST", "/api/v1/teams", { name: "payments" });
    const project = await admin("POST", "/api/v1/projects", { name: "checkout", team_id: team.id });
    const env = await admin("POST", "/api/v1/environments", { project_id: project.id, name: "dev", kind: "non_prod" });
    const conn = await admin("POST", "/api/v1/provider-connections", {
      name: "vault-a",
      type: "vault",
      scope: { address: "https://vault.internal:8200", mount: "kv" },
    });
    await admin("POST", `/api/v1/provider-connections/${conn.id}/bindings`, { project_id: project.id });
    const secret = sql(`INSERT INTO catalog_secrets (connection_id, secret_ref) VALUES ('${conn.id}', 'payments/db') RETURNING id`).split("\n")[0];
    const binding = await admin("POST", `/api/v1/projects/${project.id}/secret-bindings`, {
      catalog_secret_id: secret,
      environment_id: env.id,
      allowed_keys: ["password"],
      allowed_ops: ["read"],
    });
    const developer = await apiAs("developer", stack.passwords.developer);
    const request = await developer("POST", "/api/v1/requests", { kind: "read", binding_id: binding.id, keys: ["password"], justification: "rotate the checkout db" });
    assert.equal(request.state, "pending");
    assert.equal(request.policy?.mfa_required, true, JSON.stringify(request.policy));
    requestId = request.id;
  });

  await t.test("without a factor, approving says to enrol one, with a link to the profile", async () => {
    approver = await newPage(browser, stack.url);
    await signIn(approver, "approver", stack.passwords.approver);
    await approver.goto(`/requests/${requestId}`);
    await approver.getByRole("button", { name: "Approve" }).click();
    const alert = approver.getByRole("alert").filter({ hasText: "enrol a factor in your profile" });
    await alert.waitFor();
    await checkPage(approver, "mfa-01-enrol-first");
    await alert.getByRole("link", { name: "enrol a factor in your profile" }).click();
    await approver.getByRole("heading", { name: "Two-factor authentication" }).waitFor();
    await approver.getByText("You have no second factor yet.").waitFor();
  });

  await t.test("the profile enrols an authenticator app: secret shown once, activated with a code", async () => {
    await approver.getByLabel("Name of the app or device (optional)").fill("phone");
    await approver.getByRole("button", { name: "Add authenticator app" }).click();
    const secret = (await approver.getByTestId("totp-secret").textContent()).trim();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const uri = (await approver.getByTestId("totp-uri").textContent()).trim();
    assert.ok(uri.startsWith("otpauth://totp/Secrets%20Bridge:approver?secret=" + secret + "&"), uri);
    const qr = approver.getByRole("img", { name: "QR code of the authenticator setup link" });
    assert.ok((await qr.locator("path").getAttribute("d")).length > 500, "the QR code is drawn");
    await checkPage(approver, "mfa-02-enrolling");
    app = authenticator(secret);
    await approver.getByLabel("Code from the app").fill(app.wrong());
    await approver.getByRole("button", { name: "Activate" }).click();
    await approver.getByRole("alert").filter({ hasText: "not valid now" }).waitFor();
    await approver.getByLabel("Code from the app").fill(app.next());
    await approver.getByRole("button", { name: "Activate" }).click();
    await approver.getByTestId("totp-secret").waitFor({ state: "detached" });
    await approver.getByRole("cell", { name: "active" }).waitFor();
    assert.ok(!(await approver.content()).includes(secret), "the secret is gone from the page");
    await approver.reload();
    await approver.getByRole("cell", { name: "phone", exact: true }).waitFor();
    assert.ok(!(await approver.content()).includes(secret), "and is never shown again");
    await checkPage(approver, "mfa-03-profile");
    assert.equal(sql(`SELECT count(*) FROM mfa_factors WHERE confirmed_at IS NOT NULL`), "1");
    assert.ok(!stack.dumpDatabase().includes(secret), "the base32 secret is not in the database");
  });

  await t.test("a stale verification: approving opens the step-up dialog, then goes through", async () => {
    // the activation counted as a verification; make it older than the 15-minute window
    sql("UPDATE sessions SET last_mfa_at = last_mfa_at - interval '20 minutes' WHERE last_mfa_at IS NOT NULL");
    await approver.goto(`/requests/${requestId}`);
    await approver.getByLabel("Comment (optional)").fill("ok with a second factor");
    await approver.getByRole("button", { name: "Approve" }).click();
    const dialog = approver.getByRole("dialog", { name: "Confirm with your authenticator app" });
    await dialog.waitFor();
    await checkPage(approver, "mfa-04-step-up");
    await dialog.getByLabel("Authentication code").fill(app.wrong());
    await dialog.getByRole("button", { name: "Verify and continue" }).click();
    await dialog.getByRole("alert").filter({ hasText: "not valid now" }).waitFor();
    await dialog.getByLabel("Authentication code").fill(app.next());
    await dialog.getByRole("button", { name: "Verify and continue" }).click();
    await dialog.waitFor({ state: "detached" });
    await approver.getByText("approved", { exact: true }).first().waitFor();
    assert.equal(sql(`SELECT state FROM requests WHERE id = '${requestId}'`), "approved");
    assert.equal(sql("SELECT count(*) FROM audit_events WHERE action = 'auth.step_up' AND details->>'reason' = 'stale'"), "1");
    assert.equal(sql("SELECT count(*) FROM audit_events WHERE action = 'auth.mfa.verify' AND outcome = 'success'"), "1");
    await checkPage(approver, "mfa-05-approved");
  });
});
