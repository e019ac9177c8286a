// browser.mjs — headless Debian Chromium through playwright-core (no browser
// download), an axe-core scan that fails on serious or critical violations,
// screenshots into build/ui-screenshots, and a watch for CSP violations.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const repo = path.resolve(import.meta.dirname, "../..");
export const SHOTS = process.env.SB_UI_SCREENSHOTS ?? path.join(repo, "build/ui-screenshots");

export async function launch() {
  fs.mkdirSync(SHOTS, { recursive: true });
  // playwright-core gives every launch a fresh temporary profile (its own
  // --user-data-dir), removed when the browser closes.
  return chromium.launch({
    executablePath: process.env.SB_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A fresh context (its own cookie jar) and page; console CSP reports are collected. */
export async function newPage(browser, baseURL) {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.cspViolations = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) page.cspViolations.push(m.text());
  });
  return page;
}

/** Serious or critical axe violations of the page as it is now. */
export async function axeViolations(page) {
  // CDP evaluation is not subject to the page's CSP: axe needs no relaxing of it.
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
}

/** A screenshot of the page, then its axe scan: no serious or critical violation. */
export async function checkPage(page, name) {
  await shot(page, name);
  assert.deepEqual(await axeViolations(page), [], `axe on ${name}`);
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Reloads page until locator is there (an agent or the worker works in the background). */
export async function reloadUntil(page, locator, what, ms = 30_000) {
  const end = Date.now() + ms;
  while (!(await locator.count())) {
    assert.ok(Date.now() < end, what);
    await page.waitForTimeout(500);
    await page.reload();
  }
}

export async function signIn(page, username, password) {
  await page.goto("/");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}

function printLogs(step, text) {
  const lines = text.split("\n").filter((l) => l.trim());
  const notable = lines.filter((l) => /"level":"(warn|error)"|\b(WARN|ERROR|FATAL|PANIC)\b/.test(l));
  console.error(`--- after the failure of "${step}": the stack's warnings and errors (last 80) ---`);
  for (const l of notable.slice(-80)) console.error(l);
  console.error("--- the stack's last 60 log lines ---");
  for (const l of lines.slice(-60)) console.error(l);
}

/**
 * Steps of one story that depend on each other: after a failure the rest
 * are skipped, every open page (pages() by name) is photographed as it
 * was, and when logs is given (a stack's logs()) its warnings and errors
 * and its last lines are printed, so a failure seen only in CI can be read.
 * step.broken() names the failed step, if any.
 */
export function dependentSteps(outer, pages, prefix = "failed", logs = null) {
  let broken = null;
  const step = (name, fn) =>
    outer.test(name, { skip: broken ? `after: ${broken}` : false }, async () => {
      try {
        await fn();
      } catch (e) {
        broken = name;
        for (const [who, p] of Object.entries(pages())) if (p) await shot(p, `${prefix}-${who}`).catch(() => {});
        if (logs) printLogs(name, logs());
        throw e;
      }
    });
  step.broken = () => broken;
  return step;
}
