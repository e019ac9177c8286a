// argocd.mjs — the strict Argo CD emulator (tests/emulators/argocd) on a
// free loopback port for the browser tests: accepts one bearer token, and
// its control API (/_emulator/…) adds applications and scripts rollouts.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { until } from "./stack.mjs";

const repo = path.resolve(import.meta.dirname, "../..");

export async function startArgo(token) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sb-argo-"));
  const portFile = path.join(dir, "port");
  const log = path.join(dir, "argo.log");
  const proc = spawn("python3", [path.join(repo, "tests/emulators/argocd/argocd_emulator.py"), "--port", "0", "--port-file", portFile, "--token", token], {
    stdio: ["ignore", fs.openSync(log, "w"), fs.openSync(log, "a")],
  });
  const port = await until("the Argo CD emulator to listen", 20_000, () => {
    if (proc.exitCode !== null) throw new Error(`the Argo CD emulator exited ${proc.exitCode}: ${fs.readFileSync(log, "utf8").slice(-2000)}`);
    return fs.existsSync(portFile) && fs.readFileSync(portFile, "utf8").trim();
  });
  const url = `http://127.0.0.1:${port}`;

  /** One control call (/_emulator/<name>); its JSON answer, or a thrown error unless 200. */
  async function control(method, name, body) {
    const r = await fetch(`${url}/_emulator/${name}`, {
      method,
      headers: { "X-Emulator-Admin": "1", "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`emulator ${method} ${name}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  async function stop() {
    if (proc.exitCode === null) {
      proc.kill("SIGTERM");
      await until("the Argo CD emulator to stop", 10_000, () => proc.exitCode !== null || proc.signalCode !== null).catch(() => proc.kill("SIGKILL"));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }

  return { url, control, stop };
}
