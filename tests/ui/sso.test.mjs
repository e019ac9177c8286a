// sso.test.mjs — single sign-on in the web UI, in headless Chromium: one
// `sbridge dev` with an oidc: section pointing at the strict OpenID provider
// emulator (oidc.mjs; the client secret by ${env:…} reference), and one
// without. Without oidc the sign-in page shows no SSO button; with it the
// button (the configured label) takes the browser through the emulator's
// authorize endpoint and back to the dashboard, signed in as the emulator's
// user (created just in time); a sign-in the control plane refuses (an ID
// token with the wrong nonce) comes back to the sign-in page with the
// reason shown. Pages are scanned with axe-core; no CSP violation may occur.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { freePort, startStack } from "./stack.mjs";
import { startOidc } from "./oidc.mjs";
import { checkPage, launch, newPage } from "./browser.mjs";

const SECRET = "ui-test-oidc-secret-7f3a";
const LABEL = "Sign in with Example ID";

let idp, ssoStack, plainStack, browser;
const pages = [];

before(async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  idp = await startOidc({ secret: SECRET, redirectUri: `${base}/api/v1/auth/oidc/callback` });
  const config = `role: dev
log:
  level: info
plugins:
  load:
    - {name: example, file: example.so, capabilities: [provider]}
oidc:
  issuer: ${idp.issuer}
  client_id: sbridge
  client_secret: \${env:UI_TEST_OIDC_SECRET}
  redirect_uri: ${base}/api/v1/auth/oidc/callback
  button_label: ${LABEL}
`;
  ssoStack = await startStack({ config, env: { UI_TEST_OIDC_SECRET: SECRET }, listen: `127.0.0.1:${port}` });
  plainStack = await startStack();
  browser = await launch();
});

after(async () => {
  const csp = pages.flatMap((p) => p.cspViolations ?? []);
  await browser?.close();
  await ssoStack?.stop();
  await plainStack?.stop();
  await idp?.stop();
  assert.deepEqual(csp, [], "CSP violations");
});

async function page(stack) {
  const p = await newPage(browser, stack.url);
  pages.push(p);
  return p;
}

test("without oidc the sign-in page has no SSO button", async () => {
  const p = await page(plainStack);
  await p.goto("/");
  await p.getByLabel("Username").waitFor();
  assert.equal(await p.getByTestId("sso-button").count(), 0);
});

test("the SSO button signs in through the provider and lands on the dashboard", async () => {
  const p = await page(ssoStack);
  await p.goto("/");
  const button = p.getByRole("link", { name: LABEL });
  await button.waitFor();
  await checkPage(p, "sso-login");
  await button.click();
  await p.getByRole("navigation", { name: "Main" }).waitFor();
  await p.getByRole("heading", { name: "Dashboard" }).waitFor();
  assert.equal(new URL(p.url()).pathname, "/");
  await p.getByText("Ada Lovelace").first().waitFor();
  await checkPage(p, "sso-dashboard");
  const me = await p.evaluate(async () => (await fetch("/api/v1/users/me")).json());
  assert.equal((me.user ?? me).username, "ada");
});

test("a refused sign-on comes back to the sign-in page with the reason", async () => {
  await idp.control("POST", "next-login", { fault: "wrong_nonce" });
  const p = await page(ssoStack);
  await p.goto("/");
  await p.getByRole("link", { name: LABEL }).click();
  const alert = p.getByTestId("sso-error");
  await alert.waitFor();
  assert.match(await alert.textContent(), /could not be verified.*invalid_id_token/);
  assert.equal(new URL(p.url()).searchParams.get("sso_error"), "invalid_id_token");
  assert.equal(await p.getByRole("navigation", { name: "Main" }).count(), 0, "not signed in");
  await checkPage(p, "sso-refused");
});
